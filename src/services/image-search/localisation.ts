// Time localisation by pixels. Every sampled frame of the shot around the verified frame is
// compared with the screenshot aligned onto it (the homography of the frame the vector index
// kept for it: its repeats share its geometry, and one shared alignment would favour the frame
// it was fitted on, as a talking head moves), photometrically: small grey thumbnails, normalised
// cross-correlation over the pixels the screenshot covers (its borders, the player page around
// it and the subtitle bands masked), less a penalty for a different mean luminance (NCC alone
// cannot tell a frame in the middle of a fade from the frame itself). Frames scoring within a
// noise margin of the best cannot be told apart (a still shot, a talking head between mouth
// movements): the answer is the middle of that stretch, and the stretch is `from`/`to`.
import { invert3x3 } from '../../models/image-descriptors/local-features.js';
import type { RawImage } from '../../models/types.js';
import type { GreyThumbnail } from './frame-source.js';

/**
 * Bands masked, as shares of the picture height: burned-in subtitles at the bottom of the frame,
 * and a subtitle line or player controls the screenshot itself added at its own bottom.
 */
const FRAME_SUBTITLE_BAND = 0.2;
const QUERY_SUBTITLE_BAND = 0.2;
/** Frame borders masked (logos, vignetting, a sliver of letterbox). */
const BORDER = 0.04;
/** Fewer usable pixels than this share of the thumbnail: no comparison. */
const MIN_COVERAGE = 0.1;
/**
 * Weight of |ln(mean luminance ratio)| against NCC. Not fitted (the dev sets have no fades in
 * their query moments): set so that a frame at half brightness loses ~0.14, several times the NCC
 * gap between neighbouring frames, while a uniformly brightened screenshot shifts every frame
 * alike and keeps their order.
 */
const LUMINANCE_WEIGHT = 0.2;
/**
 * Frames within TIE_ABS + TIE_REL·(1 − best) of the best score are indistinguishable from it:
 * a screenshot that correlates less (JPEG, small, recoloured) is noisier. Set by hand from the
 * NCC gaps between neighbouring frames seen while debugging fit-half queries, not fitted by a sweep.
 */
const TIE_ABS = 0.002;
const TIE_REL = 0.05;
/** Windows holding within this share of the heaviest are one plateau (rounding, not a tuned margin). */
const PLATEAU_REL = 1e-6;
/** The best frame's extra weight: breaks ties between windows holding as many frames, nothing more. */
const BEST_FRAME_BONUS = 1e-3;

/** The screenshot resampled onto a thumbnail grid of the frame, with the pixels that count. */
export interface AlignedQuery {
  values: Float32Array;
  mask: Uint8Array;
  width: number;
  height: number;
  count: number;
  mean: number;
  /**
   * The counted pixels' indices (ascending) and their values less the mean, with the sum of their
   * squares: what every photometricScore against this alignment reads (an alignment is scored
   * against up to hundreds of frames), computed once, in the order the score sums them.
   */
  counted: Int32Array;
  centred: Float64Array;
  sumQQ: number;
}

/**
 * `homography` maps screenshot pixels to frame pixels; a thumbnail pixel is `scale` frame pixels.
 * Null when the screenshot covers too little of the frame to compare.
 */
