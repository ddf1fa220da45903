// Shot boundary detection on small, low-rate frames (pure computation, no I/O).
//
// Per frame we keep a colour histogram, a coarse luma grid, brightness/flatness and sharpness.
// Three detectors then look at the sequence, each leaving alone the frames an earlier one claimed:
//  - fades: runs of flat frames (black, white, one colour) between two different pictures; the
//    boundary is the middle of the run;
//  - dissolves: the change between frames k before and k after a point peaks there, the change
//    is spread over many frames (no single jump) and the picture is calmer on both sides;
//  - hard cuts: a frame-to-frame change that stands out against the local median (adaptive,
//    so steady camera motion raises the bar), with flash suppression (a burst of light after
//    which the picture returns to what it was is not a cut).
// Boundaries closer than a minimum shot length are merged, keeping the strongest.

export interface FrameFeatures {
  time: number;
  /** Normalised Y×U×V histogram. */
  hist: Float32Array;
  /** Block-averaged luma (0..1), a motion-tolerant thumbnail. */
  grid: Float32Array;
  meanLuma: number;
  stdLuma: number;
  /** Variance of the Laplacian of the luma: higher is sharper. */
  sharpness: number;
}

const Y_BINS = 8;
const U_BINS = 4;
const V_BINS = 4;
const GRID_BLOCK = 8;

/** Features of one rgb24 frame. */
export function frameFeatures(time: number, rgb: Uint8Array, width: number, height: number): FrameFeatures {
  const pixels = width * height;
  const hist = new Float32Array(Y_BINS * U_BINS * V_BINS);
  const luma = new Float32Array(pixels);
  let sum = 0;
  let sumSq = 0;
  for (let p = 0, o = 0; p < pixels; p++, o += 3) {
    const r = rgb[o]!;
    const g = rgb[o + 1]!;
    const b = rgb[o + 2]!;
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    // Chroma differences span about ±230; four bins each.
    const u = Math.min(U_BINS - 1, Math.max(0, Math.floor(((b - y) / 460 + 0.5) * U_BINS)));
    const v = Math.min(V_BINS - 1, Math.max(0, Math.floor(((r - y) / 460 + 0.5) * V_BINS)));
    const yb = Math.min(Y_BINS - 1, Math.floor((y / 256) * Y_BINS));
    hist[(yb * U_BINS + u) * V_BINS + v]! += 1;
    luma[p] = y / 255;
    sum += y / 255;
    sumSq += (y / 255) ** 2;
  }
  for (let i = 0; i < hist.length; i++) hist[i]! /= pixels;
  const meanLuma = sum / pixels;
  const stdLuma = Math.sqrt(Math.max(0, sumSq / pixels - meanLuma ** 2));

  const gw = Math.max(1, Math.floor(width / GRID_BLOCK));
  const gh = Math.max(1, Math.floor(height / GRID_BLOCK));
  const grid = new Float32Array(gw * gh);
  const bw = width / gw;
  const bh = height / gh;
  for (let y = 0; y < height; y++) {
    const gy = Math.min(gh - 1, Math.floor(y / bh));
    for (let x = 0; x < width; x++) grid[gy * gw + Math.min(gw - 1, Math.floor(x / bw))]! += luma[y * width + x]!;
  }
  for (let i = 0; i < grid.length; i++) grid[i]! /= bw * bh;

  let lapSum = 0;
  let lapSq = 0;
  let count = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const lap = luma[i - 1]! + luma[i + 1]! + luma[i - width]! + luma[i + width]! - 4 * luma[i]!;
      lapSum += lap;
      lapSq += lap * lap;
      count++;
    }
  }
  const sharpness = count ? lapSq / count - (lapSum / count) ** 2 : 0;
  return { time, hist, grid, meanLuma, stdLuma, sharpness };
}

/** Histogram distance in 0..1 (half the L1 distance of two normalised histograms). */
function histDistance(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
  return d / 2;
}

function gridDistance(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
  return d / a.length;
}

/** How different two pictures are, 0..1: colour distribution and layout together. */
export function frameDistance(a: FrameFeatures, b: FrameFeatures): number {
  return 0.5 * histDistance(a.hist, b.hist) + 0.5 * Math.min(1, 3 * gridDistance(a.grid, b.grid));
}

