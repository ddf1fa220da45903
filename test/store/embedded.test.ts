// The embedded SQLite store: the shared conformance suite on a temp dir, plus what only this
// backend promises (one file, migrations, persistence, cross-connection consistency).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedCatalog } from '../../src/store/embedded/catalog.js';
import { DATABASE_FILE } from '../../src/store/embedded/db.js';
import { EmbeddedFrameEvidenceRepository } from '../../src/store/embedded/frame-evidence.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { MIGRATIONS, migrate } from '../../src/store/embedded/migrations.js';
import { EmbeddedTextIndex } from '../../src/store/embedded/text-index.js';
import { CHANGE_LOG_ENDS_SQL, EmbeddedVectorIndex } from '../../src/store/embedded/vector-index.js';
import { seededRandom } from '../../src/seeded-random.js';
import type { Store } from '../../src/store/interfaces.js';
import { describeStoreConformance, structure, textDoc, video } from './conformance.js';

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'vidsearch-store-'));
}

describeStoreConformance('embedded', async () => {
  const dir = await tempDir();
  const store = await openEmbeddedStore(path.join(dir, 'data'));
  return {
    store,
    async dispose() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('embedded store', () => {
  let dir: string;
  const opened: Store[] = [];
  const open = async (): Promise<Store> => {
    const store = await openEmbeddedStore(path.join(dir, 'nested', 'data'));
    opened.push(store);
    return store;
  };

  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the data dir and one WAL database file, migrated to the latest schema', async () => {
    const store = await open();
    expect(store.schemaVersion).toBe(MIGRATIONS.length);
    const file = path.join(dir, 'nested', 'data', DATABASE_FILE);
    expect(existsSync(file)).toBe(true);
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it('keeps everything across close and reopen, at the same schema version', async () => {
    const first = await open();
    await first.catalog.putVideo(video('v1'));
    const { shots, segments } = structure('v1', 2);
    await first.catalog.replaceStructure('v1', shots, segments);
    await first.text.upsert([textDoc('d1', 'v1', 0, '今天天气很好')]);
    await first.vectors.ensureCollection({ name: 'faces', dim: 2, metric: 'cosine', modelId: 'm1' });
    await first.vectors.upsert('faces', [{ id: 'p1', vector: Float32Array.from([1, 0]), payload: { videoId: 'v1' } }]);
    const job = await first.jobs.enqueue({ kind: 'INDEX_VIDEO', videoId: 'v1', request: { path: '/m/v1.mp4' } });
    await first.close();

    const second = await open();
    expect(second.schemaVersion).toBe(first.schemaVersion);
    expect(await second.catalog.getVideo('v1')).toEqual(video('v1'));
    expect(await second.catalog.getSegmentsOfVideo('v1')).toEqual(segments);
    expect((await second.text.search({ query: '天气', limit: 5, offset: 0 })).hits.map((h) => h.doc.id)).toEqual(['d1']);
    expect(await second.vectors.ensureCollection({ name: 'faces', dim: 2, metric: 'cosine', modelId: 'm1' })).toBe('ok');
    expect((await second.vectors.search('faces', Float32Array.from([1, 0]), 1)).map((h) => h.id)).toEqual(['p1']);
    expect(await second.jobs.get(job.id)).toEqual(job);
  });

  it('deleteVideo also removes the video text documents and vectors (same database, one transaction)', async () => {
    const store = await open();
    await store.catalog.putVideo(video('v1'));
    await store.catalog.putVideo(video('v2'));
    await store.text.upsert([textDoc('d1', 'v1', 0, 'storm ahead'), textDoc('d2', 'v2', 0, 'storm behind')]);
    await store.vectors.ensureCollection({ name: 'faces', dim: 2, metric: 'dot', modelId: 'm1' });
    await store.vectors.upsert('faces', [
      { id: 'p1', vector: Float32Array.from([1, 0]), payload: { videoId: 'v1' } },
      { id: 'p2', vector: Float32Array.from([1, 0]), payload: { videoId: 'v2' } },
    ]);
    // Load the matrix first: the cascade must reach the in-memory copy too.
    expect(await store.vectors.search('faces', Float32Array.from([1, 0]), 5)).toHaveLength(2);
    await store.catalog.deleteVideo('v1');
    expect((await store.text.search({ query: 'storm', limit: 5, offset: 0 })).hits.map((h) => h.doc.id)).toEqual(['d2']);
    expect((await store.vectors.search('faces', Float32Array.from([1, 0]), 5)).map((h) => h.id)).toEqual(['p2']);
    expect(await store.vectors.count('faces', { videoIds: ['v1'] })).toBe(0);
  });

  it('keeps two connections to the same file consistent (API server and worker processes)', async () => {
    const server = await open();
    const worker = await open();
    await server.vectors.ensureCollection({ name: 'frames', dim: 2, metric: 'cosine', modelId: 'm1' });
    expect(await server.vectors.search('frames', Float32Array.from([1, 0]), 5)).toEqual([]);
    await worker.vectors.upsert('frames', [
      { id: 'a', vector: Float32Array.from([1, 0]), payload: { videoId: 'v1' } },
      { id: 'b', vector: Float32Array.from([0, 1]), payload: { videoId: 'v2' } },
    ]);
    expect((await server.vectors.search('frames', Float32Array.from([1, 0]), 5)).map((h) => h.id)).toEqual(['a', 'b']);
    await worker.vectors.upsert('frames', [{ id: 'a', vector: Float32Array.from([0, -1]), payload: { videoId: 'v1' } }]);
    await worker.vectors.deleteByVideo('v2');
    const hits = await server.vectors.search('frames', Float32Array.from([1, 0]), 5);
    expect(hits.map((h) => [h.id, Math.round(h.score)])).toEqual([['a', 0]]);
    expect(await worker.vectors.ensureCollection({ name: 'frames', dim: 2, metric: 'cosine', modelId: 'm2' })).toBe('model-changed');
    expect(await server.vectors.search('frames', Float32Array.from([1, 0]), 5)).toEqual([]);

    for (let i = 0; i < 10; i += 1) await server.jobs.enqueue({ kind: 'INDEX_VIDEO', videoId: null, request: { path: `/m/${i}.mp4` } });
    const claimed: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      const job = await (i % 2 === 0 ? server : worker).jobs.claim(`w${i % 2}`);
      if (job) claimed.push(job.id);
    }
    expect(claimed).toHaveLength(10);
    expect(new Set(claimed).size).toBe(10);
  });

  it('ranks only the newest matches of a very common query, keeping the total exact', async () => {
    const store = await open();
    const db = new Database(path.join(dir, 'nested', 'data', DATABASE_FILE));
    try {
      const text = new EmbeddedTextIndex(db, 4);
      // Older segments hold the better (shorter) matches; the window sees only the 4 newest docs.
      await text.upsert(Array.from({ length: 10 }, (_, i) => textDoc(`d${i}`, 'v1', i, i < 5 ? 'rain' : `rain and ${'more words '.repeat(i)}`)));
      await text.upsert([textDoc('d10', 'v1', 9, 'rain again in the same segment as d9')]);
      const windowed = await text.search({ query: 'rain', limit: 3, offset: 0 });
      expect(windowed.total).toBe(10);
      expect(windowed.hits.map((h) => h.doc.segmentId).every((id) => ['v1-seg7', 'v1-seg8', 'v1-seg9'].includes(id))).toBe(true);
      // A filter that leaves too little of the window ranks every match instead (equal scores: newest first).
      const filtered = await text.search({ query: 'rain', limit: 3, offset: 0, to: 25 });
      expect(filtered.hits.map((h) => h.doc.id)).toEqual(['d2', 'd1', 'd0']);
      expect(filtered.total).toBe(3);
      // Without a window the best (shortest) matches win.
      expect((await store.text.search({ query: 'rain', limit: 3, offset: 0 })).hits.map((h) => h.doc.id)).toEqual(['d4', 'd3', 'd2']);
    } finally {
      db.close();
    }
  });

  it('answers from int8 rows only, rescored from SQLite, as from float rows, also after writes', async () => {
    const db = new Database(':memory:');
    migrate(db);
    try {
      const random = seededRandom(5);
      const floats = new EmbeddedVectorIndex(db);
      // Every collection int8-only, however small (at 1M frames: INT8_ONLY_MIN_ROWS).
      const int8 = new EmbeddedVectorIndex(db, 0);
      await floats.ensureCollection({ name: 'frames', dim: 32, metric: 'cosine', modelId: 'm' });
      const point = (i: number) => ({ id: `f${i}`, vector: Float32Array.from({ length: 32 }, () => random() - 0.5), payload: { videoId: `v${i % 5}` } });
      await floats.upsert('frames', Array.from({ length: 3_000 }, (_, i) => point(i)));
      const queries = Array.from({ length: 4 }, () => Float32Array.from({ length: 32 }, () => random() - 0.5));
      const same = async () => {
        for (const q of queries) {
          expect(await int8.search('frames', q, 8)).toEqual(await floats.search('frames', q, 8));
          expect(await int8.search('frames', q, 8, { videoIds: ['v2'] })).toEqual(await floats.search('frames', q, 8, { videoIds: ['v2'] }));
        }
      };
      await same();
      // Writes through another index object (as another process would): both matrices catch up.
      const best = (await floats.search('frames', queries[0]!, 1))[0]!.id;
      await floats.delete('frames', [best]);
      await floats.upsert('frames', [{ ...point(3_000), vector: queries[1]! }]);
      await same();
      expect((await int8.search('frames', queries[1]!, 1))[0]).toMatchObject({ id: 'f3000' });
      expect((await int8.search('frames', queries[0]!, 8)).map((h) => h.id)).not.toContain(best);
      // The rescoring reads rows by the rowid the matrix kept; a VACUUM after deletes renumbers them.
      const rowids = () => db.prepare("SELECT group_concat(rowid) AS r FROM vectors WHERE collection = 'frames'").get();
      const before = rowids();
      await floats.delete('frames', Array.from({ length: 100 }, (_, i) => `f${i * 7}`));
      await same();
      db.exec('VACUUM');
      expect(rowids()).not.toEqual(before);
      await same();
    } finally {
      db.close();
    }
  });

  it('reads the first and last seq of the change log from its key, without a scan', () => {
    const db = new Database(':memory:');
    migrate(db);
    try {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${CHANGE_LOG_ENDS_SQL}`).all() as { detail: string }[]).map((row) => row.detail);
      expect(plan.filter((detail) => detail.startsWith('SCAN vector_changes'))).toEqual([]);
      db.prepare("INSERT INTO vector_changes (collection, id) VALUES ('c', 'a'), ('c', 'b')").run();
      expect(db.prepare(CHANGE_LOG_ENDS_SQL).get()).toEqual({ first: 1, last: 2 });
    } finally {
      db.close();
    }
  });

  it('prepares the reads an image search repeats (evidence windows, the segment at a time) once per connection', async () => {
    const db = new Database(':memory:');
    migrate(db);
    try {
      const evidence = new EmbeddedFrameEvidenceRepository(db);
      const catalog = new EmbeddedCatalog(db);
      const frame = (time: number, repeat: boolean) => ({ time, picture: new Uint8Array([1]), features: new Uint8Array([2]), repeat, thumbnail: null });
      // A window opening on a repeat also reads the frame it repeats (the second statement).
      await evidence.add('v1', 'm', [frame(1, false), frame(2, true), frame(3, false)]);
      db.prepare("INSERT INTO segments (id, video_id, idx, shot_index, start, \"end\", keyframe_time) VALUES ('v1_s0', 'v1', 0, 0, 0, 5, 1)").run();
      const reads = async () => ({
        window: (await evidence.window('v1', 'm', 1.5, 3)).map((f) => f.time),
        segment: (await catalog.segmentAt('v1', 2))?.id,
      });
      const prepare = db.prepare.bind(db);
      let prepared = 0;
      db.prepare = ((sql: string) => {
        prepared += 1;
        return prepare(sql);
      }) as typeof db.prepare;
      expect(await reads()).toEqual({ window: [1, 2, 3], segment: 'v1_s0' });
      const first = prepared;
      expect(first).toBe(3);
      expect(await reads()).toEqual({ window: [1, 2, 3], segment: 'v1_s0' });
      expect(prepared).toBe(first);
    } finally {
      db.close();
    }
  });

  it('applies only the migrations a database has not seen, and refuses a newer schema', async () => {
    const db = new Database(':memory:');
    try {
      expect(migrate(db, ['CREATE TABLE a (x)'])).toBe(1);
      expect(migrate(db, ['CREATE TABLE a (x)', 'CREATE TABLE b (y)'])).toBe(2);
      expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('a', 'b')").get()).toEqual({ n: 2 });
      expect(() => migrate(db, ['CREATE TABLE a (x)'])).toThrow(/newer than this build/);
      // A failing migration leaves the version where it was.
      expect(() => migrate(db, ['CREATE TABLE a (x)', 'CREATE TABLE b (y)', 'CREATE TABLE c (z); BROKEN SQL'])).toThrow();
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'c'").get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });
});
