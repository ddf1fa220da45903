// Shot boundary detection on small, low-rate frames (pure computation, no I/O).
//
// Per frame we keep a colour histogram, a coarse luma grid, brightness/flatness and sharpness.
// Three detectors then look at the sequence, each leaving alone the frames an earlier one claimed:
//  - holds (shot-detection/holds.ts): runs of flat frames (black, white, one colour); the fade
//    or cut into a hold and the one out of it are boundaries of their own (the hold is a shot);
//  - dissolves: the change between frames k before and k after a point peaks there, the change
//    is spread over many frames (no single sudden jump) and the picture is calmer on both sides;
//  - hard cuts: a frame-to-frame change that stands out against the local median (adaptive,
//    so steady camera motion raises the bar) and carries most of the luma-grid change of the
//    frames around it (sudden, not a dissolve's first step), with flash suppression (a burst of
//    light after which the picture returns to what it was is not a cut).
// Boundaries closer than a minimum shot length are merged, keeping the strongest (the two sides
// of one hold excepted: a held black is a shot however short).

import { frameDistance, gridDistance, type FrameFeatures } from './shot-detection/features.js';
import { detectHolds, isFlat as isFlatWith } from './shot-detection/holds.js';

export { frameDistance, frameFeatures, type FrameFeatures } from './shot-detection/features.js';

export interface ShotDetectionOptions {
  /** Sampling rate of the frames, per second. */
  fps: number;
  minShotSec: number;
  /** A cut must exceed this much change (0..1) … */
  cutMinScore: number;
  /** … and this many times the local median change. */
  cutRatio: number;
  dissolveMinScore: number;
  flatMaxOutliers: number;
  flatMaxStd: number;
  dipMaxSec: number;
  dipMaxAcross: number;
  maxRampSec: number;
}

// The hold options are documented on HoldOptions. On the fit half of the generated transitions
// set (test/helpers/transitions-set.ts) F1 is flat over flatMaxOutliers 0.0002–0.01, flatMaxStd
// 0.03–0.08 and maxRampSec 1.5–3.5: the values sit inside those ranges. The set has no dip
// inside one shot, so dipMaxSec/dipMaxAcross are not fitted: dipMaxAcross is the earlier fade
// detector's same-picture test, dipMaxSec keeps it to dips shorter than a minimum shot.
export const DEFAULT_SHOT_DETECTION: Omit<ShotDetectionOptions, 'fps'> = {
  minShotSec: 0.5,
  cutMinScore: 0.1,
  cutRatio: 2.5,
  dissolveMinScore: 0.15,
  flatMaxOutliers: 0.001,
  flatMaxStd: 0.05,
  dipMaxSec: 0.5,
  dipMaxAcross: 0.2,
  maxRampSec: 2.5,
};

/** Frames looked at on each side of a step to tell a cut's single jump from a dissolve's ramp … */
const SUDDEN_REACH = 2;
/**
 * … and the share of the grid change over that span that a cut's one step must carry. Fitted on
 * the fit half of the generated transitions set: F1 is flat for 0.4–0.7 at a reach of 2 frames
 * (1 frame is too short: a dissolve's first step then looks sudden), and the shared dev clips
 * (Tears of Steel, Sintel, the GRID montage) keep every cut across that range.
 */
const CUT_GRID_SUDDEN = 0.5;

const KEYFRAME_FLAT = { flatMaxOutliers: DEFAULT_SHOT_DETECTION.flatMaxOutliers, flatMaxStd: DEFAULT_SHOT_DETECTION.flatMaxStd };

export interface DetectedBoundary {
  /** Seconds on the media timeline where the new shot starts. */
  time: number;
  kind: 'CUT' | 'FADE';
  /** Strength, for merging and debugging. */
  score: number;
}

