// Holds: runs of flat frames (black, white, one colour) and the transitions into and out of them.
// Following ../shared/EVAL.md, a held flat frame is a shot of its own however short: the fade out
// into it counts at its ramp's midpoint (or at the cut, when there is no ramp) and the fade in
// that leaves it at the midpoint of its own ramp. A hold at the very start or end of the video has
// only its inner side. A short dip that returns to the same picture, or a burst of white, is not
// a boundary (lights going out for a moment, a flash).
import { gridDistance, type FrameFeatures } from './features.js';

export interface HoldOptions {
  fps: number;
  /** A frame is flat when at most this share of its pixels stands out of its median luma … */
  flatMaxOutliers: number;
  /** … and its luma spread stays below this (fog or a soft gradient is not a hold). */
  flatMaxStd: number;
  /** A hold this short (seconds) between two views of one picture is a dip, not two boundaries. */
  dipMaxSec: number;
  /** Largest picture change (frameDistance) across a dip. */
  dipMaxAcross: number;
  /** Longest fade ramp followed out of a hold. */
  maxRampSec: number;
}

export interface HoldBoundary {
  time: number;
  kind: 'CUT' | 'FADE';
  /** Both boundaries of one hold share a group: the minimum shot length does not merge them. */
  group: number;
}

export function isFlat(f: FrameFeatures, opts: Pick<HoldOptions, 'flatMaxOutliers' | 'flatMaxStd'>): boolean {
  return f.outlierShare <= opts.flatMaxOutliers && f.stdLuma < opts.flatMaxStd;
}

/**
 * A ramp's per-step rise, relative to the distance from the hold already reached, below which the
 * picture has stopped fading (a linear ramp of 25 samples still rises 4 % at its top).
 */
const RAMP_MIN_RISE = 0.02;
/** … plus an absolute floor, above the noise of an encoded flat frame. */
const RAMP_MIN_RISE_ABS = 0.0005;
/**
 * Largest brightness step between neighbouring frames of one hold: the last frames of a fade are
 * flat but still drifting; a cut from black to white (or grey) starts another hold.
 */
const FLAT_RUN_MAX_STEP = 0.3;
/** A burst of white shorter than this is a flash, left to the cut detector's flash test. */
const WHITE_FLASH_SEC = 0.25;

interface Ramp {
  /** Midpoint of the ramp: where the picture is half way between the hold and its full level. */
  time: number;
  /** Outermost frame of the ramp (the first or last frame at full level). */
  outer: number;
  steps: number;
}

/**
 * Follows a ramp out of a hold, from the flat frame `edge` in direction `dir`, while the picture
 * keeps moving away from the hold's look (`ref`); the boundary is where it is half way, found by
 * linear interpolation from the hold's most uniform frame `core` outward (a fade is linear in
 * intensity, so the block-luma distance to the flat frame is too).
 */
function followRamp(frames: readonly FrameFeatures[], core: number, edge: number, dir: -1 | 1, maxSteps: number): Ramp {
  const ref = frames[core]!.grid;
  const d = (k: number): number => gridDistance(frames[k]!.grid, ref);
  let outer = edge + dir;
  let steps = 0;
  while (steps < maxSteps) {
    const next = outer + dir;
    if (next < 0 || next >= frames.length) break;
    if (d(next) <= d(outer) * (1 + RAMP_MIN_RISE) + RAMP_MIN_RISE_ABS) break;
    outer = next;
    steps++;
  }
  const half = d(outer) / 2;
  let inner = core;
  for (let m = core + dir; m !== outer + dir; m += dir) {
    const dm = d(m);
    if (dm >= half) {
      const di = d(inner);
      const share = dm > di ? (half - di) / (dm - di) : 1;
      const time = frames[inner]!.time + share * (frames[m]!.time - frames[inner]!.time);
      return { time, outer, steps };
    }
    inner = m;
  }
  return { time: frames[outer]!.time, outer, steps };
}

export interface HoldsResult {
  boundaries: HoldBoundary[];
  /** Inclusive frame ranges the holds and their ramps cover: other detectors stay out. */
  claims: [number, number][];
}

export function detectHolds(frames: readonly FrameFeatures[], opts: HoldOptions, dist: (a: number, b: number) => number): HoldsResult {
  const n = frames.length;
  const boundaries: HoldBoundary[] = [];
  const claims: [number, number][] = [];
  const maxSteps = Math.round(opts.maxRampSec * opts.fps);
  let group = 0;
  for (let i = 0; i < n; ) {
    if (!isFlat(frames[i]!, opts)) {
      i++;
      continue;
    }
    let j = i;
    // Consecutive flat frames of about one brightness (the end of a fade drifts slowly into it).
    while (j + 1 < n && isFlat(frames[j + 1]!, opts) && Math.abs(frames[j + 1]!.meanLuma - frames[j]!.meanLuma) < FLAT_RUN_MAX_STEP) j++;
    const start = i;
    const end = j;
    i = j + 1;
    if (start === 0 && end === n - 1) continue;
    const holdSec = frames[end]!.time - frames[start]!.time + 1 / opts.fps;
    if (frames[start]!.meanLuma > 0.5 && holdSec < WHITE_FLASH_SEC) continue;
    let core = start;
    for (let k = start; k <= end; k++) if (frames[k]!.stdLuma < frames[core]!.stdLuma) core = k;
    const out = start > 0 ? followRamp(frames, core, start, -1, maxSteps) : null;
    const into = end < n - 1 ? followRamp(frames, core, end, 1, maxSteps) : null;
    const from = out?.outer ?? start;
    const to = into?.outer ?? end;
    claims.push([from, to]);
    if (out && into && holdSec <= opts.dipMaxSec && dist(out.outer - 1, into.outer + 1) < opts.dipMaxAcross) continue;
    for (const ramp of [out, into]) {
      if (ramp) boundaries.push({ time: ramp.time, kind: ramp.steps > 0 ? 'FADE' : 'CUT', group });
    }
    group++;
  }
  return { boundaries, claims };
}
