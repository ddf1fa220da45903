// Per-frame picture signals (brightness, spread, borders, colour-bar score, change) measured on
// the fingerprints stage's low-resolution frames; the technicalCues stage turns them into cues.
import type { RawFrame } from '../../media/frames.js';
import { round } from './sampling.js';

/** Per sampled frame, compact and rounded (the stage output is checkpointed as JSON). */
export interface FrameSignals {
  time: number;
  /** Mean luma 0..255. */
  luma: number;
  /** Luma standard deviation. */
  spread: number;
  /** Share of pixels with luma ≤ 32 (picture black). */
  darkShare: number;
  /** Rows/columns of near-black, flat border at each side, as shares of height/width. */
  borders: [top: number, bottom: number, left: number, right: number];
  /** 0..1: vertical stripes of uniform, saturated, distinct colours (SMPTE/EBU bars). */
  bars: number;
  /** Mean saturation 0..1 (max−min over max). */
  saturation: number;
  /** Mean absolute luma change from the previous sample (null for the first). */
  change: number | null;
}

const DARK_LUMA = 32;
const BORDER_ROW_MEAN = 28;
const BORDER_ROW_SPREAD = 8;

export function lumaPlane(frame: RawFrame): Uint8Array {
  const { width, height, data } = frame;
  const luma = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < luma.length; i++, p += 3) luma[i] = (data[p]! * 299 + data[p + 1]! * 587 + data[p + 2]! * 114) / 1000;
  return luma;
}

/** How many lines from one side are flat and near-black (a border), as a share, capped at 40 %. */
export function borderDepth(luma: Uint8Array, width: number, height: number, side: 'top' | 'bottom' | 'left' | 'right'): number {
  const horizontal = side === 'top' || side === 'bottom';
  const lines = horizontal ? height : width;
  const length = horizontal ? width : height;
  const limit = Math.floor(lines * 0.4);
  let depth = 0;
  for (; depth < limit; depth++) {
    const line = side === 'top' || side === 'left' ? depth : lines - 1 - depth;
    let sum = 0;
    let sumSq = 0;
    for (let k = 0; k < length; k++) {
      const v = horizontal ? luma[line * width + k]! : luma[k * width + line]!;
      sum += v;
      sumSq += v * v;
    }
    const mean = sum / length;
    const spread = Math.sqrt(Math.max(0, sumSq / length - mean * mean));
    if (mean > BORDER_ROW_MEAN || spread > BORDER_ROW_SPREAD) break;
  }
  return depth / lines;
}

/**
 * Colour-bar score: over the top two thirds, columns that barely change down the frame are
 * grouped into runs of similar colour; bars are ≥ 5 such runs, each ≥ 5 % wide, covering ≥ 80 %
 * of the width, with ≥ 4 distinct saturated colours.
 */
export function colourBarScore(frame: RawFrame): number {
  const { width, height, data } = frame;
  const rows = Math.max(1, Math.floor((height * 2) / 3));
  const columns: { r: number; g: number; b: number; uniform: boolean }[] = [];
  for (let x = 0; x < width; x++) {
    let r = 0, g = 0, b = 0, rr = 0, gg = 0, bb = 0;
    for (let y = 0; y < rows; y++) {
      const p = (y * width + x) * 3;
      const R = data[p]!, G = data[p + 1]!, B = data[p + 2]!;
      r += R; g += G; b += B; rr += R * R; gg += G * G; bb += B * B;
    }
    r /= rows; g /= rows; b /= rows;
    const variance = rr / rows - r * r + gg / rows - g * g + bb / rows - b * b;
    columns.push({ r, g, b, uniform: variance < 3 * 12 * 12 });
  }
  const runs: { r: number; g: number; b: number; width: number }[] = [];
  for (const c of columns) {
    const last = runs.at(-1);
    if (c.uniform && last && Math.abs(last.r - c.r) + Math.abs(last.g - c.g) + Math.abs(last.b - c.b) < 40) {
      last.width += 1;
    } else if (c.uniform) {
      runs.push({ r: c.r, g: c.g, b: c.b, width: 1 });
    } else {
      runs.push({ r: -1, g: -1, b: -1, width: 1 });
    }
  }
  const bars = runs.filter((run) => run.r >= 0 && run.width >= width * 0.05);
  const covered = bars.reduce((sum, run) => sum + run.width, 0) / width;
  const saturated = bars.filter((run) => {
    const max = Math.max(run.r, run.g, run.b);
    return max > 60 && (max - Math.min(run.r, run.g, run.b)) / max > 0.5;
  });
  const distinct: { r: number; g: number; b: number }[] = [];
  for (const s of saturated) if (!distinct.some((d) => Math.abs(d.r - s.r) + Math.abs(d.g - s.g) + Math.abs(d.b - s.b) < 60)) distinct.push(s);
  if (bars.length < 5) return 0;
  return round(Math.min(1, covered / 0.8) * Math.min(1, distinct.length / 4));
}

export function frameSignals(frame: RawFrame, luma: Uint8Array, previousLuma: Uint8Array | null): FrameSignals {
  const { width, height, data } = frame;
  let sum = 0;
  let sumSq = 0;
  let dark = 0;
  let saturation = 0;
  for (let i = 0, p = 0; i < luma.length; i++, p += 3) {
    const y = luma[i]!;
    sum += y;
    sumSq += y * y;
    if (y <= DARK_LUMA) dark += 1;
    const max = Math.max(data[p]!, data[p + 1]!, data[p + 2]!);
    if (max > 0) saturation += (max - Math.min(data[p]!, data[p + 1]!, data[p + 2]!)) / max;
  }
  const n = luma.length;
  const mean = sum / n;
  let change: number | null = null;
  if (previousLuma && previousLuma.length === n) {
    let diff = 0;
    for (let i = 0; i < n; i++) diff += Math.abs(luma[i]! - previousLuma[i]!);
    change = round(diff / n, 2);
  }
  return {
    time: round(frame.time),
    luma: round(mean, 1),
    spread: round(Math.sqrt(Math.max(0, sumSq / n - mean * mean)), 1),
    darkShare: round(dark / n),
    borders: [
      round(borderDepth(luma, width, height, 'top')),
      round(borderDepth(luma, width, height, 'bottom')),
      round(borderDepth(luma, width, height, 'left')),
      round(borderDepth(luma, width, height, 'right')),
    ],
    bars: colourBarScore(frame),
    saturation: round(saturation / n),
    change,
  };
}
