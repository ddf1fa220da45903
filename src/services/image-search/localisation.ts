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

/** The screenshot resampled onto a thumbnail grid of the frame: the pixels that count and their values. */
export interface AlignedQuery {
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
  const border = Math.round(BORDER * Math.min(width, height));
  const area: SampledArea = {
    rows: { from: border, to: Math.min(height * (1 - FRAME_SUBTITLE_BAND), height - border) },
    cols: { from: border, to: width - border },
    width,
    height,
    scale,
    queryBand: query.height * (1 - QUERY_SUBTITLE_BAND),
  };
  const [, b, , d, , , g, h] = inverse;
  const { counted, values: centred, sum } = b === 0 && d === 0 && g === 0 && h === 0 ? sampleAxisAligned(query, inverse, area) : sampleProjective(query, inverse, area);
  const count = counted.length;
  if (count < MIN_COVERAGE * width * height) return null;
  const mean = sum / count;
  let sumQQ = 0;
  for (let j = 0; j < count; j++) {
    const q = centred[j]! - mean;
    centred[j] = q;
    sumQQ += q * q;
  }
  return { width, height, count, mean, counted, centred, sumQQ };
}

/** The thumbnail pixels a screenshot may cover (borders and the subtitle band excluded), and how frame pixels relate to them. */
interface SampledArea {
  rows: { from: number; to: number };
  cols: { from: number; to: number };
  width: number;
  height: number;
  /** Frame pixels per thumbnail pixel. */
  scale: number;
  /** Screenshot rows from this one down are its subtitle band. */
  queryBand: number;
}

/** The thumbnail pixels sampled (indices, row-major), the screenshot's grey value at each, and their sum. */
interface Sampled {
  counted: Int32Array;
  values: Float64Array;
  sum: number;
}

/** Each thumbnail pixel projected through the inverse homography (any map). */
function sampleProjective(query: RawImage, inverse: readonly number[], area: SampledArea): Sampled {
  const [a, b, c, d, e, f, g, h, i] = inverse as [number, number, number, number, number, number, number, number, number];
  const { rows, cols, width, height, scale, queryBand } = area;
  const counted = new Int32Array(width * height);
  const values = new Float64Array(width * height);
  let count = 0;
  let sum = 0;
  for (let y = rows.from; y < rows.to; y++) {
    for (let x = cols.from; x < cols.to; x++) {
      const fx = (x + 0.5) * scale;
      const fy = (y + 0.5) * scale;
      const w = g * fx + h * fy + i;
      if (w <= 0) continue;
      const qx = Math.floor((a * fx + b * fy + c) / w);
      const qy = Math.floor((d * fx + e * fy + f) / w);
      if (qx < 0 || qy < 0 || qx >= query.width || qy >= queryBand) continue;
      const v = query.data[(qy * query.width + qx) * query.channels]!;
      counted[count] = y * width + x;
      values[count++] = v;
      sum += v;
    }
  }
  return { counted: counted.slice(0, count), values: values.slice(0, count), sum };
}

/**
 * A map without rotation, shear or perspective (every refinement try is one, ~50 a fit): a
 * thumbnail column samples one screenshot column and a row one row, so the projection is done
 * once per row and per column, with sampleProjective's arithmetic (its zero terms add exactly
 * nothing): the same pixels in the same order, the same sums
 * (test/unit/image-search/localisation-parity.test.ts), without the per-pixel divisions and tests.
 */
function sampleAxisAligned(query: RawImage, inverse: readonly number[], area: SampledArea): Sampled {
  const [a, , c, , e, f, , , i] = inverse as [number, number, number, number, number, number, number, number, number];
  const { rows, cols, width, scale, queryBand } = area;
  // w = g·fx + h·fy + i is i everywhere: with i ≤ 0 no pixel is sampled.
  const sampledRows: number[] = [];
  const rowOffsets: number[] = [];
  const sampledCols: number[] = [];
  const colOffsets: number[] = [];
  for (let y = rows.from; y < rows.to && i > 0; y++) {
    const qy = Math.floor((e * ((y + 0.5) * scale) + f) / i);
    if (qy >= 0 && qy < queryBand) {
      sampledRows.push(y);
      rowOffsets.push(qy * query.width * query.channels);
    }
  }
  for (let x = cols.from; x < cols.to && i > 0; x++) {
    const qx = Math.floor((a * ((x + 0.5) * scale) + c) / i);
    if (qx >= 0 && qx < query.width) {
      sampledCols.push(x);
      colOffsets.push(qx * query.channels);
    }
  }
  const counted = new Int32Array(sampledRows.length * sampledCols.length);
  const values = new Float64Array(counted.length);
  let sum = 0;
  let j = 0;
  for (let r = 0; r < sampledRows.length; r++) {
    const base = sampledRows[r]! * width;
    const rowOffset = rowOffsets[r]!;
    for (let n = 0; n < sampledCols.length; n++) {
      const v = query.data[rowOffset + colOffsets[n]!]!;
      counted[j] = base + sampledCols[n]!;
      values[j++] = v;
      sum += v;
    }
  }
  return { counted, values, sum };
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

/** A frame's score against an aligned screenshot (photometricScore, or one remembering its results). */
export type FrameScorer = (query: AlignedQuery, frame: GreyThumbnail) => number | null;

/**
 * photometricScore remembering each (alignment, frame) pair's score: the moment's refinement
 * scores every frame under its refined fits twice (to pick the contenders, then with the
 * contenders' own fits), ~frames × fits scores (~25 µs each) a query computed once instead.
 */
export function rememberingScorer(): FrameScorer {
  const memo = new WeakMap<AlignedQuery, Map<GreyThumbnail, number | null>>();
  return (query, frame) => {
    let byFrame = memo.get(query);
    if (!byFrame) memo.set(query, (byFrame = new Map()));
    if (!byFrame.has(frame)) byFrame.set(frame, photometricScore(query, frame));
    return byFrame.get(frame)!;
  };
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
export function scoreFrames(
  frames: readonly GreyThumbnail[],
  alignedFor: (frame: GreyThumbnail, index: number) => AlignedQuery | readonly AlignedQuery[] | null,
  score: FrameScorer = photometricScore,
): ScoredFrame[] {
  const out: ScoredFrame[] = [];
  for (const [index, frame] of frames.entries()) {
    const aligned = alignedFor(frame, index);
    let best: number | null = null;
    for (const a of aligned === null ? [] : Array.isArray(aligned) ? aligned : [aligned as AlignedQuery]) {
      const s = score(a, frame);
      if (s !== null && (best === null || s > best)) best = s;
    }
    if (best !== null) out.push({ time: frame.time, score: best });
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
