// Large matrices scan their int8 codes split across threads (sharded-codes.ts): the answers must be
// the in-process matrix's exactly (same hits, scores and order, ties included), after writes,
// removals and re-codes, filtered or not; a thread that dies fails its searches with a typed error
// and the index loads the matrix again with new threads.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { seededRandom } from '../../src/seeded-random.js';
import { migrate } from '../../src/store/embedded/migrations.js';
import { ShardedRowCodes } from '../../src/store/embedded/sharded-codes.js';
import { EmbeddedVectorIndex } from '../../src/store/embedded/vector-index.js';
import { VectorMatrix, type StoredRows } from '../../src/store/embedded/vector-matrix.js';
import type { VectorFilter, VectorMetric } from '../../src/store/interfaces.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const compiledWorker = path.join(repoRoot, 'dist/src/store/embedded/scan-worker.js');
const script = pathToFileURL(compiledWorker);
const dyingScript = pathToFileURL(path.join(repoRoot, 'test/fixtures/dying-scan-worker.mjs'));
const skipped = () => console.warn('[sharded-scan] no dist/ build (run tsc): scan-thread checks skipped');

/** An in-process matrix and sharded ones (2 and 3 threads) over the same rows; int8-only ones read `stored`. */
function twins(dim: number, metric: VectorMetric, int8Only: boolean) {
  const stored = new Map<string, Float32Array>();
  const reader: StoredRows | null = int8Only ? (rows) => new Map(rows.flatMap(({ id }) => (stored.has(id) ? [[id, stored.get(id)!]] : []))) : null;
  const matrices = [1, 2, 3].map((threads) => new VectorMatrix(dim, metric, 64, true, reader, threads === 1 ? undefined : (d, capacity) => new ShardedRowCodes(d, capacity, threads, script)));
  return {
    matrices,
    set(id: string, vector: Float32Array, videoId: string) {
      stored.set(id, vector);
      for (const matrix of matrices) matrix.set(id, vector, { videoId });
    },
    remove(id: string) {
      stored.delete(id);
      for (const matrix of matrices) matrix.remove(id);
    },
    async expectSame(query: Float32Array, limit: number, filter?: VectorFilter) {
      const [local, ...sharded] = await Promise.all(matrices.map((m) => m.search(query, limit, filter)));
      expect(local!.length).toBe(Math.min(limit, matrices[0]!.count(filter)));
      for (const answer of sharded) expect(answer).toEqual(local);
      return local!;
    },
    close: () => Promise.all(matrices.map((m) => m.close())),
  };
}

describe('sharded int8 scans', () => {
  for (const [metric, int8Only] of [['cosine', true], ['cosine', false], ['l2', false]] as const) {
    it(`answer as the in-process matrix (${metric}${int8Only ? ', int8 rows only' : ''}): ties, overwrites, removals, filters`, async () => {
      if (!existsSync(compiledWorker)) return skipped();
      const random = seededRandom(metric === 'l2' ? 3 : int8Only ? 17 : 29);
      const dim = metric === 'l2' ? 33 : 24;
      // Integer coordinates (ColorLayout-like) and whole groups of duplicate rows: many exact ties.
      const draw = () => Float32Array.from({ length: dim }, () => Math.round(8 * random()) - (metric === 'l2' ? 0 : 4));
      const m = twins(dim, metric, int8Only);
      try {
        let duplicate = draw();
        for (let i = 0; i < 12_000; i += 1) {
          if (i % 50 === 0) duplicate = draw();
          m.set(`p${i}`, i % 5 === 0 ? duplicate : draw(), `v${i % 13}`);
        }
        // A crowd of identical rows larger than any shortlist (a black frame in every video).
        const black = draw();
        for (let i = 0; i < 400; i += 1) m.set(`black${i}`, black, `v${i % 13}`);
        for (let i = 0; i < 12_000; i += 7) m.remove(`p${i}`);
        for (let i = 3; i < 12_000; i += 11) m.set(`p${i}`, draw(), `v${i % 13}`);
        // A larger magnitude re-codes every L2 row.
        if (metric === 'l2') m.set('big', draw().map((v) => v * 3), 'v1');
        // Every black row ties: the 40 first ids of the crowd, in id order, wherever their rows sit.
        const crowd = await m.expectSame(black, 40);
        expect(crowd.map((h) => h.id)).toEqual([...Array(400).keys()].map((i) => `black${i}`).sort().slice(0, 40));
        for (let q = 0; q < 4; q += 1) {
          const query = q === 0 ? duplicate : draw();
          const hits = await m.expectSame(query, 40);
          if (q === 0) expect(hits.filter((h) => h.score === hits[0]!.score).length).toBeGreaterThan(1);
          await m.expectSame(query, 10, { videoIds: ['v1', 'v2', 'v3', 'v4'] });
          await m.expectSame(query, 5, { videoIds: ['v5'] });
        }
      } finally {
        await m.close();
      }
    });
  }

  it('fails the searches of a thread that dies with a typed error; the index loads the matrix again', async () => {
    if (!existsSync(compiledWorker)) return skipped();
    const db = new Database(':memory:');
    migrate(db);
    const random = seededRandom(23);
    const sharded = new EmbeddedVectorIndex(db, 1_000, { threads: 2, script: dyingScript, minRows: 1_000 });
    const local = new EmbeddedVectorIndex(db, 1_000, { threads: 1, script: null, minRows: 1_000 });
    try {
      await sharded.ensureCollection({ name: 'frames', dim: 16, metric: 'cosine', modelId: 'm' });
      await sharded.upsert('frames', Array.from({ length: 3_000 }, (_, i) => ({ id: `f${i}`, vector: Float32Array.from({ length: 16 }, () => random() - 0.5), payload: {} })));
      const query = Float32Array.from({ length: 16 }, () => random() - 0.5);
      expect(await sharded.search('frames', query, 10)).toEqual(await local.search('frames', query, 10));
      const died = sharded.search('frames', new Float32Array(16), 10);
      await expect(died).rejects.toBeInstanceOf(AppError);
      await expect(died).rejects.toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
      expect(await sharded.search('frames', query, 10)).toEqual(await local.search('frames', query, 10));
    } finally {
      await sharded.close();
      db.close();
    }
  });
});
