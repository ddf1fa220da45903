// What only the embedded FTS5 text index promises beyond the conformance suite: traditional and
// simplified Chinese find each other, single characters match inside words, and video/series/kind
// filters (the filter-tag table) stay exact when a very common query ranks only its newest matches,
// also across re-upserts, deletes and the migration that rebuilds an existing index; and bm25's
// statistics stay those of the documents present, however often they were re-indexed or deleted.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteDatabase } from '../../src/store/embedded/db.js';
import { MIGRATIONS, migrate } from '../../src/store/embedded/migrations.js';
import { EmbeddedTextIndex } from '../../src/store/embedded/text-index.js';
import { TEXT_TAGS_MIGRATION_SQL } from '../../src/store/embedded/text-tables.js';
import type { Store, TextQuery } from '../../src/store/interfaces.js';
import { useEmbeddedStores } from '../helpers/embedded-stores.js';
import { textDoc } from './conformance.js';

const query = (q: string, extra: Partial<TextQuery> = {}): TextQuery => ({ query: q, limit: 10, offset: 0, ...extra });

/** Two connections to one migrated database file: the API server's and the worker process's. */
async function withTwoConnections(run: (api: SqliteDatabase, worker: SqliteDatabase) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-text-'));
  const file = path.join(dir, 'store.db');
  const [api, worker] = [new Database(file), new Database(file)];
  try {
    migrate(api);
    await run(api, worker);
  } finally {
    api.close();
    worker.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('embedded text index', () => {
  let db: SqliteDatabase;
  beforeEach(() => {
    db = new Database(':memory:');
    migrate(db);
  });
  afterEach(() => db.close());

  it('folds traditional to simplified Chinese in both the text and the query', async () => {
    const text = new EmbeddedTextIndex(db);
    await text.upsert([textDoc('simplified', 'v1', 0, '我们明天在机场见面'), textDoc('traditional', 'v1', 1, '後來他們離開了台灣')]);
    const ids = async (q: string) => (await text.search(query(q))).hits.map((h) => h.doc.id);
    expect(await ids('我們')).toEqual(['simplified']);
    expect(await ids('機場見面')).toEqual(['simplified']);
    expect(await ids('他们离开')).toEqual(['traditional']);
    expect(await ids('離開')).toEqual(['traditional']);
    // The snippet marks the original characters.
    const [hit] = (await text.search(query('他们'))).hits;
    expect(hit!.snippet).toBe('後來<em>他們</em>離開了台灣');
  });

  it('finds a single Chinese character anywhere in a run, not only where a word starts', async () => {
    const text = new EmbeddedTextIndex(db);
    await text.upsert([textDoc('park', 'v1', 0, '我们去公园散步'), textDoc('other', 'v1', 1, '今天天气很好')]);
    expect((await text.search(query('园'))).hits.map((h) => h.doc.id)).toEqual(['park']);
    expect((await text.search(query('气'))).hits.map((h) => h.doc.id)).toEqual(['other']);
  });

  it('drops stop words from a query that has other terms, and keeps them when it has none', async () => {
    const text = new EmbeddedTextIndex(db);
    await text.upsert([textDoc('walk', 'v1', 0, 'a walk by a park'), textDoc('the', 'v1', 1, 'not the one'), textDoc('zh', 'v1', 2, '技术问题')]);
    const ids = async (q: string) => (await text.search(query(q))).hits.map((h) => h.doc.id);
    expect(await ids('walk in the park')).toEqual(['walk']);
    expect(await ids('the')).toEqual(['the']);
    expect(await ids('技术的问题')).toEqual(['zh']);
  });

  it('keeps cached totals exact across its own writes and another process’s writes', async () => {
    await withTwoConnections(async (api, worker) => {
      // Window of 2: three matches are more than the window, so the total is counted, not collapsed.
      const text = new EmbeddedTextIndex(api, 2);
      const total = async () => (await text.search(query('rain', { limit: 1 }))).total;
      await text.upsert([0, 1, 2].map((i) => textDoc(`a${i}`, 'v1', i, `rain ${i}`)));
      expect(await total()).toBe(3);
      expect(await total()).toBe(3);
      await text.upsert([textDoc('a3', 'v1', 3, 'more rain')]);
      expect(await total()).toBe(4);
      // The worker's connection writes the same file: this one must notice.
      await new EmbeddedTextIndex(worker).upsert([textDoc('b0', 'v2', 0, 'rain from the worker')]);
      expect(await total()).toBe(5);
      await text.deleteByVideo('v2');
      expect(await total()).toBe(4);
    });
  });

  it('keeps remembered rankings and rank windows exact across its own writes and another process’s writes', async () => {
    await withTwoConnections(async (api, worker) => {
      // Window of 2: the newest two matches are ranked, so a new match also moves the window.
      const text = new EmbeddedTextIndex(api, 2);
      const top = async () => (await text.search(query('rain', { limit: 1 }))).hits.map((h) => h.doc.id);
      await text.upsert([0, 1, 2].map((i) => textDoc(`a${i}`, 'v1', i, `rain falls on the roof ${i}`)));
      expect(await top()).toEqual(['a2']);
      expect(await top()).toEqual(['a2']);
      // A shorter line ranks first (bm25's length normalisation), once written on this connection…
      await text.upsert([textDoc('a3', 'v1', 3, 'rain')]);
      expect(await top()).toEqual(['a3']);
      // …and when another connection (the worker process) writes an even better one.
      await new EmbeddedTextIndex(worker).upsert([textDoc('b0', 'v2', 0, 'rain rain')]);
      expect(await top()).toEqual(['b0']);
      await text.deleteByVideo('v2');
      expect(await top()).toEqual(['a3']);
      // The page after the first, from the same remembered ranking, continues it.
      const pages = [await text.search(query('rain', { limit: 1 })), await text.search(query('rain', { limit: 1, offset: 1 }))];
      expect(pages.map((p) => p.hits.map((h) => h.doc.id))).toEqual([['a3'], ['a2']]);
    });
  });

  describe('filters of a query that matches more than the rank window', () => {
    // Window of 4: the 12 newest "rain" lines (series New) push the older, filtered ones out of it.
    let text: EmbeddedTextIndex;
    beforeEach(async () => {
      text = new EmbeddedTextIndex(db, 4);
      await text.upsert([
        textDoc('old1', 'old', 0, 'rain on the old roof', { series: 'Old' }),
        textDoc('old2', 'old', 1, 'rain again', { series: 'Old', kind: 'ON_SCREEN_TEXT', cueId: null }),
        textDoc('old3', 'old', 1, 'more rain in the same segment', { series: 'Old' }),
        textDoc('other', 'other', 0, 'rain elsewhere', { series: 'Elsewhere' }),
      ]);
      await text.upsert(Array.from({ length: 12 }, (_, i) => textDoc(`new${i}`, 'new', i, `rain number ${i}`, { series: 'New' })));
    });

    it('ranks and counts exactly what the series, video and kind filters keep', async () => {
      const all = await text.search(query('rain', { limit: 3 }));
      expect(all.total).toBe(15);
      expect(all.hits.every((h) => h.doc.videoId === 'new')).toBe(true);

      const old = await text.search(query('rain', { series: 'Old' }));
      expect(old.total).toBe(2);
      expect(old.hits.map((h) => h.doc.id).sort()).toEqual(['old1', 'old2']);
      const videos = await text.search(query('rain', { videoIds: ['other', 'old'] }));
      expect(videos.total).toBe(3);
      expect(videos.hits.map((h) => h.doc.id).sort()).toEqual(['old1', 'old2', 'other']);
      const onScreen = await text.search(query('rain', { kinds: ['ON_SCREEN_TEXT'] }));
      expect(onScreen).toMatchObject({ total: 1, hits: [{ doc: { id: 'old2' } }] });
      // Time window (a row filter) together with a tag filter: old1 spans [1, 3], old2/old3 [11, 13].
      const early = await text.search(query('rain', { series: 'Old', to: 5 }));
      expect(early).toMatchObject({ total: 1, hits: [{ doc: { id: 'old1' } }] });
      expect(await text.search(query('rain', { series: 'Nope' }))).toEqual({ hits: [], total: 0, totalIsExact: true });
      expect(await text.search(query('rain', { kinds: [] }))).toEqual({ hits: [], total: 0, totalIsExact: true });
    });

    it('counts exactly up to the total bound and reports the bound past it, with every filter', async () => {
      // Bound 5: 15 segments match "rain" (13 in the New series over 12 segments + old ones).
      const bounded = new EmbeddedTextIndex(db, 4, 5);
      expect(await bounded.search(query('rain', { limit: 3 }))).toMatchObject({ total: 5, totalIsExact: false });
      expect(await bounded.search(query('rain', { series: 'New', limit: 3 }))).toMatchObject({ total: 5, totalIsExact: false });
      // Over several videos' rowid ranges the budget carries across ranges: 12 + 2 + 1 segments.
      expect(await bounded.search(query('rain', { videoIds: ['old', 'other', 'new'] }))).toMatchObject({ total: 5, totalIsExact: false });
      expect(await bounded.search(query('rain', { videoIds: ['old', 'other'] }))).toMatchObject({ total: 3, totalIsExact: true });
      expect(await bounded.search(query('rain', { series: 'Old' }))).toMatchObject({ total: 2, totalIsExact: true });
      // At the bound exactly the count is still exact: 5 of the New series' segments start by 41 s.
      expect(await bounded.search(query('rain', { series: 'New', to: 41 }))).toMatchObject({ total: 5, totalIsExact: true });
      // Past the bound, pages still reach every match (the total stops, the hits do not).
      const late = await bounded.search(query('rain', { limit: 5, offset: 10 }));
      expect(late.hits).toHaveLength(5);
      expect(late).toMatchObject({ total: 5, totalIsExact: false });
    });

    it('keeps the filter tags in step with re-upserts and deletes', async () => {
      // old1 moves to another series, the whole "other" video goes, "new" is replaced.
      await text.upsert([textDoc('old1', 'old', 0, 'rain on the old roof', { series: 'Moved' })]);
      await text.deleteByVideo('other');
      await text.replaceVideo('new', [textDoc('fresh', 'new', 0, 'rain, fresh', { series: 'Old' })]);
      expect((await text.search(query('rain', { series: 'Old' }))).hits.map((h) => h.doc.id).sort()).toEqual(['fresh', 'old2']);
      expect((await text.search(query('rain', { series: 'Moved' }))).hits.map((h) => h.doc.id)).toEqual(['old1']);
      expect(await text.search(query('rain', { videoIds: ['other'] }))).toEqual({ hits: [], total: 0, totalIsExact: true });
      expect((await text.search(query('rain', { series: 'New' }))).total).toBe(0);
    });
  });

  it('migrates an index built before folding and filter tags', async () => {
    const old = new Database(':memory:');
    try {
      const before = MIGRATIONS.indexOf(TEXT_TAGS_MIGRATION_SQL);
      expect(before).toBeGreaterThan(0);
      migrate(old, MIGRATIONS.slice(0, before));
      // What the earlier analysis stored: unfolded traditional tokens.
      old
        .prepare(`INSERT INTO text_docs (rowid, id, video_id, segment_id, cue_id, kind, start, "end", text, series) VALUES (?, ?, ?, ?, ?, 'SUBTITLE', 1, 3, ?, ?)`)
        .run(65536, 'd1', 'v1', 'v1-seg0', 'd1', '他們離開了', 'Drama');
      old.prepare('INSERT INTO text_fts (rowid, words, grams) VALUES (?, ?, ?)').run(65536, '他們 離開 了', '他們 們離 離開 開了 了');
      old.prepare('INSERT INTO text_segments (seg_no, segment_id, video_id) VALUES (1, ?, ?)').run('v1-seg0', 'v1');
      expect(migrate(old)).toBe(MIGRATIONS.length);
      const text = new EmbeddedTextIndex(old);
      expect((await text.search(query('他们离开', { series: 'Drama' }))).hits.map((h) => h.doc.id)).toEqual(['d1']);
      expect((await text.search(query('離開', { videoIds: ['v1'], kinds: ['SUBTITLE'] }))).total).toBe(1);
      expect((await text.search(query('離開', { series: 'Other' }))).total).toBe(0);
    } finally {
      old.close();
    }
  });
});

describe('embedded text index statistics', () => {
  const stores = useEmbeddedStores('vidsearch-text-stats');
  // Documents of different lengths and languages, so document count and average length both show in bm25.
  const drama = [
    textDoc('d0', 'drama', 0, '今天天气很好，我们去公园吧'),
    textDoc('d1', 'drama', 1, '天气预报说明天下雨'),
    textDoc('d2', 'drama', 2, 'The weather is fine today, let us walk in the park'),
  ];
  const other = [textDoc('o0', 'other', 0, '天气不错'), textDoc('o1', 'other', 1, 'weather, weather and more weather talk')];
  const gone = [textDoc('g0', 'gone', 0, '天气真冷啊，下雪了，路上都是雪'), textDoc('g1', 'gone', 1, 'bad weather again')];
  const queries = ['天气', '公园', 'weather', 'park', '下雨'];
  const scores = async (text: Store['text']) =>
    Promise.all(queries.map(async (q) => (await text.search(query(q))).hits.map((h) => [h.doc.id, h.score])));

  it('scores re-indexed, re-upserted and deleted videos exactly as a fresh index does', async () => {
    const fresh = await stores.open('fresh');
    await fresh.text.replaceVideo('drama', drama);
    await fresh.text.replaceVideo('other', other);

    const reused = await stores.open('reused');
    for (const video of [gone, drama, other]) await reused.text.replaceVideo(video[0]!.videoId, video);
    for (let i = 0; i < 3; i += 1) await reused.text.replaceVideo('drama', drama);
    await reused.text.upsert(other); // same ids, same segments: replaced in place
    await reused.text.upsert([{ ...other[1]!, segmentId: 'other-seg9' }, other[1]!]); // moved away and back
    await reused.catalog.deleteVideo('gone');
    await reused.text.replaceVideo('gone', gone);
    await reused.text.deleteByVideo('gone');

    const expected = await scores(fresh.text);
    expect(expected.flat().length).toBeGreaterThan(queries.length);
    expect(await scores(reused.text)).toEqual(expected);
  });
});

