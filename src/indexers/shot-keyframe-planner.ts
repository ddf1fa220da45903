// Settles shot keyframes while the job's one decode is still running (src/media/keyframe-
// candidates.ts keeps the frames they need): every few seconds of media the shot detector runs on
// the last minute of analysis frames, and boundaries far enough behind the newest frame are taken
// as final. The detector looks at most a few seconds around a frame (cut medians 1.5 s, dissolve
// windows 1 s plus 0.3 s sides, fade ramps ≤ 2.5 s), so a boundary 10 s behind the decode position
// and 10 s after the window's start is where the whole-video run puts it; between two settled
// boundaries the keyframe is picked as the shots stage picks it. Where the final shots still
// differ, the keyframe is not served from the decode and is sought on its own (counted).
import type { Config } from '../config.js';
import type { RawFrame } from '../media/frames.js';
import type { KeyframePlanner } from '../media/keyframe-candidates.js';
import { chooseKeyframe, detectShotBoundaries, frameFeatures, type FrameFeatures } from './shot-detection.js';
import { shotFrameRequest } from './shots.js';

/** The detector runs again after this much media. */
const RUN_EVERY_SEC = 5;
/** Boundaries are final this far behind the newest frame and this far after the window's start. */
const SETTLE_HORIZON_SEC = 10;
/** Analysis frames the detector sees per run. */
const WINDOW_SEC = 60;

export function createShotKeyframePlanner(config: Config): KeyframePlanner {
  const fps = config.indexing.shotSampleFps;
  const frames: FrameFeatures[] = [];
  /** Start of the first shot not settled yet, and the index of its first frame. */
  let openShotStart = 0;
  let openShotIndex = 0;
  let lastRun = Number.NEGATIVE_INFINITY;

  const settle = (now: number): number[] => {
    let from = frames.length - 1;
    while (from > 0 && frames[from - 1]!.time >= now - WINDOW_SEC) from--;
    const window = frames.slice(from);
    const earliest = from === 0 ? Number.NEGATIVE_INFINITY : window[0]!.time + SETTLE_HORIZON_SEC;
    const keyframes: number[] = [];
    for (const boundary of detectShotBoundaries(window, { fps })) {
      if (boundary.time <= openShotStart || boundary.time < earliest) continue;
      if (boundary.time > now - SETTLE_HORIZON_SEC) break;
      const keyframe = chooseKeyframe(frames.slice(openShotIndex), openShotStart, boundary.time);
      keyframes.push(keyframe?.time ?? (openShotStart + boundary.time) / 2);
      openShotStart = boundary.time;
      while (openShotIndex < frames.length && frames[openShotIndex]!.time < openShotStart) openShotIndex++;
    }
    return keyframes;
  };

  return {
    request: { ...shotFrameRequest(config), strict: false },
    perSec: fps,
    add(frame: RawFrame) {
      frames.push(frameFeatures(frame.time, frame.data, frame.width, frame.height));
      if (frame.time - lastRun < RUN_EVERY_SEC) return { keyframes: [], settledUntil: openShotStart };
      lastRun = frame.time;
      return { keyframes: settle(frame.time), settledUntil: openShotStart };
    },
  };
}
