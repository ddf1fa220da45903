// alignQuery (with the counted pixels and centred values it now keeps) and photometricScore's
// precomputed sums must give exactly what the per-pixel definition gives:
// the moment's ranking compares scores that differ in the fourth decimal. The reference below is
// that definition, written out plainly.
import { describe, expect, it } from 'vitest';
import { invert3x3 } from '../../../src/models/image-descriptors/local-features.js';
import type { RawImage } from '../../../src/models/types.js';
import type { GreyThumbnail } from '../../../src/services/image-search/frame-source.js';
import { alignQuery, photometricScore } from '../../../src/services/image-search/localisation.js';
import { seededRandom } from '../../../src/seeded-random.js';

const W = 160;
const H = 90;

/** The per-pixel resampling (borders 4 %, subtitle bands 20 % of frame and query height). */
function referenceAlign(query: RawImage, homography: readonly number[], scale: number) {
  const [a, b, c, d, e, f, g, h, i] = invert3x3(homography)!;
  const values = new Float32Array(W * H);
  const mask = new Uint8Array(W * H);
  const border = Math.round(0.04 * Math.min(W, H));
  let count = 0;
  let sum = 0;
  for (let y = border; y < Math.min(H * 0.8, H - border); y++) {
    for (let x = border; x < W - border; x++) {
      const fx = (x + 0.5) * scale;
      const fy = (y + 0.5) * scale;
      const w = g! * fx + h! * fy + i!;
      if (w <= 0) continue;
      const qx = Math.floor((a! * fx + b! * fy + c!) / w);
      const qy = Math.floor((d! * fx + e! * fy + f!) / w);
      if (qx < 0 || qy < 0 || qx >= query.width || qy >= query.height * 0.8) continue;
      values[y * W + x] = query.data[(qy * query.width + qx) * query.channels]!;
      mask[y * W + x] = 1;
      count++;
      sum += values[y * W + x]!;
    }
  }
  return { values, mask, count, mean: sum / count };
}

/** NCC less 0.2 |ln(mean ratio)|, summed pixel by pixel. */
function referenceScore(q: ReturnType<typeof referenceAlign>, grey: ArrayLike<number>): number | null {
  let sumF = 0;
  let sumFF = 0;
  let sumQF = 0;
  let sumQQ = 0;
  for (let k = 0; k < q.mask.length; k++) {
    if (!q.mask[k]) continue;
    const v = grey[k]!;
    const centred = q.values[k]! - q.mean;
    sumF += v;
    sumFF += v * v;
    sumQF += centred * v;
    sumQQ += centred * centred;
  }
  const meanF = sumF / q.count;
  const varF = sumFF / q.count - meanF * meanF;
  if (varF <= 1e-6 || sumQQ <= 1e-6) return null;
  return sumQF / q.count / Math.sqrt((sumQQ / q.count) * varF) - 0.2 * Math.abs(Math.log((meanF + 8) / (q.mean + 8)));
}

describe('alignQuery and photometricScore against their per-pixel definition', () => {
  const random = seededRandom(5);
  const byte = () => Math.floor(random() * 256);
  const cases = Array.from({ length: 24 }, (_, n) => {
    const width = 120 + Math.floor(random() * 520);
    const height = 90 + Math.floor(random() * 270);
    const query: RawImage = { data: Uint8Array.from({ length: width * height }, byte), width, height, channels: 1 };
    const [sx, sy, tx, ty] = [0.3 + random(), 0.3 + random(), random() * 80 - 40, random() * 50 - 25];
    // Even cases: a scale and shift (every refinement try); odd ones: a projective map (ORB's).
    const homography = n % 2 === 0 ? [sx, 0, tx, 0, sy, ty, 0, 0, 1] : [sx, random() * 0.05, tx, random() * 0.05, sy, ty, random() * 1e-4, random() * 1e-4, 1];
    return { query, homography };
  });

  it('resamples the same pixels to the same values, and scores every frame the same', () => {
    let compared = 0;
    for (const { query, homography } of cases) {
      const fast = alignQuery(query, homography, 2, W, H);
      const reference = referenceAlign(query, homography, 2);
      if (reference.count < 0.1 * W * H) {
        expect(fast).toBeNull();
        continue;
      }
      expect(fast).not.toBeNull();
      expect(fast!.count).toBe(reference.count);
      expect(fast!.mean).toBe(reference.mean);
      // The first pixel that differs (-1: none); toEqual on 14 400 elements is slow.
      // The same pixels, in row-major order, with the same values.
      const sampled: number[] = [];
      reference.mask.forEach((m, k) => m && sampled.push(k));
      expect(fast!.counted.findIndex((k, j) => k !== sampled[j])).toBe(-1);
      expect(fast!.centred.findIndex((q, j) => q !== reference.values[sampled[j]!]! - reference.mean)).toBe(-1);
      for (const grey of [Uint8Array.from({ length: W * H }, byte), Float32Array.from({ length: W * H }, () => random() * 255)]) {
        const frame: GreyThumbnail = { time: 0, grey, width: W, height: H, repeat: false, features: null };
        expect(photometricScore(fast!, frame)).toBe(referenceScore(reference, grey));
      }
      compared++;
    }
    // Most maps overlap the frame enough to compare: the equalities above were exercised.
    expect(compared).toBeGreaterThan(12);
  });
});