export interface ShotDetectionOptions {
  /** Sampling rate of the frames, per second. */
  fps: number;
  minShotSec: number;
  /** A cut must exceed this much change (0..1) … */
  cutMinScore: number;
  /** … and this many times the local median change. */
  cutRatio: number;
  /** Longest run of flat frames read as one fade-through boundary (longer: two boundaries). */
  maxFadeHoldSec: number;
  dissolveMinScore: number;
}

export const DEFAULT_SHOT_DETECTION: Omit<ShotDetectionOptions, 'fps'> = {
  minShotSec: 0.5,
  cutMinScore: 0.1,
  cutRatio: 2.5,
  maxFadeHoldSec: 2.5,
  dissolveMinScore: 0.15,
};

export interface DetectedBoundary {
  /** Seconds on the media timeline where the new shot starts. */
  time: number;
  kind: 'CUT' | 'FADE';
  /** Strength, for merging and debugging. */
  score: number;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const FLAT_STD = 0.035;

/** One colour all over, or nearly black (a fade's darkest frame, sampled just off its bottom). */
function isFlat(f: FrameFeatures): boolean {
  return f.stdLuma < FLAT_STD || (f.meanLuma < 0.07 && f.stdLuma < 0.05);
}

// Fades are found from flat frames, the surest evidence there is: they win over nearby
// cut/dissolve candidates when boundaries are merged.
const FADE_PRIORITY = 100;

export function detectShotBoundaries(frames: readonly FrameFeatures[], options: Partial<ShotDetectionOptions> & { fps: number }): DetectedBoundary[] {
  const opts = { ...DEFAULT_SHOT_DETECTION, ...options };
  const n = frames.length;
  if (n < 3) return [];
  const perSec = opts.fps;
  // change[i]: from frame i-1 to frame i (change[0] = 0).
  const change = frames.map((f, i) => (i === 0 ? 0 : frameDistance(frames[i - 1]!, f)));
  const dist = (a: number, b: number): number => frameDistance(frames[Math.max(0, Math.min(n - 1, a))]!, frames[Math.max(0, Math.min(n - 1, b))]!);
  const candidates: DetectedBoundary[] = [];
  // Frames inside a detected transition: other detectors stay out of them.
  const claimed = new Uint8Array(n);
  const claim = (from: number, to: number): void => {
    for (let i = Math.max(0, from); i <= Math.min(n - 1, to); i++) claimed[i] = 1;
  };

  // Fades: runs of flat frames strictly inside the video, with different pictures either side.
  const ramp = Math.round(1.5 * perSec);
  for (let i = 0; i < n; ) {
    if (!isFlat(frames[i]!)) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < n && isFlat(frames[j + 1]!) && Math.abs(frames[j + 1]!.meanLuma - frames[i]!.meanLuma) < 0.1) j++;
    const runStart = i;
    const runEnd = j;
    i = j + 1;
    if (runStart === 0 || runEnd === n - 1) continue;
    // A frame or two of white is a flash (left to the cut detector's flash test), not a fade.
    if (frames[runStart]!.meanLuma > 0.5 && frames[runEnd]!.time - frames[runStart]!.time < 0.25) continue;
    // Walk out of the fade ramps: luminance moving monotonically toward the flat level.
    let before = runStart - 1;
    while (before > 0 && runStart - before < ramp && Math.abs(frames[before - 1]!.meanLuma - frames[runStart]!.meanLuma) > Math.abs(frames[before]!.meanLuma - frames[runStart]!.meanLuma) + 0.004 && !isFlat(frames[before - 1]!)) before--;
    let after = runEnd + 1;
    while (after < n - 1 && after - runEnd < ramp && Math.abs(frames[after + 1]!.meanLuma - frames[runEnd]!.meanLuma) > Math.abs(frames[after]!.meanLuma - frames[runEnd]!.meanLuma) + 0.004 && !isFlat(frames[after + 1]!)) after++;
    // A dip to black (or a flash of white) inside one shot returns to the same picture.
    const across = dist(before - 1, after + 1);
    if (across < 0.2) {
      claim(before, after);
      continue;
    }
    const holdSec = frames[runEnd]!.time - frames[runStart]!.time;
    if (holdSec <= opts.maxFadeHoldSec) {
      candidates.push({ time: (frames[runStart]!.time + frames[runEnd]!.time) / 2, kind: 'FADE', score: FADE_PRIORITY + across });
    } else {
      // A long flat hold is a shot of its own: boundaries where it begins and ends.
      candidates.push({ time: frames[runStart]!.time, kind: before < runStart - 1 ? 'FADE' : 'CUT', score: FADE_PRIORITY + across });
      candidates.push({ time: frames[runEnd + 1]!.time, kind: after > runEnd + 1 ? 'FADE' : 'CUT', score: FADE_PRIORITY + across });
    }
    claim(before, after);
  }

