// MPEG-7 ColorLayout exactly as LIRE computes it (and trace.moe indexes it): the image is
// averaged into an 8×8 grid in YCbCr, each channel gets an 8×8 DCT, coefficients are
// quantised and read in zigzag order; 21 Y + 6 Cb + 6 Cr = 33 numbers. It is the baseline the
// CNN descriptor is measured against: fast, but blind to mirroring, crops, bars and overlays.
import type { RawImage } from '../types.js';

export const COLOR_LAYOUT_MODEL_ID = 'mpeg7-colorlayout-21y6c';
export const COLOR_LAYOUT_Y_COEFFS = 21;
export const COLOR_LAYOUT_C_COEFFS = 6;
export const COLOR_LAYOUT_DIM = COLOR_LAYOUT_Y_COEFFS + 2 * COLOR_LAYOUT_C_COEFFS;

const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49,
  56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

// The DCT basis LIRE tabulates (rounded to 7 digits); recomputing it exactly would shift a few
// coefficients by one quantisation step against LIRE's output.
const COSINE = Array.from({ length: 8 }, (_, u) =>
  Array.from({ length: 8 }, (_, x) => Number(((u === 0 ? Math.SQRT1_2 : 1) * 0.5 * Math.cos(((2 * x + 1) * u * Math.PI) / 16)).toExponential(6))),
);

/** LIRE's weights: the DC and the first two AC terms of each channel count more. */
const WEIGHTS = {
  y: (i: number) => (i < 3 ? 2 : 1),
  cb: (i: number) => (i === 0 ? 2 : 1),
  cr: (i: number) => (i === 0 ? 4 : i < 3 ? 2 : 1),
};

export interface ColorLayout {
  y: Int32Array;
  cb: Int32Array;
  cr: Int32Array;
}

function forwardDct(shape: Int32Array): void {
  const rows = new Float64Array(64);
  for (let i = 0; i < 8; i++) {
    for (let j = 0; j < 8; j++) {
      let s = 0;
      for (let k = 0; k < 8; k++) s += COSINE[j]![k]! * shape[8 * i + k]!;
      rows[8 * i + j] = s;
    }
  }
  for (let j = 0; j < 8; j++) {
    for (let i = 0; i < 8; i++) {
      let s = 0;
      for (let k = 0; k < 8; k++) s += COSINE[i]![k]! * rows[8 * k + j]!;
      shape[8 * i + j] = Math.floor(s + 0.499999);
    }
  }
}

function quantYdc(i: number): number {
  if (i > 192) return 112 + ((i - 192) >> 2);
  if (i > 160) return 96 + ((i - 160) >> 1);
  if (i > 96) return 32 + (i - 96);
  if (i > 64) return 16 + ((i - 64) >> 1);
  return i >> 2;
}

function quantCdc(i: number): number {
  if (i > 191) return 63;
  if (i > 160) return 56 + ((i - 160) >> 2);
  if (i > 144) return 48 + ((i - 144) >> 1);
  if (i > 112) return 16 + (i - 112);
  if (i > 96) return 8 + ((i - 96) >> 1);
  if (i > 64) return (i - 64) >> 2;
  return 0;
}

function quantAc(value: number): number {
  const i = Math.max(-256, Math.min(255, value));
  const magnitude = Math.abs(i);
  let j = magnitude > 127 ? 64 + (magnitude >> 2) : magnitude > 63 ? 32 + (magnitude >> 1) : magnitude;
  if (i < 0) j = -j;
  return j + 128;
}

