// The sign-bit pre-scan: SignCodes must return exactly the Hamming-nearest rows, and an int8-only
// matrix that pre-scans must find what the full int8 scan finds on clustered rows.
import { describe, expect, it } from 'vitest';
import { SignCodes } from '../../src/store/embedded/sign-codes.js';
import { VectorMatrix } from '../../src/store/embedded/vector-matrix.js';
import { seededRandom } from '../../src/seeded-random.js';

const random = seededRandom(3);
const gaussianVector = (dim: number) => Float32Array.from({ length: dim }, () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));

function hamming(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i += 1) if (a[i]! > 0 !== b[i]! > 0) d += 1;
  return d;
}

describe('SignCodes', () => {
  for (const dim of [128, 64]) {
    it(`returns the ${dim}-d rows nearest in Hamming distance, ties in row order, also after a row moved`, () => {
      const rows = Array.from({ length: 3_000 }, () => gaussianVector(dim));
      const codes = new SignCodes(dim, 16);
      rows.forEach((row, i) => {
        codes.grow(i + 1);
        codes.set(i, row);
      });
      // A removal: the last row's bits move into row 10.
      codes.move(rows.length - 1, 10);
      rows[10] = rows.pop()!;
      const query = gaussianVector(dim);
      const near = codes.nearest(query, rows.length, 100);
      const expected = rows
        .map((row, i) => ({ i, d: hamming(row, query) }))
        .sort((a, b) => a.d - b.d || a.i - b.i)
        .slice(0, 100)
        .map((r) => r.i)
        .sort((a, b) => a - b);
      expect(near).toEqual(expected);
      expect(codes.nearest(query, 50, 100)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    });
  }

  it('refuses dimensions it cannot code', () => {
    expect(SignCodes.supports(48)).toBe(false);
    expect(() => new SignCodes(48, 1)).toThrow(RangeError);
  });
});

describe('int8-only matrix with the sign-bit pre-scan', () => {
  it('finds the neighbours the full int8 scan finds, with the same scores, on clustered rows', () => {
    const dim = 128;
    const unit = (v: Float32Array) => {
      let norm = 0;
      for (const x of v) norm += x * x;
      return v.map((x) => x / Math.sqrt(norm));
    };
    // Uniform noise of unit variance (cheaper to draw than Gaussian; the test builds 42k rows).
    const jitter = (base: Float32Array, spread: number) => unit(base.map((x) => x + (spread / Math.sqrt(dim)) * (random() - 0.5) * Math.sqrt(12)));
    const stored = new Map<string, Float32Array>();
    const reader = (rows: readonly { id: string }[]) => new Map(rows.map(({ id }) => [id, stored.get(id)!]));
    const prescanned = new VectorMatrix(dim, 'cosine', 42_000, true, reader);
    const full = new VectorMatrix(dim, 'cosine', 42_000, true, reader, false);
    // 42k rows: shots of 20 frames around centres 0.6 from 300 "real" rows, as bench/image-search.ts
    // crowds its library; large enough that a 10-row search pre-scans (2.5k of 42k rows kept).
    const real = Array.from({ length: 300 }, () => unit(gaussianVector(dim)));
    let centre = real[0]!;
    for (let i = 0; i < 42_000; i += 1) {
      if (i % 20 === 0) centre = jitter(real[Math.floor(random() * real.length)]!, 0.6);
      const vector = i < real.length ? real[i]! : jitter(centre, 0.15);
      stored.set(`p${i}`, vector);
      prescanned.set(`p${i}`, vector, { i }, i);
      full.set(`p${i}`, vector, { i }, i);
    }
    for (let i = 0; i < 42_000; i += 997) {
      prescanned.remove(`p${i}`);
      full.remove(`p${i}`);
    }
    for (let q = 0; q < 5; q += 1) {
      const query = jitter(real[1 + q]!, 0.3);
      const a = prescanned.search(query, 10);
      expect(a.map((h) => h.id)).toEqual(full.search(query, 10).map((h) => h.id));
      expect(a.map((h) => h.id)).toContain(`p${1 + q}`);
    }
  });
});