  /**
   * The frame between a and b that looks equally like both ends: a dissolve's 50 % point.
   * Measured on the luma grid, which (unlike a histogram) changes linearly through a mix of two
   * pictures; each end is the mean of three frames, so flicker at an end does not pull it.
   */
  const meanGrid = (from: number, to: number): Float32Array => {
    const lo = Math.max(0, from);
    const hi = Math.min(n - 1, to);
    const out = new Float32Array(frames[0]!.grid.length);
    for (let j = lo; j <= hi; j++) frames[j]!.grid.forEach((v, x) => (out[x]! += v / (hi - lo + 1)));
    return out;
  };
  const equidistantFrame = (a: number, b: number): number => {
    const before = meanGrid(a - 2, a);
    const after = meanGrid(b, b + 2);
    let best = Math.round((a + b) / 2);
    let bestGap = Number.POSITIVE_INFINITY;
    for (let m = a + 1; m < b; m++) {
      const gap = Math.abs(gridDistance(before, frames[m]!.grid) - gridDistance(frames[m]!.grid, after));
      if (gap < bestGap) {
        bestGap = gap;
        best = m;
      }
    }
    return best;
  };

  // Dissolves, at two scales: the longer first, because a long dissolve seen through a short
  // window shows a lopsided plateau while a short one seen through a long window stays centred.
  for (const halfSec of [1.0, 0.5]) {
    const k = Math.max(2, Math.round(halfSec * perSec));
    const across = frames.map((_, i) => (i - k < 0 || i + k >= n ? 0 : dist(i - k, i + k)));
    for (let i = k; i + k < n; i++) {
      const d = across[i]!;
      if (d < opts.dissolveMinScore) continue;
      let isPeak = true;
      for (let j = Math.max(0, i - k); j <= Math.min(n - 1, i + k); j++) if (across[j]! > d) isPeak = false;
      if (!isPeak) continue;
      // The peak is a plateau as wide as the window minus the transition: its middle is the
      // transition's middle.
      let lo = i;
      let hi = i;
      while (lo - 1 >= k && across[lo - 1]! >= 0.9 * d) lo--;
      while (hi + 1 + k < n && across[hi + 1]! >= 0.9 * d) hi++;
      const centre = Math.round((lo + hi) / 2);
      let inside = 0;
      let biggestStep = 0;
      let touchesClaim = false;
      for (let j = centre - k + 1; j <= centre + k; j++) {
        inside += change[j]!;
        biggestStep = Math.max(biggestStep, change[j]!);
        if (claimed[j]) touchesClaim = true;
      }
      if (touchesClaim) continue;
      // Spread out: no single step carries most of the change (that would be a cut).
      if (biggestStep > 0.5 * d) continue;
      // Calmer around than inside (a camera pan changes steadily everywhere). One busy side
      // (flicker, action before the transition) is forgiven when the change across is large.
      const side = Math.max(2, Math.round(0.3 * perSec));
      const leftSteps: number[] = [];
      const rightSteps: number[] = [];
      for (let j = centre - k - side; j < centre - k; j++) if (j >= 1) leftSteps.push(change[j]!);
      for (let j = centre + k + 2; j <= centre + k + side + 1; j++) if (j < n) rightSteps.push(change[j]!);
      const insideMean = inside / (2 * k);
      const outside = median([...leftSteps, ...rightSteps]);
      const calmerSide = Math.min(median(leftSteps), median(rightSteps));
      if (insideMean < 2 * outside && !(d >= 0.5 && insideMean >= 2 * calmerSide)) continue;
      // Re-anchor on clean frames just outside the transition and look for the middle again.
      let middle = centre;
      for (let pass = 0; pass < 2; pass++) {
        const found = equidistantFrame(Math.max(0, middle - k - side), Math.min(n - 1, middle + k + side));
        middle = found;
      }
      // Far from the plateau's middle, the ends were not clean (flicker, overlays): trust the plateau.
      if (Math.abs(middle - centre) > k / 2) middle = centre;
      candidates.push({ time: frames[middle]!.time, kind: 'FADE', score: d / Math.max(0.02, outside) });
      claim(middle - k, middle + k);
    }
  }

