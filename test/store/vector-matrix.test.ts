// The in-memory exact scan: the native (usearch SIMD) path must agree with the JS loop it replaces.
import { describe, expect, it } from 'vitest';
import { nativeScanAvailable, VectorMatrix } from '../../src/store/embedded/vector-matrix.js';
import type { VectorMetric } from '../../src/store/interfaces.js';
import { seededRandom } from '../../src/seeded-random.js';

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
    it(`native and JS scans return the same ${metric} neighbours and scores`, async () => {
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
        const a = await native.search(query, 10);
        const b = await plain.search(query, 10);
        expect(a.map((h) => h.id)).toEqual(b.map((h) => h.id));
        a.forEach((hit, i) => expect(hit.score).toBeCloseTo(b[i]!.score, 3));
        expect(a[0]!.payload).toEqual(b[0]!.payload);
        expect(a.some((h) => h.id === 'p0' || h.id === 'p97')).toBe(false);
      }
    });
  }

  it('int8 cosine shortlist, rescored exactly, keeps the exact neighbours of clustered vectors', async () => {
    // mulberry32: the float LCG above cycles within a few thousand draws, which makes exact ties.
    const random = seededRandom(11);
    const uniform = () => random() - 0.5;
    const dim = 128;
    // The norm once per vector: Math.hypot(...v) inside map() made this test O(dim²) per vector
    // (~60 s on a loaded machine).
    const unit = (v: Float32Array) => {
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    };
    const jitter = (base: Float32Array, length: number) => unit(base.map((c) => c + (length / Math.sqrt(dim)) * uniform() * Math.sqrt(12)));
    const native = new VectorMatrix(dim, 'cosine');
    const plain = new VectorMatrix(dim, 'cosine', 1024, false);
    // Shots of 20 frames (noise ~0.15 around a shot centre, centres ~0.6 around one scene), as
    // bench/image-search.ts draws its synthetic library.
    const scene = unit(Float32Array.from({ length: dim }, uniform));
    let centre = scene;
    for (let i = 0; i < 20_000; i += 1) {
      if (i % 20 === 0) centre = jitter(scene, 0.6);
      const vector = jitter(centre, 0.15);
      native.set(`p${i}`, vector, {});
      plain.set(`p${i}`, vector, {});
    }
    for (let q = 0; q < 3; q += 1) {
      const query = jitter(jitter(scene, 0.6), 0.15);
      const a = await native.search(query, 200);
      const b = await plain.search(query, 200);
      expect(a.slice(0, 20).map((h) => h.id)).toEqual(b.slice(0, 20).map((h) => h.id));
      a.slice(0, 20).forEach((hit, i) => expect(hit.score).toBeCloseTo(b[i]!.score, 5));
      const exact = new Set(b.map((h) => h.id));
      expect(a.filter((h) => exact.has(h.id)).length).toBeGreaterThanOrEqual(196);
    }
  });

  it('int8 L2 shortlist keeps the exact neighbours of ColorLayout-like rows, also after a larger magnitude re-codes the rows', async () => {
    const random = seededRandom(5);
    const dim = 33;
    const weight = (i: number) => Math.sqrt(i === 0 || i === 21 || i === 27 ? 4 : i < 3 ? 2 : 1);
    // Quantised coefficients (0..63) times √weight, clustered in shots of 20 as video frames are.
    const layout = (centre: number[], spread: number) => Float32Array.from(centre, (c, i) => Math.max(0, Math.min(63, Math.round(c + spread * (random() - 0.5)))) * weight(i));
    const native = new VectorMatrix(dim, 'l2');
    const plain = new VectorMatrix(dim, 'l2', 1024, false);
    let centre: number[] = [];
    for (let i = 0; i < 20_000; i += 1) {
      if (i % 20 === 0) centre = Array.from({ length: dim }, () => 10 + 40 * random());
      // The first rows are dim (small values): the scale set for them must widen for the rest.
      const vector = i < 100 ? layout(centre, 4).map((v) => v / 8) : layout(centre, 4);
      native.set(`p${i}`, vector, {});
      plain.set(`p${i}`, vector, {});
    }
    for (let q = 0; q < 5; q += 1) {
      const query = layout(Array.from({ length: dim }, () => 10 + 40 * random()), 4);
      const a = await native.search(query, 40);
      const b = await plain.search(query, 40);
      expect(a.map((h) => h.id)).toEqual(b.map((h) => h.id));
      a.forEach((hit, i) => expect(hit.score).toBeCloseTo(b[i]!.score, 3));
    }
  });

  describe('keeping int8 rows only, rescoring from the stored vectors', () => {
    const dim = 48;
    /** A float matrix and an int8-only one over the same rows (stored as given, not normalised), after some removals. */
    function twins() {
      const random = seeded(7);
      const stored = new Map<string, Float32Array>();
      const reads: number[] = [];
      const floats = new VectorMatrix(dim, 'cosine');
      const misplaced: string[] = [];
      const int8 = new VectorMatrix(dim, 'cosine', 16, true, (rows) => {
        reads.push(rows.length);
        // Each row comes with the locator it was set with (here: its number), after removals moved rows too.
        for (const { id, locator } of rows) if (`p${locator}` !== id) misplaced.push(id);
        return new Map(rows.flatMap(({ id }) => (stored.has(id) ? [[id, stored.get(id)!] as const] : [])));
      });
      for (let i = 0; i < 5_000; i += 1) {
        const vector = Float32Array.from({ length: dim }, () => 3 * random());
        stored.set(`p${i}`, vector);
        floats.set(`p${i}`, vector, { videoId: `v${i % 7}` });
        int8.set(`p${i}`, vector, { videoId: `v${i % 7}` }, i);
      }
      for (let i = 0; i < 5_000; i += 89) {
        stored.delete(`p${i}`);
        floats.remove(`p${i}`);
        int8.remove(`p${i}`);
      }
      return { floats, int8, stored, reads, misplaced, random };
    }

    it('finds the same neighbours with the same scores as the float rows, filtered or not', async () => {
      const { floats, int8, reads, misplaced, random } = twins();
      expect(int8.int8Only).toBe(true);
      expect(floats.int8Only).toBe(false);
      for (let q = 0; q < 5; q += 1) {
        const query = Float32Array.from({ length: dim }, random);
        expect(await int8.search(query, 10)).toEqual(await floats.search(query, 10));
        // ~700 rows pass: shortlisted on int8 in JS; the float matrix scans them exactly.
        expect(await int8.search(query, 10, { videoIds: ['v3'] })).toEqual(await floats.search(query, 10, { videoIds: ['v3'] }));
        // 1 row of each id set passes: every passing row rescored.
        expect(await int8.search(query, 3, { videoIds: ['v3'], equals: { videoId: 'v3' } })).toEqual(await floats.search(query, 3, { videoIds: ['v3'], equals: { videoId: 'v3' } }));
      }
      // Reads are for the shortlists only, never the whole matrix.
      expect(Math.max(...reads)).toBeLessThanOrEqual(Math.ceil(10 * 1.25) + 64);
      expect(misplaced).toEqual([]);
    });

    it('skips a shortlisted row whose vector is no longer stored', async () => {
      const { int8, stored, random } = twins();
      const query = Float32Array.from({ length: dim }, random);
      const [best] = await int8.search(query, 1);
      stored.delete(best!.id);
      expect((await int8.search(query, 5)).map((h) => h.id)).not.toContain(best!.id);
    });

    it('keeps float rows for dot and L2 matrices whatever it is given', () => {
      const none = () => new Map<string, Float32Array>();
      expect(new VectorMatrix(4, 'dot', 16, true, none).int8Only).toBe(false);
      expect(new VectorMatrix(4, 'l2', 16, true, none).int8Only).toBe(false);
      expect(new VectorMatrix(4, 'cosine', 16, false, none).int8Only).toBe(false);
    });
  });

  it('returns copies of payloads', async () => {
    const matrix = new VectorMatrix(2, 'dot');
    matrix.set('a', Float32Array.from([1, 0]), { videoId: 'v1' });
    (await matrix.search(Float32Array.from([1, 0]), 1))[0]!.payload.videoId = 'changed';
    expect((await matrix.search(Float32Array.from([1, 0]), 1))[0]!.payload).toEqual({ videoId: 'v1' });
  });
});
