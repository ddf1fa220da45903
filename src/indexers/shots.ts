// Stage "shots": decode the video once at low resolution and rate, find shot boundaries (cuts,
// fades, dissolves) and a good-looking keyframe per shot. Pure computation: the shots are stored
// by the segments stage together with the segments, in one atomic replace.
import type { ShotRecord } from '../domain.js';
import type { Config } from '../config.js';
import type { MediaProbe } from '../media/probe.js';
import type { FrameRequest } from '../media/source.js';
import { stageFrames } from './stage-media.js';
import { chooseKeyframe, detectShotBoundaries, frameFeatures, keyframeQuality, type FrameFeatures } from './shot-detection.js';
import type { Stage } from './stage.js';

/** Width of the analysis frames: enough for colour and layout, cheap to decode and compare. */
export const SHOT_ANALYSIS_WIDTH = 96;
/**
 * Shot keyframes are chosen among the analysis frames at about this rate, which the job's decode
 * keeps (as JPEGs) at the widths the shot-aware stages read, so those stages decode nothing.
 * 2 per second: a candidate in every shot of at least the minimum shot length (0.5 s), and a
 * fifth of the cost and disk of keeping every 10-fps analysis frame.
 */
export const KEYFRAME_CANDIDATE_FPS = 2;
/** Keyframe quality is kept for the best frame of every bucket of this many seconds. */
const QUALITY_BUCKET_SEC = 0.5;

export interface ShotsOutput {
  shots: ShotRecord[];
  /** [time, quality] of the best frame per half second, for choosing segment keyframes later. */
  quality: [number, number][];
}

export function shotId(videoId: string, index: number): string {
  return `${videoId}:shot:${index}`;
}

/** Shots from detected boundaries, with a keyframe each; the last shot ends at `durationSec`. */
export function buildShots(videoId: string, frames: readonly FrameFeatures[], fps: number, durationSec: number): ShotRecord[] {
  const boundaries = detectShotBoundaries(frames, { fps });
  const starts = [{ time: 0, kind: 'START' as const }, ...boundaries.map((b) => ({ time: b.time, kind: b.kind }))];
  return starts.map((s, index) => {
    const end = index + 1 < starts.length ? starts[index + 1]!.time : durationSec;
    const keyframe = chooseKeyframe(frames, s.time, end, keyframeCandidateStride(fps));
    return {
      id: shotId(videoId, index),
      videoId,
      index,
      start: s.time,
      end,
      keyframeTime: keyframe?.time ?? (s.time + end) / 2,
      transition: s.kind,
    };
  });
}

function qualityBuckets(frames: readonly FrameFeatures[]): [number, number][] {
  const best = new Map<number, [number, number]>();
  for (const f of frames) {
    const bucket = Math.floor(f.time / QUALITY_BUCKET_SEC);
    const q = keyframeQuality(f);
    const current = best.get(bucket);
    if (!current || q > current[1]) best.set(bucket, [Math.round(f.time * 1000) / 1000, Math.round(q * 1e6) / 1e6]);
  }
  return [...best.values()].sort((a, b) => a[0] - b[0]);
}

/** Every how many analysis frames one is a keyframe candidate. */
export function keyframeCandidateStride(fps: number): number {
  return Math.max(1, Math.round(fps / KEYFRAME_CANDIDATE_FPS));
}

/** The analysis stream; strict: a file that breaks mid-way fails here, before anything is stored. */
export function shotFrameRequest(config: Config): FrameRequest {
  return { fps: config.indexing.shotSampleFps, width: SHOT_ANALYSIS_WIDTH, pixFmt: 'rgb24', strict: true };
}

export const shotsStage: Stage<{ probe: MediaProbe }, ShotsOutput> & { name: 'shots' } = {
  name: 'shots',
  weight: 5,
  needs: ['probe'],
  media: (_video, config) => {
    const fps = config.indexing.shotSampleFps;
    return { frames: [shotFrameRequest(config)], keyframeCandidates: { fps, every: keyframeCandidateStride(fps) } };
  },
  async run(ctx, { probe }) {
    const fps = ctx.config.indexing.shotSampleFps;
    const frames: FrameFeatures[] = [];
    const duration = probe.durationSec;
    for await (const frame of stageFrames(ctx, shotFrameRequest(ctx.config))) {
      frames.push(frameFeatures(frame.time, frame.data, frame.width, frame.height));
      if (duration > 0) ctx.reportProgress(Math.min(1, frame.time / duration));
    }
    const lastFrameEnd = frames.length ? frames[frames.length - 1]!.time + 1 / fps : 0;
    const shots = buildShots(ctx.video.id, frames, fps, Math.max(duration, lastFrameEnd));
    ctx.log.info({ shots: shots.length, frames: frames.length }, 'shots detected');
    return { shots, quality: qualityBuckets(frames) };
  },
};
