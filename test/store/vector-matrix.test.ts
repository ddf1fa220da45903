// The in-memory exact scan: the native (usearch SIMD) path must agree with the JS loop it replaces.
import { describe, expect, it } from 'vitest';
import { nativeScanAvailable, VectorMatrix } from '../../src/store/embedded/vector-matrix.js';
import type { VectorMetric } from '../../src/store/interfaces.js';

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31 - 0.5;
  };
}

describe('VectorMatrix', () => {
  it('loads the native scan (usearch prebuild for this platform)', () => {
    expect(nativeScanAvailable()).toBe(true);
  });

  for (const metric of ['cosine', 'dot', 'l2'] as VectorMetric[]) {
    it(`native and JS scans return the same ${metric} neighbours and scores`, () => {
      const random = seeded(42);
      const dim = 48;
      const native = new VectorMatrix(dim, metric);
      const plain = new VectorMatrix(dim, metric, 1024, false);
      for (let i = 0; i < 5_000; i += 1) {
        const vector = Float32Array.from({ length: dim }, random);
        native.set(`p${i}`, vector, { videoId: `v${i % 7}` });
        plain.set(`p${i}`, vector, { videoId: `v${i % 7}` });
      }
      // Removals move rows around: both must still agree.
      for (let i = 0; i < 5_000; i += 97) {
        native.remove(`p${i}`);
        plain.remove(`p${i}`);
      }
      for (let q = 0; q < 5; q += 1) {
        const query = Float32Array.from({ length: dim }, random);
        const a = native.search(query, 10);
        const b = plain.search(query, 10);
        expect(a.map((h) => h.id)).toEqual(b.map((h) => h.id));
        a.forEach((hit, i) => expect(hit.score).toBeCloseTo(b[i]!.score, 3));
        expect(a[0]!.payload).toEqual(b[0]!.payload);
        expect(a.some((h) => h.id === 'p0' || h.id === 'p97')).toBe(false);
      }
    });
  }

  it('returns copies of payloads', () => {
    const matrix = new VectorMatrix(2, 'dot');
    matrix.set('a', Float32Array.from([1, 0]), { videoId: 'v1' });
    matrix.search(Float32Array.from([1, 0]), 1)[0]!.payload.videoId = 'changed';
    expect(matrix.search(Float32Array.from([1, 0]), 1)[0]!.payload).toEqual({ videoId: 'v1' });
  });
});