export function alignQuery(query: RawImage, homography: readonly number[], scale: number, width: number, height: number): AlignedQuery | null {
  const inverse = invert3x3(homography);
  if (!inverse) return null;
  const [a, b, c, d, e, f, g, h, i] = inverse as [number, number, number, number, number, number, number, number, number];
  const values = new Float32Array(width * height);
  const mask = new Uint8Array(width * height);
  const border = Math.round(BORDER * Math.min(width, height));
  const frameBand = height * (1 - FRAME_SUBTITLE_BAND);
  const queryBand = query.height * (1 - QUERY_SUBTITLE_BAND);
  let count = 0;
  let sum = 0;
  for (let y = border; y < Math.min(frameBand, height - border); y++) {
    for (let x = border; x < width - border; x++) {
      const fx = (x + 0.5) * scale;
      const fy = (y + 0.5) * scale;
      const w = g * fx + h * fy + i;
      if (w <= 0) continue;
      const qx = Math.floor((a * fx + b * fy + c) / w);
      const qy = Math.floor((d * fx + e * fy + f) / w);
      if (qx < 0 || qy < 0 || qx >= query.width || qy >= queryBand) continue;
      const k = y * width + x;
      const v = query.data[(qy * query.width + qx) * query.channels]!;
      values[k] = v;
      mask[k] = 1;
      count++;
      sum += v;
    }
  }
  if (count < MIN_COVERAGE * width * height) return null;
  const mean = sum / count;
  const counted = new Int32Array(count);
  const centred = new Float64Array(count);
  let sumQQ = 0;
  for (let k = 0, j = 0; k < mask.length; k++) {
    if (!mask[k]) continue;
    const q = values[k]! - mean;
    counted[j] = k;
    centred[j++] = q;
    sumQQ += q * q;
  }
  return { values, mask, width, height, count, mean, counted, centred, sumQQ };
}

/** NCC over the masked pixels less the luminance penalty; null when sizes differ or a side is flat. */
export function photometricScore(query: AlignedQuery, frame: GreyThumbnail): number | null {
  if (frame.width !== query.width || frame.height !== query.height) return null;
  const { counted, centred, sumQQ } = query;
  const grey = frame.grey;
  let sumF = 0;
  let sumFF = 0;
  let sumQF = 0;
  for (let j = 0; j < counted.length; j++) {
    const v = grey[counted[j]!]!;
    sumF += v;
    sumFF += v * v;
    sumQF += centred[j]! * v;
  }
  const n = query.count;
  const meanF = sumF / n;
  const varF = sumFF / n - meanF * meanF;
  if (varF <= 1e-6 || sumQQ <= 1e-6) return null;
  const ncc = sumQF / n / Math.sqrt((sumQQ / n) * varF);
  return ncc - LUMINANCE_WEIGHT * Math.abs(Math.log((meanF + 8) / (query.mean + 8)));
}

export interface Localisation {
  at: number;
  from: number;
  to: number;
  /** Best score less the best score of a frame more than `toleranceSec` from `at` (1 when there is none). */
  margin: number;
  /** The sampled frame with the best score (its stored picture is the match's thumbnail). */
  bestTime: number;
}

export interface ScoredFrame {
  time: number;
  score: number;
}

/**
 * Each frame scored against the screenshot aligned for it; given several alignments, its best
 * score under them (frames whose alignment failed are left out).
 */
export function scoreFrames(frames: readonly GreyThumbnail[], alignedFor: (frame: GreyThumbnail, index: number) => AlignedQuery | readonly AlignedQuery[] | null): ScoredFrame[] {
  const out: ScoredFrame[] = [];
  for (const [index, frame] of frames.entries()) {
    const aligned = alignedFor(frame, index);
    let score: number | null = null;
    for (const a of aligned === null ? [] : Array.isArray(aligned) ? aligned : [aligned as AlignedQuery]) {
      const s = photometricScore(a, frame);
      if (s !== null && (score === null || s > score)) score = s;
    }
    if (score !== null) out.push({ time: frame.time, score });
  }
  return out;
}

/**
 * The moment among scored frames (time order). Frames scoring within the noise margin of the
 * best cannot be told apart from it; they need not be neighbours (a talking head's mouth closes
 * again and again: dev set, fit half, a frame 1.4 s away within 0.0004 of the best). `at` is the
 * time whose ±toleranceSec window covers the most of the time they stand for (the middle of a plateau,
 * however densely its frames were sampled; between windows covering as much, the one with the best frame): right whichever of them is the moment,
 * when they lie close enough together. `from`/`to` span them. Null when no frame could be compared.
 */