interface Candidate extends DetectedBoundary {
  /** Boundaries of one hold: never merged with each other. */
  group?: number;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One colour all over (black, white, a flat card), under the default thresholds. */
function isFlat(f: FrameFeatures): boolean {
  return isFlatWith(f, KEYFRAME_FLAT);
}

// Holds are found from flat frames, the surest evidence there is: they win over nearby
// cut/dissolve candidates when boundaries are merged.
const FADE_PRIORITY = 100;

/** The frames as every detector sees them: step changes, distances and the frames a transition already claimed. */
interface FrameSequence {
  frames: readonly FrameFeatures[];
  n: number;
  perSec: number;
  change: number[];
  dist(a: number, b: number): number;
  isSudden(i: number): boolean;
  claimed: Uint8Array;
  claim(from: number, to: number): void;
}

function frameSequence(frames: readonly FrameFeatures[], perSec: number): FrameSequence {
  const n = frames.length;
  // change[i]: from frame i-1 to frame i (change[0] = 0).
  const change = frames.map((f, i) => (i === 0 ? 0 : frameDistance(frames[i - 1]!, f)));
  const dist = (a: number, b: number): number => frameDistance(frames[Math.max(0, Math.min(n - 1, a))]!, frames[Math.max(0, Math.min(n - 1, b))]!);
  const gridStep = (a: number, b: number): number => gridDistance(frames[Math.max(0, a)]!.grid, frames[Math.min(n - 1, b)]!.grid);
  // A step that carries most of the luma-grid change of the three steps around it. On the grid,
  // unlike a histogram, a mix of two pictures moves linearly: the histogram saturates at the ends
  // of a dissolve into or out of a flat card (the first tenth of a mix empties the card's bin).
  const isSudden = (i: number): boolean => gridStep(i - 1, i) >= CUT_GRID_SUDDEN * gridStep(i - 1 - SUDDEN_REACH, i + SUDDEN_REACH);
  // Frames inside a detected transition: other detectors stay out of them.
  const claimed = new Uint8Array(n);
  const claim = (from: number, to: number): void => {
    for (let i = Math.max(0, from); i <= Math.min(n - 1, to); i++) claimed[i] = 1;
  };
  return { frames, n, perSec, change, dist, isSudden, claimed, claim };
}

export function detectShotBoundaries(frames: readonly FrameFeatures[], options: Partial<ShotDetectionOptions> & { fps: number }): DetectedBoundary[] {
  const opts = { ...DEFAULT_SHOT_DETECTION, ...options };
  const n = frames.length;
  if (n < 3) return [];
  const sequence = frameSequence(frames, opts.fps);
  const candidates: Candidate[] = [];
  const holds = detectHolds(frames, opts, sequence.dist);
  for (const [from, to] of holds.claims) sequence.claim(from, to);
  for (const h of holds.boundaries) candidates.push({ ...h, score: FADE_PRIORITY });
  // In this order: each detector leaves alone the frames an earlier one claimed.
  candidates.push(...detectDissolves(sequence, opts));
  candidates.push(...detectCuts(sequence, opts));
  return keepApart(candidates, frames, opts);
}

/** The mean luma grid of frames from..to (inclusive, clamped to the video). */
function meanGrid(frames: readonly FrameFeatures[], from: number, to: number): Float32Array {
  const n = frames.length;
  const lo = Math.max(0, from);
  const hi = Math.min(n - 1, to);
  const out = new Float32Array(frames[0]!.grid.length);
  for (let j = lo; j <= hi; j++) frames[j]!.grid.forEach((v, x) => (out[x]! += v / (hi - lo + 1)));
  return out;
}

/**
 * The frame between a and b that looks equally like both ends: a dissolve's 50 % point.
 * Measured on the luma grid, which (unlike a histogram) changes linearly through a mix of two
 * pictures; each end is the mean of three frames, so flicker at an end does not pull it.
 */
function equidistantFrame(frames: readonly FrameFeatures[], a: number, b: number): number {
  const before = meanGrid(frames, a - 2, a);
  const after = meanGrid(frames, b, b + 2);
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
}

function detectDissolves(sequence: FrameSequence, opts: Pick<ShotDetectionOptions, 'dissolveMinScore'>): Candidate[] {
  const { frames, n, perSec, change, dist, isSudden, claimed, claim } = sequence;
  const candidates: Candidate[] = [];
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
      let hasCut = false;
      let touchesClaim = false;
      for (let j = centre - k + 1; j <= centre + k; j++) {
        inside += change[j]!;
        if (change[j]! > 0.5 * d && isSudden(j)) hasCut = true;
        if (claimed[j]) touchesClaim = true;
      }
      if (touchesClaim) continue;
      // Spread out: no single sudden step carries most of the change (that would be a cut).
      if (hasCut) continue;
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
        const found = equidistantFrame(frames, Math.max(0, middle - k - side), Math.min(n - 1, middle + k + side));
        middle = found;
      }
      // Far from the plateau's middle, the ends were not clean (flicker, overlays): trust the plateau.
      if (Math.abs(middle - centre) > k / 2) middle = centre;
      candidates.push({ time: frames[middle]!.time, kind: 'FADE', score: d / Math.max(0.02, outside) });
      claim(middle - k, middle + k);
    }
  }
  return candidates;
}

