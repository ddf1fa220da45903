// A vector matrix's compact ids and payloads (typed arrays instead of JS strings and objects):
// each must behave as the plain Map / object list it replaces, under adds, overwrites and
// removals that move the last row, with filters testing the columns as payloadTest tests payloads.
import { describe, expect, it } from 'vitest';
import { RowIds } from '../../src/store/embedded/row-ids.js';
import { RowPayloads } from '../../src/store/embedded/row-payloads.js';
import { VectorMatrix } from '../../src/store/embedded/vector-matrix.js';
import type { VectorFilter, VectorPayload } from '../../src/store/interfaces.js';
import { seededRandom } from '../../src/seeded-random.js';
import { payloadTest } from '../helpers/fake-store.js';

/** Removes row `row` from a plain list the way the matrix does: the last element moves into its place. */
function removeMovingLast<T>(list: T[], row: number): void {
  const last = list.pop()!;
  if (row < list.length) list[row] = last;
}

describe('RowIds', () => {
  it('finds every id by row and row by id through adds and removals that move the last row', () => {
    const random = seededRandom(3);
    // Small start: the byte array, the row arrays and the hash table all grow, and removed ids' bytes are reclaimed.
    const ids = new RowIds(4);
    const plain: string[] = [];
    const idFor = (i: number) => (i % 5 === 0 ? `视频${i}:帧` : i % 7 === 0 ? `😀${i}` : `vid_${i}:${i * 500}`);
    for (let step = 0; step < 20_000; step += 1) {
      if (plain.length > 0 && random() < 0.4) {
        const row = Math.floor(random() * plain.length);
        ids.remove(row);
        removeMovingLast(plain, row);
      } else {
        const id = idFor(step);
        expect(ids.add(id)).toBe(plain.length);
        plain.push(id);
        // Adding an id again finds its row.
        if (step % 97 === 0) expect(ids.add(id)).toBe(plain.length - 1);
      }
    }
    expect(ids.size).toBe(plain.length);
    expect(plain.map((_, row) => ids.idOf(row))).toEqual(plain);
    expect(plain.map((id) => ids.rowOf(id))).toEqual(plain.map((_, row) => row));
    expect(ids.rowOf(idFor(0))).toBe(plain.includes(idFor(0)) ? plain.indexOf(idFor(0)) : undefined);
    expect(ids.rowOf('never-added')).toBeUndefined();
  });

  it('removing the only row leaves an empty set that takes new ids', () => {
    const ids = new RowIds(1);
    ids.add('a');
    ids.remove(0);
    expect(ids.size).toBe(0);
    expect(ids.rowOf('a')).toBeUndefined();
    expect(ids.add('b')).toBe(0);
    expect(ids.rowOf('b')).toBe(0);
  });
});