  // Hard cuts: a jump well above the local median of changes, not undone within a few frames.
  const window = Math.max(3, Math.round(1.5 * perSec));
  const flashSpan = Math.max(1, Math.round(0.3 * perSec));
  for (let i = 1; i < n; i++) {
    const s = change[i]!;
    if (s < opts.cutMinScore || claimed[i] || claimed[i - 1]) continue;
    let localMax = true;
    for (let k = Math.max(1, i - 2); k <= Math.min(n - 1, i + 2); k++) if (k !== i && change[k]! > s) localMax = false;
    if (!localMax) continue;
    const neighbours: number[] = [];
    for (let k = Math.max(1, i - window); k <= Math.min(n - 1, i + window); k++) if (Math.abs(k - i) > 1) neighbours.push(change[k]!);
    const baseline = median(neighbours);
    // Relative for busy pictures, a fixed margin above the noise for still ones.
    if (s < Math.max(opts.cutRatio * baseline, baseline + 0.08)) continue;
    // Sudden: the pictures just around the jump differ by about the jump itself. In a fast
    // dissolve the change goes on, so frames one step further apart differ much more.
    if (s < 0.5 * dist(i - 2, i + 1)) continue;
    // A flash: the picture after (or before) the burst of light is the one from before (after) it.
    let flash = false;
    for (let k = 1; k <= flashSpan; k++) {
      if (i + k < n && dist(i - 1, i + k) < 0.35 * s) flash = true;
      if (i - 1 - k >= 0 && dist(i - 1 - k, i) < 0.35 * s) flash = true;
    }
    if (flash) continue;
    candidates.push({ time: (frames[i - 1]!.time + frames[i]!.time) / 2, kind: 'CUT', score: s / Math.max(0.02, baseline) });
    claim(i - 1, i);
  }

  // Minimum shot length: keep the strongest of boundaries that crowd together.
  const minGap = opts.minShotSec;
  const kept: DetectedBoundary[] = [];
  for (const c of [...candidates].sort((a, b) => b.score - a.score)) {
    if (c.time < minGap || c.time > frames[n - 1]!.time + 1 / perSec - minGap / 2) continue;
    if (kept.every((k) => Math.abs(k.time - c.time) >= minGap)) kept.push(c);
  }
  return kept.sort((a, b) => a.time - b.time);
}

/** Chooses a representative frame in [from, to): sharp, not flat, away from the shot's edges. */
export function chooseKeyframe(frames: readonly FrameFeatures[], from: number, to: number): FrameFeatures | null {
  const inShot = frames.filter((f) => f.time >= from && f.time < to);
  if (inShot.length === 0) return null;
  const margin = Math.floor(inShot.length * 0.15);
  const core = inShot.length > 2 * margin + 1 ? inShot.slice(margin, inShot.length - margin) : inShot;
  const usable = core.filter((f) => !isFlat(f) && f.meanLuma > 0.06);
  const pool = usable.length ? usable : core;
  return pool.reduce((best, f) => (keyframeQuality(f) > keyframeQuality(best) ? f : best));
}

/** Higher is a better picture to show: sharp, reasonably exposed, not flat. */
export function keyframeQuality(f: FrameFeatures): number {
  if (isFlat(f) || f.meanLuma < 0.06) return 0;
  const exposure = 1 - Math.abs(f.meanLuma - 0.45);
  return f.sharpness * exposure * Math.min(1, f.stdLuma / 0.1);
}