/** The 33 quantised coefficients of an RGB image (LIRE ColorLayout with 21 Y and 6+6 chroma terms). */
export function colorLayout(image: RawImage): ColorLayout {
  if (image.channels !== 3) throw new Error('colorLayout needs an RGB image');
  const sumY = new Float64Array(64);
  const sumCb = new Float64Array(64);
  const sumCr = new Float64Array(64);
  const counts = new Int32Array(64);
  const { width, height, data } = image;
  // Each column's block, once per picture rather than once per pixel (a query pays this twice).
  const blockColumn = Int32Array.from({ length: width }, (_, x) => Math.floor(x / (width / 8)));
  for (let y = 0; y < height; y++) {
    const blockRow = Math.floor(y / (height / 8)) << 3;
    for (let x = 0, o = y * width * 3; x < width; x++, o += 3) {
      const r = data[o]!;
      const g = data[o + 1]!;
      const b = data[o + 2]!;
      const k = blockRow + blockColumn[x]!;
      const luma = (0.299 * r + 0.587 * g + 0.114 * b) / 256;
      // LIRE truncates per pixel before averaging; kept for exact parity.
      sumY[k] += Math.trunc(219 * luma + 16.5);
      sumCb[k] += Math.trunc(224 * 0.564 * (b / 256 - luma) + 128.5);
      sumCr[k] += Math.trunc(224 * 0.713 * (r / 256 - luma) + 128.5);
      counts[k]! += 1;
    }
  }
  const shapes = [sumY, sumCb, sumCr].map((sum) => Int32Array.from(sum, (s, k) => (counts[k]! > 0 ? Math.trunc(s / counts[k]!) : 0)));
  for (const shape of shapes) forwardDct(shape);
  const [yShape, cbShape, crShape] = shapes as [Int32Array, Int32Array, Int32Array];
  const y = new Int32Array(COLOR_LAYOUT_Y_COEFFS);
  const cb = new Int32Array(COLOR_LAYOUT_C_COEFFS);
  const cr = new Int32Array(COLOR_LAYOUT_C_COEFFS);
  y[0] = quantYdc(yShape[0]! >> 3) >> 1;
  cb[0] = quantCdc(cbShape[0]! >> 3);
  cr[0] = quantCdc(crShape[0]! >> 3);
  for (let i = 1; i < COLOR_LAYOUT_Y_COEFFS; i++) y[i] = quantAc(yShape[ZIGZAG[i]!]! >> 1) >> 3;
  for (let i = 1; i < COLOR_LAYOUT_C_COEFFS; i++) {
    cb[i] = quantAc(cbShape[ZIGZAG[i]!]!) >> 3;
    cr[i] = quantAc(crShape[ZIGZAG[i]!]!) >> 3;
  }
  return { y, cb, cr };
}

/** LIRE's distance: the weighted Euclidean distances of the three channels, summed. */
export function colorLayoutDistance(a: ColorLayout, b: ColorLayout): number {
  const channel = (p: Int32Array, q: Int32Array, weight: (i: number) => number): number => {
    let sum = 0;
    for (let i = 0; i < p.length; i++) sum += weight(i) * (p[i]! - q[i]!) ** 2;
    return Math.sqrt(sum);
  };
  return channel(a.y, b.y, WEIGHTS.y) + channel(a.cb, b.cb, WEIGHTS.cb) + channel(a.cr, b.cr, WEIGHTS.cr);
}

/**
 * The descriptor as one vector for an L2 index: each coefficient scaled by √weight, so the
 * index's squared distance is LIRE's per-channel weighted sum (the exact LIRE distance then
 * re-orders the shortlist).
 */
export function colorLayoutVector(layout: ColorLayout): Float32Array {
  const out = new Float32Array(COLOR_LAYOUT_DIM);
  layout.y.forEach((v, i) => (out[i] = v * Math.sqrt(WEIGHTS.y(i))));
  layout.cb.forEach((v, i) => (out[COLOR_LAYOUT_Y_COEFFS + i] = v * Math.sqrt(WEIGHTS.cb(i))));
  layout.cr.forEach((v, i) => (out[COLOR_LAYOUT_Y_COEFFS + COLOR_LAYOUT_C_COEFFS + i] = v * Math.sqrt(WEIGHTS.cr(i))));
  return out;
}

/** Inverse of colorLayoutVector (the coefficients are integers, so rounding recovers them). */
export function colorLayoutFromVector(vector: Float32Array): ColorLayout {
  const take = (offset: number, count: number, weight: (i: number) => number) =>
    Int32Array.from({ length: count }, (_, i) => Math.round(vector[offset + i]! / Math.sqrt(weight(i))));
  return {
    y: take(0, COLOR_LAYOUT_Y_COEFFS, WEIGHTS.y),
    cb: take(COLOR_LAYOUT_Y_COEFFS, COLOR_LAYOUT_C_COEFFS, WEIGHTS.cb),
    cr: take(COLOR_LAYOUT_Y_COEFFS + COLOR_LAYOUT_C_COEFFS, COLOR_LAYOUT_C_COEFFS, WEIGHTS.cr),
  };
}