function detectCuts(sequence: FrameSequence, opts: Pick<ShotDetectionOptions, 'cutMinScore' | 'cutRatio'>): Candidate[] {
  const { frames, n, perSec, change, dist, isSudden, claimed, claim } = sequence;
  // A flash at step i: the picture after (or before) the burst of light is the one from before (after) it.
  const flashSpan = Math.max(1, Math.round(0.3 * perSec));
  const isFlash = (i: number): boolean => {
    const s = change[i]!;
    for (let k = 1; k <= flashSpan; k++) {
      if (i + k < n && dist(i - 1, i + k) < 0.35 * s) return true;
      if (i - 1 - k >= 0 && dist(i - 1 - k, i) < 0.35 * s) return true;
    }
    return false;
  };
  const candidates: Candidate[] = [];
  // Hard cuts: a jump well above the local median of changes, not undone within a few frames.
  const window = Math.max(3, Math.round(1.5 * perSec));
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
    if (!isSudden(i)) continue;
    if (isFlash(i)) continue;
    candidates.push({ time: (frames[i - 1]!.time + frames[i]!.time) / 2, kind: 'CUT', score: s / Math.max(0.02, baseline) });
    claim(i - 1, i);
  }
  return candidates;
}

/** Minimum shot length: keep the strongest of boundaries that crowd together. */
function keepApart(candidates: readonly Candidate[], frames: readonly FrameFeatures[], opts: Pick<ShotDetectionOptions, 'minShotSec' | 'fps'>): DetectedBoundary[] {
  const n = frames.length;
  const perSec = opts.fps;
  const minGap = opts.minShotSec;
  const kept: Candidate[] = [];
  for (const c of [...candidates].sort((a, b) => b.score - a.score)) {
    if (c.time < minGap || c.time > frames[n - 1]!.time + 1 / perSec - minGap / 2) continue;
    if (kept.every((k) => Math.abs(k.time - c.time) >= minGap || (c.group !== undefined && k.group === c.group))) kept.push(c);
  }
  return kept.sort((a, b) => a.time - b.time).map(({ time, kind, score }) => ({ time, kind, score }));
}

/**
 * Chooses a representative frame in [from, to): sharp, not flat, away from the shot's edges,
 * among the keyframe candidates (every `every`-th of `frames`: the frames the job's decode keeps
 * for the stages that read shot keyframes). A shot with no candidate at all (shorter than their
 * spacing) gets the best of its own frames.
 */
export function chooseKeyframe(frames: readonly FrameFeatures[], from: number, to: number, every = 1): FrameFeatures | null {
  const inShot: { frame: FrameFeatures; candidate: boolean }[] = [];
  frames.forEach((frame, i) => {
    if (frame.time >= from && frame.time < to) inShot.push({ frame, candidate: i % every === 0 });
  });
  if (inShot.length === 0) return null;
  const margin = Math.floor(inShot.length * 0.15);
  const core = inShot.length > 2 * margin + 1 ? inShot.slice(margin, inShot.length - margin) : inShot;
  const coreCandidates = core.filter((f) => f.candidate);
  const shotCandidates = inShot.filter((f) => f.candidate);
  const pool = (coreCandidates.length ? coreCandidates : shotCandidates.length ? shotCandidates : core).map((f) => f.frame);
  const usable = pool.filter((f) => !isFlat(f) && f.meanLuma > 0.06);
  return (usable.length ? usable : pool).reduce((best, f) => (keyframeQuality(f) > keyframeQuality(best) ? f : best));
}

/** Higher is a better picture to show: sharp, reasonably exposed, not flat. */
export function keyframeQuality(f: FrameFeatures): number {
  if (isFlat(f) || f.meanLuma < 0.06) return 0;
  const exposure = 1 - Math.abs(f.meanLuma - 0.45);
  return f.sharpness * exposure * Math.min(1, f.stdLuma / 0.1);
}