export function localise(scored: readonly ScoredFrame[], toleranceSec: number): Localisation | null {
  if (scored.length === 0) return null;
  const top = Math.max(...scored.map((s) => s.score));
  const tie = TIE_ABS + TIE_REL * Math.max(0, 1 - top);
  const spans = frameSpans(scored);
  const tied = scored.filter((s) => s.score >= top - tie);
  const at = heaviestWindow(
    scored.flatMap((s, i) => (s.score >= top - tie ? [{ time: s.time, ...spans[i]!, weight: s.score === top ? 1 + BEST_FRAME_BONUS : 1 }] : [])),
    toleranceSec,
  );
  // The answer's neighbourhood reaches at least its nearest frame: with frames sparser than the
  // tolerance, `at` (between two tied frames) may have none within it.
  const reach = Math.max(toleranceSec, Math.min(...scored.map((s) => Math.abs(s.time - at))));
  const near = scored.filter((s) => Math.abs(s.time - at) <= reach);
  const elsewhere = scored.filter((s) => Math.abs(s.time - at) > reach);
  const best = near.reduce((a, b) => (b.score > a.score ? b : a), near[0]!);
  return {
    at,
    from: Math.min(tied[0]!.time, at),
    to: Math.max(tied[tied.length - 1]!.time, at),
    margin: elsewhere.length > 0 ? best.score - Math.max(...elsewhere.map((s) => s.score)) : 1,
    bestTime: best.time,
  };
}

/**
 * The time span each frame stands for: halfway to its neighbours. Frames decoded between the
 * index's samples are denser; measured by time, not by number, a still stretch's middle does not
 * move toward where more frames were decoded.
 */
export function frameSpans(frames: readonly { time: number }[]): { from: number; to: number }[] {
  return frames.map((f, i) => ({
    from: i > 0 ? (frames[i - 1]!.time + f.time) / 2 : f.time,
    to: i + 1 < frames.length ? (f.time + frames[i + 1]!.time) / 2 : f.time,
  }));
}

/**
 * The time whose window [t − half, t + half] covers the most of the spans (each weighted, clipped
 * to the first and last span's frame times: the stretch `from`/`to` reports); where a run of
 * times covers about the same, the middle of that run. Coverage is linear between the points
 * where a span edge meets a window edge, so it is evaluated there and the run's ends interpolated.
 * Spans that cover nothing (a lone frame) fall back to the heaviest frame's time.
 */
export function heaviestWindow(spans: readonly { time: number; from: number; to: number; weight: number }[], half: number): number {
  const first = Math.min(...spans.map((s) => s.time));
  const final = Math.max(...spans.map((s) => s.time));
  const clipped = spans.map((s) => ({ ...s, from: Math.max(first, s.from), to: Math.min(final, s.to) })).filter((s) => s.to > s.from);
  if (clipped.length === 0) return spans.reduce((a, b) => (b.weight > a.weight ? b : a)).time;
  const covered = (t: number) => clipped.reduce((sum, s) => sum + s.weight * Math.max(0, Math.min(s.to, t + half) - Math.max(s.from, t - half)), 0);
  const points = [...new Set(clipped.flatMap((s) => [s.from - half, s.from + half, s.to - half, s.to + half]))].sort((a, b) => a - b);
  const held = points.map(covered);
  const level = Math.max(...held) * (1 - PLATEAU_REL);
  const peak = held.findIndex((h) => h >= level);
  let last = peak;
  while (last + 1 < points.length && held[last + 1]! >= level) last++;
  // Where the coverage climbs to (falls from) the level between two points.
  const crossing = (a: number, b: number) => points[a]! + ((level - held[a]!) / (held[b]! - held[a]!)) * (points[b]! - points[a]!);
  const runFrom = peak > 0 ? crossing(peak - 1, peak) : points[peak]!;
  const runTo = last + 1 < points.length ? crossing(last, last + 1) : points[last]!;
  return Math.min(final, Math.max(first, (runFrom + runTo) / 2));
}
