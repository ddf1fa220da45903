// Ways of turning a track's aligned face crops into better input for a face embedder (issue 16,
// small/blurred faces; measured by bench/face-fusion.ts, none shipped): pixel-space fusion of the
// crops (mean, median, mean after sub-pixel registration by NCC), test-time augmentation (the crop
// scaled and shifted), and landmarks smoothed over the track before alignment. Pure: crops in,
// crops out; unit-tested in test/unit/face-fusion-variants.test.ts.
import { warpAffine } from '../src/models/faces/align.js';
import type { Box, Point, RawImage } from '../src/models/types.js';

/** Per-pixel weighted mean of equally sized crops. */
export function meanCrop(crops: readonly RawImage[], weights: readonly number[] = crops.map(() => 1)): RawImage {
  const first = crops[0];
  if (!first) throw new Error('meanCrop needs at least one crop');
  const total = weights.reduce((sum, w) => sum + w, 0);
  const acc = new Float64Array(first.data.length);
  crops.forEach((crop, k) => {
    for (let i = 0; i < acc.length; i++) acc[i]! += (crop.data[i]! * weights[k]!) / total;
  });
  return { ...first, data: Uint8Array.from(acc, (v) => Math.round(v)) };
}

/** Per-pixel median of equally sized crops (the upper median for an even count). */
export function medianCrop(crops: readonly RawImage[]): RawImage {
  const first = crops[0];
  if (!first) throw new Error('medianCrop needs at least one crop');
  const out = new Uint8Array(first.data.length);
  const values = new Array<number>(crops.length);
  for (let i = 0; i < out.length; i++) {
    crops.forEach((crop, k) => (values[k] = crop.data[i]!));
    values.sort((a, b) => a - b);
    out[i] = values[values.length >> 1]!;
  }
  return { ...first, data: out };
}

/** The crop scaled by `scale` about its centre, then moved by (dx, dy) pixels; borders replicated. */
export function transformedCrop(crop: RawImage, scale: number, dx: number, dy: number): RawImage {
  const cx = crop.width / 2;
  const cy = crop.height / 2;
  return warpAffine(crop, [scale, 0, cx - scale * cx + dx, 0, scale, cy - scale * cy + dy], crop.width, crop.height, null);
}

/** Mean of the channels, as floats. */
function grey(crop: RawImage): Float32Array {
  const out = new Float32Array(crop.width * crop.height);
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let c = 0; c < crop.channels; c++) sum += crop.data[i * crop.channels + c]!;
    out[i] = sum / crop.channels;
  }
  return out;
}

/** Normalised cross-correlation of two grey images over the central `inset` fraction (the face, not the fill). */
export function centralNcc(a: Float32Array, b: Float32Array, width: number, height: number, inset = 0.2): number {
  const x0 = Math.round(width * inset), x1 = width - x0, y0 = Math.round(height * inset), y1 = height - y0;
  let sumA = 0, sumB = 0, n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) { sumA += a[y * width + x]!; sumB += b[y * width + x]!; n++; }
  const meanA = sumA / n, meanB = sumB / n;
  let cross = 0, varA = 0, varB = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const p = a[y * width + x]! - meanA, q = b[y * width + x]! - meanB;
      cross += p * q; varA += p * p; varB += q * q;
    }
  }
  return varA > 0 && varB > 0 ? cross / Math.sqrt(varA * varB) : 0;
}

/** The shift (within ±radius, in `step`s) that best registers `crop` onto `reference` by NCC. */
export function registrationShift(crop: RawImage, reference: Float32Array, radius: number, step: number): { dx: number; dy: number } {
  let best = { score: Number.NEGATIVE_INFINITY, dx: 0, dy: 0 };
  for (let dy = -radius; dy <= radius + 1e-9; dy += step) {
    for (let dx = -radius; dx <= radius + 1e-9; dx += step) {
      const score = centralNcc(grey(transformedCrop(crop, 1, dx, dy)), reference, crop.width, crop.height);
      if (score > best.score) best = { score, dx, dy };
    }
  }
  return { dx: best.dx, dy: best.dy };
}

/**
 * Weighted mean of the crops after each is shifted (sub-pixel, bilinear) onto the running mean:
 * two rounds, so the reference is itself registered once. Landmark alignment of a 25-px face is
 * off by a pixel or two; this takes out the translation part of that error before averaging.
 */
export function registeredMeanCrop(crops: readonly RawImage[], weights: readonly number[], radius = 2, step = 0.5): RawImage {
  let reference = meanCrop(crops, weights);
  for (let round = 0; round < 2; round++) {
    const target = grey(reference);
    reference = meanCrop(crops.map((crop) => {
      const { dx, dy } = registrationShift(crop, target, radius, step);
      return transformedCrop(crop, 1, dx, dy);
    }), weights);
  }
  return reference;
}

export interface LandmarkedFace {
  box: Box;
  landmarks: readonly Point[];
  quality: number;
}

/**
 * Each face's landmarks replaced by the track's quality-weighted mean landmarks relative to the
 * box (x as a fraction of its width, y of its height), put back on that face's box: per-frame
 * landmark jitter of a small face averages out, box motion is kept.
 */
export function smoothedLandmarks(faces: readonly LandmarkedFace[]): Point[][] {
  const total = faces.reduce((sum, f) => sum + Math.max(f.quality, 1e-6), 0);
  const points = faces[0]?.landmarks.length ?? 0;
  const relative: Point[] = [];
  for (let i = 0; i < points; i++) {
    let x = 0, y = 0;
    for (const f of faces) {
      const w = Math.max(f.quality, 1e-6) / total;
      x += (w * (f.landmarks[i]![0] - f.box.x)) / f.box.width;
      y += (w * (f.landmarks[i]![1] - f.box.y)) / f.box.height;
    }
    relative.push([x, y]);
  }
  return faces.map((f) => relative.map(([x, y]): Point => [f.box.x + x * f.box.width, f.box.y + y * f.box.height]));
}