describe('RowPayloads', () => {
  const samples: VectorPayload[] = [
    { videoId: 'v1', time: 2.5, from: 1.5, to: 3.5 },
    { actorId: 'a1', kind: 'sample', source: 'cluster', speechSec: 12.34 },
    { videoId: 'v2', trackId: 7, time: -0 },
    { actorId: 'a2' },
    { flag: true, other: false, none: null, gone: undefined },
    { time: 1e300, videoId: 'v1', big: Number.MAX_SAFE_INTEGER + 2 },
    {},
  ];

  it('gives back each payload as set, keys in their order, after overwrites and removals', () => {
    const payloads = new RowPayloads(2);
    const plain: VectorPayload[] = [];
    samples.forEach((p, row) => {
      payloads.set(row, p);
      plain.push(p);
    });
    payloads.set(1, samples[4]!);
    plain[1] = samples[4]!;
    payloads.remove(2);
    removeMovingLast(plain, 2);
    payloads.remove(plain.length - 1);
    removeMovingLast(plain, plain.length - 1);
    expect(payloads.size).toBe(plain.length);
    plain.forEach((p, row) => {
      const got = payloads.get(row);
      expect(got).toEqual(p);
      expect(Object.keys(got)).toEqual(Object.keys(p));
      expect(Object.is(got.time, p.time)).toBe(true);
    });
    // A fresh object each time: editing one does not reach the stored row.
    payloads.get(0).videoId = 'edited';
    expect(payloads.get(0)).toEqual(plain[0]);
  });

  it('filters rows exactly as payloadTest filters the payloads, through overwrites and removals', () => {
    const random = seededRandom(5);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const videos = ['v0', 'v1', 'v2', 'v3'];
    const values = ['template', 'sample', 3, 0, true, false, null, 'v1'];
    const makePayload = (): VectorPayload => {
      const p: VectorPayload = {};
      if (random() < 0.8) p.videoId = pick(videos);
      if (random() < 0.5) p.actorId = pick(['a0', 'a1', 'a2']);
      if (random() < 0.6) p.kind = pick(values);
      if (random() < 0.3) p.odd = pick([7, null, 'v9']);
      if (random() < 0.1) Object.assign(p, { videoId: pick([7, null]) });
      return p;
    };
    const payloads = new RowPayloads(8);
    const plain: VectorPayload[] = [];
    for (let step = 0; step < 3_000; step += 1) {
      const r = random();
      if (plain.length > 0 && r < 0.3) {
        const row = Math.floor(random() * plain.length);
        payloads.remove(row);
        removeMovingLast(plain, row);
      } else if (plain.length > 0 && r < 0.5) {
        const row = Math.floor(random() * plain.length);
        plain[row] = makePayload();
        payloads.set(row, plain[row]!);
      } else {
        plain.push(makePayload());
        payloads.set(plain.length - 1, plain.at(-1)!);
      }
    }
    const filters: VectorFilter[] = [
      {},
      { videoIds: ['v1'] },
      { videoIds: ['v1'], actorIds: [] },
      { videoIds: ['v1', 'v3', 'v9', 'absent'] },
      { videoIds: [] },
      { actorIds: ['a2'] },
      { videoIds: ['v2'], actorIds: ['a0', 'a1'] },
      { equals: { kind: 'sample' } },
      { equals: { kind: 3 } },
      { equals: { kind: false } },
      { equals: { kind: 'v1', videoId: 'v1' } },
      { equals: { missingKey: 'x' } },
      { actorIds: ['a1'], equals: { kind: true } },
    ];
    for (const filter of filters) {
      const reference = payloadTest(filter);
      const test = payloads.test(filter);
      expect(test === null).toBe(reference === null);
      const expected = plain.flatMap((p, row) => (!reference || reference(p) ? [row] : []));
      const got = plain.flatMap((_, row) => (!test || test(row) ? [row] : []));
      expect(got, JSON.stringify(filter)).toEqual(expected);
    }
  });

  it('forgets a string no row holds any more', () => {
    const payloads = new RowPayloads(4);
    payloads.set(0, { videoId: 'gone' });
    payloads.set(1, { videoId: 'kept' });
    payloads.set(0, { videoId: 'kept' });
    expect(payloads.test({ videoIds: ['gone'] })!(0)).toBe(false);
    payloads.set(2, { videoId: 'gone' });
    expect(payloads.test({ videoIds: ['gone'] })!(2)).toBe(true);
    payloads.remove(2);
    payloads.set(2, { videoId: 'new' });
    expect(payloads.get(2)).toEqual({ videoId: 'new' });
    expect(payloads.test({ videoIds: ['gone'] })!(2)).toBe(false);
  });
});

describe('VectorMatrix on compact rows', () => {
  it('searches, scrolls and counts as a brute force over the same points, after overwrites and removals', async () => {
    const random = seededRandom(9);
    const dim = 8;
    const matrix = new VectorMatrix(dim, 'dot', 4, false);
    const points = new Map<string, { vector: Float32Array; payload: VectorPayload }>();
    for (let step = 0; step < 2_000; step += 1) {
      const id = `p${Math.floor(random() * 600)}`;
      if (points.has(id) && random() < 0.4) {
        matrix.remove(id);
        points.delete(id);
      } else {
        const vector = Float32Array.from({ length: dim }, () => random() - 0.5);
        const payload = { videoId: `v${Math.floor(random() * 5)}`, time: Math.round(random() * 1000) / 10 };
        matrix.set(id, vector, payload);
        points.set(id, { vector, payload });
      }
    }
    const query = Float32Array.from({ length: dim }, () => random() - 0.5);
    const filter = { videoIds: ['v1', 'v4'] };
    const expected = [...points]
      .filter(([, p]) => filter.videoIds.includes(p.payload.videoId!))
      .map(([id, p]) => ({ id, payload: p.payload, score: p.vector.reduce((s, v, i) => s + v * query[i]!, 0) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 10);
    const hits = await matrix.search(query, 10, filter);
    expect(hits.map((h) => [h.id, h.payload])).toEqual(expected.map((h) => [h.id, h.payload]));
    hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]!.score, 5));
    expect(matrix.size).toBe(points.size);
    expect(matrix.count(filter)).toBe([...points.values()].filter((p) => filter.videoIds.includes(p.payload.videoId!)).length);
    const ids = [...points.keys()].sort((a, b) => (a < b ? -1 : 1));
    expect(matrix.scroll(undefined, 50)).toEqual(ids.slice(0, 50).map((id) => ({ id, payload: points.get(id)!.payload })));
  });
});
