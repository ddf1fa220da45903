// Face alignment: a similarity transform (rotation, uniform scale, translation) that maps the
// five detected landmarks onto the ArcFace template, then a bilinear warp to a 112×112 crop.
// Recognition models are trained on crops aligned this way; an unaligned crop costs a lot of
// accuracy (measured on faces.json, see README.md).
import type { Point, RawImage } from '../types.js';

/** ArcFace 5-point template for a 112×112 crop: eyes, nose tip, mouth corners. */
export const ARCFACE_TEMPLATE_112: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** Row-major 2×3 affine matrix [a, b, tx, c, d, ty]: x' = a·x + b·y + tx, y' = c·x + d·y + ty. */
export type Affine = [number, number, number, number, number, number];

/**
 * Least-squares similarity transform taking `from` onto `to` (Umeyama 1991, 2-D, no reflection).
 */
export function similarityTransform(from: readonly Point[], to: readonly Point[]): Affine {
  const n = from.length;
  if (n < 2 || n !== to.length) throw new Error('similarityTransform needs two equal point lists of length ≥ 2');
  let fx = 0, fy = 0, tx = 0, ty = 0;
  for (let i = 0; i < n; i++) {
    fx += from[i]![0]; fy += from[i]![1]; tx += to[i]![0]; ty += to[i]![1];
  }
  fx /= n; fy /= n; tx /= n; ty /= n;
  // With centred points p (from) and q (to), the optimal rotation+scale is
  // a = Σ(px·qx + py·qy) / Σ|p|², b = Σ(px·qy − py·qx) / Σ|p|².
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const px = from[i]![0] - fx, py = from[i]![1] - fy;
    const qx = to[i]![0] - tx, qy = to[i]![1] - ty;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (norm === 0) throw new Error('similarityTransform: source points coincide');
  const a = dot / norm;
  const b = cross / norm;
  return [a, -b, tx - (a * fx - b * fy), b, a, ty - (b * fx + a * fy)];
}

export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (det === 0) throw new Error('affine transform is singular');
  const ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/**
 * Samples `image` through `toOutput` (source → output coordinates) into a width×height image,
 * bilinear. Outside the source: `fill` (a constant grey level, as OpenCV's default warp that
 * recognition training crops were made with) or, when null, the nearest border pixel.
 */
export function warpAffine(image: RawImage, toOutput: Affine, width: number, height: number, fill: number | null = 0): RawImage {
  const [a, b, c, d, e, f] = invertAffine(toOutput);
  const { data, width: sw, height: sh, channels } = image;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // Pixel centres: sample the source at the pre-image of the output pixel's centre.
      const rawX = a * (x + 0.5) + b * (y + 0.5) + c - 0.5;
      const rawY = d * (x + 0.5) + e * (y + 0.5) + f - 0.5;
      if (fill !== null && (rawX < -0.5 || rawY < -0.5 || rawX > sw - 0.5 || rawY > sh - 0.5)) {
        out.fill(fill, (y * width + x) * channels, (y * width + x + 1) * channels);
        continue;
      }
      const sx = Math.min(Math.max(rawX, 0), sw - 1);
      const sy = Math.min(Math.max(rawY, 0), sh - 1);
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, sw - 1), y1 = Math.min(y0 + 1, sh - 1);
      const wx = sx - x0, wy = sy - y0;
      for (let ch = 0; ch < channels; ch++) {
        const p00 = data[(y0 * sw + x0) * channels + ch]!;
        const p01 = data[(y0 * sw + x1) * channels + ch]!;
        const p10 = data[(y1 * sw + x0) * channels + ch]!;
        const p11 = data[(y1 * sw + x1) * channels + ch]!;
        const top = p00 + (p01 - p00) * wx;
        const bottom = p10 + (p11 - p10) * wx;
        out[(y * width + x) * channels + ch] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return { data: out, width, height, channels };
}

/** The 112×112 ArcFace-aligned crop of the face whose five landmarks are given. */
export function alignFace(image: RawImage, landmarks: readonly Point[], template: readonly Point[] = ARCFACE_TEMPLATE_112, size = 112): RawImage {
  return warpAffine(image, similarityTransform(landmarks, template), size, size, 0);
}

/** Axis-aligned crop of a square region, which may extend past the image (filled with `fill`, or replicated borders when null). */
export function cropResize(image: RawImage, x: number, y: number, side: number, size: number, fill: number | null = 0): RawImage {
  const s = size / side;
  return warpAffine(image, [s, 0, -x * s, 0, s, -y * s], size, size, fill);
}
