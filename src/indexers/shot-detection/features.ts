// Per-frame features for shot detection (pure computation): a colour histogram, a coarse luma
// grid, brightness and spread, sharpness and how many pixels stand out of a flat frame; and the
// distances between frames built on them.

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
  /**
   * Share of pixels whose luma is far from the frame's median: ~0 on a flat frame (black, a
   * colour), > 0 as soon as a title's letters or any detail stand out, however small.
   */
  outlierShare: number;
}

const Y_BINS = 8;
const U_BINS = 4;
const V_BINS = 4;
const GRID_BLOCK = 8;

/** Features of one rgb24 frame. */
export function frameFeatures(time: number, rgb: Uint8Array, width: number, height: number): FrameFeatures {
  const pixels = width * height;
  const hist = new Float32Array(Y_BINS * U_BINS * V_BINS);
  const lumaCounts = new Uint32Array(256);
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
    lumaCounts[Math.min(255, Math.round(y))]! += 1;
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
  return { time, hist, grid, meanLuma, stdLuma, sharpness, outlierShare: outlierShare(lumaCounts, pixels) };
}

/** Luma steps (0–255) from the median beyond which a pixel stands out of a flat frame. */
const OUTLIER_LUMA = 0.1 * 255;

function outlierShare(lumaCounts: Uint32Array, pixels: number): number {
  let seen = 0;
  let median = 0;
  while (median < 255 && seen + lumaCounts[median]! <= pixels / 2) seen += lumaCounts[median++]!;
  let outliers = 0;
  lumaCounts.forEach((c, y) => {
    if (Math.abs(y - median) > OUTLIER_LUMA) outliers += c;
  });
  return pixels ? outliers / pixels : 0;
}

/** Histogram distance in 0..1 (half the L1 distance of two normalised histograms). */
export function histDistance(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
  return d / 2;
}

export function gridDistance(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
  return d / a.length;
}

/** How different two pictures are, 0..1: colour distribution and layout together. */
export function frameDistance(a: FrameFeatures, b: FrameFeatures): number {
  return 0.5 * histDistance(a.hist, b.hist) + 0.5 * Math.min(1, 3 * gridDistance(a.grid, b.grid));
}
