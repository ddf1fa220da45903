// Elasticsearch Catalog without a server: the adapter's requests and its handling of the answers,
// through the real @elastic/elasticsearch client against recorded responses
// (test/store/fixtures/elastic/catalog-*.json). The contract itself runs in the store conformance
// suite (conformance.ts) — embedded always, Elasticsearch in elastic.test.ts when ELASTICSEARCH_URL
// is set. Also here: openStore in elastic mode, the back-off schedule and `migrate`'s catalog copy.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CueRecord, SegmentRecord } from '../../src/domain.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { copyCatalog } from '../../src/commands/migrate.js';
import { ElasticCatalog } from '../../src/store/elastic/catalog.js';
import { CATALOG_SCHEMA_VERSION, migrateCatalogIndices } from '../../src/store/elastic/catalog-schema.js';
import { backoffDelayMs, elasticClient } from '../../src/store/elastic/client.js';
import { encodeCursor } from '../../src/store/embedded/cursor.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { openStore } from '../../src/store/open.js';
import { useEmbeddedStores } from '../helpers/embedded-stores.js';
import { codeOf } from '../helpers/errors.js';
import { structure, video } from './conformance.js';
import { loadExchanges, ReplayServer } from './fixtures/replay-server.js';

const G_NEW = 1714521605000;
const G_OCR = 1714521609000;
const FAST = { retries: 3, baseMs: 1, maxMs: 4 };

function cue(id: string, videoId: string, segment: number, source: CueRecord['source'], overrides: Partial<CueRecord> = {}): CueRecord {
  return {
    id,
    videoId,
    segmentId: `${videoId}-seg${segment}`,
    start: segment * 10 + 1,
    end: segment * 10 + 3,
    text: `text ${id}`,
    kind: 'SUBTITLE',
    source,
    lang: null,
    ...overrides,
  };
}

const ELASTICSEARCH_URL = process.env.ELASTICSEARCH_URL;
if (!ELASTICSEARCH_URL) console.warn('[elastic-catalog] live replace test SKIPPED: ELASTICSEARCH_URL is not set (recorded-response tests still run)');

(ELASTICSEARCH_URL ? describe : describe.skip)('elasticsearch catalog (live cluster)', () => {
  const prefix = `vidsearch-test-${process.pid}`;
  let catalog: ElasticCatalog;
  beforeAll(async () => {
    const client = elasticClient({ url: ELASTICSEARCH_URL!, apiKey: process.env.ELASTICSEARCH_API_KEY ?? null });
    catalog = (await ElasticCatalog.open(client, { prefix })).catalog;
  });
  afterAll(async () => {
    await catalog.client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    await catalog.client.close();
  });

  it('readers see the old structure or the new one while it is replaced, never a mix or nothing', async () => {
    await catalog.putVideo(video('v1'));
    const sets = [structure('v1', 3), structure('v1', 7)];
    await catalog.replaceStructure('v1', sets[0]!.shots, sets[0]!.segments);
    let writing = true;
    const writer = (async () => {
      try {
        for (let i = 1; i <= 6; i += 1) await catalog.replaceStructure('v1', sets[i % 2]!.shots, sets[i % 2]!.segments);
      } finally {
        writing = false;
      }
    })();
    let reads = 0;
    while (writing) {
      const segments = await catalog.getSegmentsOfVideo('v1');
      expect(segments).toEqual(sets[segments.length === 3 ? 0 : 1]!.segments);
      reads += 1;
    }
    await writer;
    expect(await catalog.getSegmentsOfVideo('v1')).toEqual(sets[0]!.segments);
    // Each replace waits for a refresh (about a second): the reader got in between them.
    expect(reads).toBeGreaterThan(1);
  });
});

describe('elasticsearch catalog against recorded responses', () => {
  const server = new ReplayServer({ 'x-elastic-product': 'Elasticsearch' });
  let catalog: ElasticCatalog;

  const open = (now: number, scanPage?: number): ElasticCatalog =>
    new ElasticCatalog(catalog.client, { backoff: FAST, now: () => now, ...(scanPage ? { scanPage } : {}) });
  const body = (i: number): Record<string, unknown> => server.bodyOf(i) as Record<string, unknown>;

  beforeAll(async () => {
    const url = await server.start();
    catalog = new ElasticCatalog(elasticClient({ url, maxRetries: 0 }), { backoff: FAST });
  });
  afterAll(async () => {
    await catalog.client.close();
    await server.stop();
  });
  beforeEach(() => server.replay([]));

  it('creates the five catalog indices from strict templates behind their aliases', async () => {
    server.replay(loadExchanges('elastic/catalog-create.json'));
    const result = await migrateCatalogIndices(catalog.client, 'vidsearch');
    server.expectDone();
    expect(Object.fromEntries(Object.entries(result).map(([name, r]) => [name, [r.index, r.action]]))).toEqual({
      videos: ['vidsearch-videos-v2', 'created'],
      shots: ['vidsearch-shots-v2', 'created'],
      segments: ['vidsearch-segments-v2', 'created'],
      cues: ['vidsearch-cues-v2', 'created'],
      artifacts: ['vidsearch-artifacts-v2', 'created'],
    });
    type Template = { index_patterns: string[]; template: { mappings: { dynamic: string; _meta: unknown; properties: Record<string, unknown> } } };
    const templates = [1, 5, 9, 13, 17].map((i) => body(i) as Template);
    expect(templates.map((t) => t.index_patterns)).toEqual([['vidsearch-videos-v*'], ['vidsearch-shots-v*'], ['vidsearch-segments-v*'], ['vidsearch-cues-v*'], ['vidsearch-artifacts-v*']]);
    for (const t of templates) {
      expect(t.template.mappings.dynamic).toBe('strict');
      expect(t.template.mappings._meta).toEqual({ schemaVersion: 2 });
    }
    const [videos, shots, , cues, artifacts] = templates.map((t) => t.template.mappings.properties);
    expect(videos).toMatchObject({ id: { type: 'keyword' }, contentHash: { type: 'keyword' }, cast: { type: 'keyword' }, titleFolded: { type: 'wildcard' }, createdAt: { type: 'keyword' } });
    expect(videos!.generations).toEqual({
      type: 'object',
      properties: { structure: { type: 'long' }, SIDECAR: { type: 'long' }, EMBEDDED: { type: 'long' }, OCR: { type: 'long' } },
    });
    expect(shots).toMatchObject({ id: { type: 'keyword' }, videoId: { type: 'keyword' }, generation: { type: 'long' }, start: { type: 'double' } });
    expect(cues).toMatchObject({ text: { type: 'text', index: false }, source: { type: 'keyword' } });
    expect(artifacts).toMatchObject({ data: { type: 'text', index: false } });
    expect(body(19)).toEqual({ actions: [{ add: { index: 'vidsearch-artifacts-v2', alias: 'vidsearch-artifacts', is_write_index: true } }] });
  });

  it('replaces structure: new generation (bulk retried after a 429, wait_for), then the flip, then older generations deleted', async () => {
    server.replay(loadExchanges('elastic/catalog-replace-structure.json'));
    const { shots, segments } = structure('v1', 2);
    await open(G_NEW).replaceStructure('v1', shots, segments);
    server.expectDone();
    expect(server.requestLines()).toEqual([
      'POST /vidsearch-videos/_mget',
      'POST /_bulk?refresh=wait_for',
      'POST /_bulk?refresh=wait_for',
      'POST /vidsearch-videos/_update/v1?retry_on_conflict=5',
      'POST /vidsearch-shots%2Cvidsearch-segments/_delete_by_query?conflicts=proceed',
    ]);
    expect(body(0)).toEqual({ ids: ['v1'] });
    const written = body(2) as unknown as Record<string, unknown>[];
    expect(body(1)).toEqual(written);
    expect(written).toEqual([
      { index: { _index: 'vidsearch-shots', _id: `v1-shot0@${G_NEW}` } },
      { ...shots[0], generation: G_NEW },
      { index: { _index: 'vidsearch-shots', _id: `v1-shot1@${G_NEW}` } },
      { ...shots[1], generation: G_NEW },
      { index: { _index: 'vidsearch-segments', _id: `v1-seg0@${G_NEW}` } },
      { ...segments[0], generation: G_NEW },
      { index: { _index: 'vidsearch-segments', _id: `v1-seg1@${G_NEW}` } },
      { ...segments[1], generation: G_NEW },
    ]);
    expect(body(3)).toMatchObject({ script: { lang: 'painless', params: { slots: ['structure'], generation: G_NEW } } });
    expect(body(4)).toEqual({
      query: { bool: { filter: [{ term: { videoId: 'v1' } }, { range: { generation: { lt: G_NEW } } }] } },
    });
  });

  it('replaces cues of a source above its stored generation even when the clock is behind; a superseded flip drops its own documents', async () => {
    server.replay(loadExchanges('elastic/catalog-replace-cues-superseded.json'));
    const ocr = cue('o1', 'v1', 0, 'OCR', { kind: 'ON_SCREEN_TEXT' });
    await open(G_NEW).replaceCues('v1', ['OCR'], [ocr]);
    server.expectDone();
    const generation = G_OCR + 1;
    expect((body(1) as unknown as unknown[])[0]).toEqual({ index: { _index: 'vidsearch-cues', _id: `o1@${generation}` } });
    expect(body(2)).toMatchObject({ script: { params: { slots: ['OCR'], generation } } });
    expect(body(3)).toEqual({
      query: { bool: { filter: [{ term: { videoId: 'v1' } }, { terms: { source: ['OCR'] } }, { term: { generation } }] } },
    });
  });

  it('refuses replaces for a missing video (before writing, or deleted before the flip) and cues of sources not replaced', async () => {
    server.replay(loadExchanges('elastic/catalog-replace-deleted.json'));
    const { shots, segments } = structure('v1', 1);
    expect(await codeOf(open(G_NEW).replaceStructure('v1', shots, segments))).toBe('NOT_FOUND');
    server.expectDone();
    expect(body(3)).toEqual({ query: { bool: { filter: [{ term: { videoId: 'v1' } }, { term: { generation: G_NEW } }] } } });

    server.replay([{ method: 'POST', path: '/vidsearch-videos/_mget', status: 200, body: { docs: [{ _index: 'vidsearch-videos-v1', _id: 'v9', found: false }] } }]);
    expect(await codeOf(catalog.replaceCues('v9', ['SIDECAR'], []))).toBe('NOT_FOUND');
    server.expectDone();

    server.replay([]);
    expect(await codeOf(catalog.replaceCues('v1', ['SIDECAR'], [cue('o1', 'v1', 0, 'OCR')]))).toBe('BAD_USER_INPUT');
    expect(server.received).toEqual([]);
  });

  it('reads a whole set of the current generation page by page (search_after), retrying a 503 with back-off', async () => {
    server.replay(loadExchanges('elastic/catalog-scan.json'));
    const shots = await open(G_NEW, 2).getShots('v1');
    server.expectDone();
    expect(shots).toEqual(structure('v1', 3).shots);
    const query = { bool: { filter: [{ term: { videoId: 'v1' } }, { term: { generation: G_NEW } }] } };
    const first = { query, sort: [{ index: { order: 'asc' } }], size: 2, track_total_hits: false };
    expect(body(1)).toEqual(first);
    expect(body(2)).toEqual(first);
    expect(body(3)).toEqual({ ...first, search_after: [1] });
  });

  it('lists videos newest first from a cursor: search_after on (createdAt, id), filters, and the total of the whole set', async () => {
    server.replay(loadExchanges('elastic/catalog-list-videos.json'));
    const after = encodeCursor({ c: '2024-05-01T00:00:05.000Z', i: 'f' });
    const page = await catalog.listVideos({ series: 'S', status: 'READY', titleContains: 'ＷＥＡＴＨＥＲ*' }, { first: 2, after });
    server.expectDone();
    expect(body(0)).toEqual({
      query: {
        bool: {
          filter: [{ term: { series: 'S' } }, { term: { status: 'READY' } }, { wildcard: { titleFolded: { value: '*weather\\**' } } }],
        },
      },
      sort: [{ createdAt: { order: 'desc' } }, { id: { order: 'desc' } }],
      size: 3,
      track_total_hits: true,
      search_after: ['2024-05-01T00:00:05.000Z', 'f'],
    });
    expect(page.items.map((v) => v.id)).toEqual(['e', 'd']);
    expect(page.items[1]).toEqual(video('d', { createdAt: '2024-05-01T00:00:03.000Z', series: 'S', title: 'The WEATHER* Show' }));
    expect(page).toMatchObject({ hasNextPage: true, totalCount: 7, endCursor: encodeCursor({ c: '2024-05-01T00:00:03.000Z', i: 'd' }) });
    expect(await codeOf(catalog.listVideos({}, { first: 2, after: 'not a cursor' }))).toBe('BAD_USER_INPUT');
  });

  it('finds the segment at a time with one range query: containing segment first, else the latest started', async () => {
    server.replay(loadExchanges('elastic/catalog-segment-at.json'));
    const found = await catalog.segmentAt('v1', 25);
    expect(await catalog.segmentAt('v2', 1)).toBeNull();
    server.expectDone();
    expect(found).toEqual<SegmentRecord>({ id: 'v1-seg2', videoId: 'v1', index: 2, shotIndex: 2, start: 20, end: 30, keyframeTime: 25 });
    expect(body(1)).toEqual({
      query: {
        bool: {
          filter: [{ term: { videoId: 'v1' } }, { term: { generation: G_NEW } }, { range: { start: { lte: 25 } } }],
          should: [{ range: { end: { gt: 25 } } }],
        },
      },
      sort: [{ _score: { order: 'desc' } }, { index: { order: 'desc' } }],
      size: 1,
      track_total_hits: false,
    });
  });

  it('reads segments and cues by id across generations and keeps only each video’s current ones', async () => {
    server.replay(loadExchanges('elastic/catalog-by-ids.json'));
    const segments = await catalog.getSegmentsByIds(['v1-seg1', 'v1-seg0', 'v2-seg0', 'nope']);
    const cues = await catalog.getCuesBySegments(['v1-seg0', 'v1-seg1', 'v1-seg7']);
    server.expectDone();
    expect(segments.map((s) => s?.id ?? null)).toEqual([null, 'v1-seg0', 'v2-seg0', null]);
    expect(body(0)).toMatchObject({ query: { bool: { filter: [{ terms: { id: ['v1-seg1', 'v1-seg0', 'v2-seg0', 'nope'] } }] } } });
    expect(body(1)).toEqual({ ids: ['v1', 'v2'] });
    expect(cues.map((list) => list.map((c) => c.id))).toEqual([['o1', 'c2'], ['c3'], []]);
    expect(cues[0]![0]).toEqual(cue('o1', 'v1', 0, 'OCR', { kind: 'ON_SCREEN_TEXT', start: 0.5 }));
    expect(body(2)).toMatchObject({ sort: [{ start: { order: 'asc' } }, { id: { order: 'asc' } }, { generation: { order: 'asc' } }] });
  });

  it('reads the cues overlapping a window: two range filters on the current generations, none read for a video without cues', async () => {
    server.replay(loadExchanges('elastic/catalog-cues-window.json'));
    const cues = await catalog.getCuesOverlapping('v1', 0.8, 2);
    expect(await catalog.getCuesOverlapping('v2', 0, 100)).toEqual([]);
    server.expectDone();
    expect(cues).toEqual([cue('o1', 'v1', 0, 'OCR', { kind: 'ON_SCREEN_TEXT', start: 0.5 }), cue('c2', 'v1', 0, 'SIDECAR')]);
    expect(body(0)).toEqual({ ids: ['v1'] });
    expect(body(1)).toEqual({
      query: {
        bool: {
          filter: [{ term: { videoId: 'v1' } }, { range: { start: { lte: 2 } } }, { range: { end: { gte: 0.8 } } }],
          should: [
            { bool: { filter: [{ term: { source: 'SIDECAR' } }, { term: { generation: G_NEW } }] } },
            { bool: { filter: [{ term: { source: 'OCR' } }, { term: { generation: 1714521609000 } }] } },
          ],
          minimum_should_match: 1,
        },
      },
      sort: [{ start: { order: 'asc' } }, { id: { order: 'asc' } }, { generation: { order: 'asc' } }],
      size: expect.any(Number),
      track_total_hits: false,
    });
  });

  it('deletes a video: refreshes artifacts, one delete_by_query over its derived indices, then the video (false when absent)', async () => {
    server.replay(loadExchanges('elastic/catalog-delete-video.json'));
    expect(await catalog.deleteVideo('gone')).toBe(false);
    server.expectDone();
    expect(body(1)).toEqual({ query: { bool: { filter: [{ term: { videoId: 'gone' } }] } } });
  });

  it('puts a video as a partial upsert (generations untouched) and keeps artifacts as JSON under a video/stage id', async () => {
    server.replay(loadExchanges('elastic/catalog-video-artifacts.json'));
    await catalog.putVideo(video('v1', { title: 'Ｔｈｅ Show' }));
    await catalog.putArtifact('v1', 'shots', { cuts: [1.5, 3], note: '镜头' });
    expect(await catalog.getArtifact('v1', 'shots')).toEqual({ cuts: [1.5, 3], note: '镜头' });
    expect(await catalog.getArtifact('v1', 'faces')).toBeNull();
    server.expectDone();
    expect(body(0)).toEqual({ doc: { ...video('v1', { title: 'Ｔｈｅ Show' }), titleFolded: 'the show' }, doc_as_upsert: true });
    expect(body(1)).toMatchObject({ videoId: 'v1', stage: 'shots', data: '{"cuts":[1.5,3],"note":"镜头"}' });
  });
});

describe('elasticsearch catalog: cast lists (recorded responses)', () => {
  const server = new ReplayServer({ 'x-elastic-product': 'Elasticsearch' });
  let catalog: ElasticCatalog;
  beforeAll(async () => {
    catalog = new ElasticCatalog(elasticClient({ url: await server.start(), maxRetries: 0 }), { backoff: FAST });
  });
  afterAll(async () => {
    await catalog.client.close();
    await server.stop();
  });

  it('writes the cast as a keyword array and reads it back; a document from before schema 2 has none', async () => {
    server.replay(loadExchanges('elastic/catalog-video-cast.json'));
    await catalog.putVideo(video('v1', { cast: ['actor_b', 'actor_a'] }));
    const [v1, v0, v9] = await catalog.getVideos(['v1', 'v0', 'v9']);
    server.expectDone();
    expect((server.bodyOf(0) as { doc: { cast: unknown } }).doc.cast).toEqual(['actor_b', 'actor_a']);
    expect(v1).toEqual(video('v1', { cast: ['actor_b', 'actor_a'] }));
    expect(v0).toEqual(video('v0'));
    expect(v9).toBeNull();
  });
});

describe('openStore with VIDSEARCH_STORE=elastic (recorded responses)', () => {
  const server = new ReplayServer({ 'x-elastic-product': 'Elasticsearch' });
  let dir: string;
  afterEach(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('checks every index schema and serves every repository from Elasticsearch; SQLite keeps only vectors and jobs', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-open-'));
    const url = await server.start();
    server.replay(loadExchanges('elastic/open-store.json'));
    const store = await openStore(loadConfig({ VIDSEARCH_DATA_DIR: dir, VIDSEARCH_STORE: 'elastic', ELASTICSEARCH_URL: url }, dir));
    try {
      await store.catalog.putVideo(video('v1', { series: 'S' }));
      expect(await store.catalog.getVideo('v1')).toEqual(video('v1', { series: 'S' }));
      expect(store.catalog).toBeInstanceOf(ElasticCatalog);
      const remote = [store.actors, store.appearances, store.voiceClusters, store.moderation, store.ads, store.tags, store.highlights, store.technical, store.intro, store.frameEvidence];
      expect(remote.map((repository) => repository.constructor.name)).toEqual([
        'ElasticActorRepository',
        'ElasticAppearanceRepository',
        'ElasticVoiceClusterRepository',
        'ElasticModerationRepository',
        'ElasticAdRepository',
        'ElasticTagRepository',
        'ElasticHighlightRepository',
        'ElasticTechnicalRepository',
        'ElasticIntroRepository',
        'ElasticFrameEvidenceRepository',
      ]);
      expect(store.vectors.constructor.name).toBe('EmbeddedVectorIndex');
    } finally {
      await store.close();
    }
    server.expectDone();
    // No mirrored video rows: nothing in SQLite reads the catalog any more.
    const sqlite = await openEmbeddedStore(loadConfig({ VIDSEARCH_DATA_DIR: dir }, dir).dataDir);
    try {
      expect(await sqlite.catalog.getVideo('v1')).toBeNull();
    } finally {
      await sqlite.close();
    }
  });

  it('with vectors on Qdrant and jobs on BullMQ too, opens no SQLite file at all', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-open-'));
    const url = await server.start();
    server.replay(loadExchanges('elastic/open-store.json').slice(0, -2));
    const env = { VIDSEARCH_DATA_DIR: dir, VIDSEARCH_STORE: 'elastic', ELASTICSEARCH_URL: url, VIDSEARCH_VECTORS: 'qdrant', QDRANT_URL: 'http://127.0.0.1:1', VIDSEARCH_QUEUE: 'bullmq', REDIS_URL: 'redis://127.0.0.1:1' };
    const store = await openStore(loadConfig(env, dir));
    try {
      expect([store.vectors.constructor.name, store.jobs.constructor.name]).toEqual(['QdrantVectorIndex', 'BullJobQueue']);
      expect(store.schemaVersion).toBe(CATALOG_SCHEMA_VERSION);
    } finally {
      await store.close();
    }
    server.expectDone();
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('back-off between retries', () => {
  it('doubles from the base up to the cap, jittered within the upper half', () => {
    const backoff = { retries: 5, baseMs: 100, maxMs: 1000 };
    for (const [attempt, ceiling] of [[0, 100], [1, 200], [2, 400], [3, 800], [4, 1000], [9, 1000]] as const) {
      for (let i = 0; i < 20; i += 1) {
        const delay = backoffDelayMs(backoff, attempt);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});

describe('catalog copy (embedded stores)', () => {
  const { open, dataDir } = useEmbeddedStores('vidsearch-catalog');

  it('copies videos with cues of every source, checkpoints and structure; skips videos already there; a re-run changes nothing', async () => {
    const source = await open('source');
    const target = await open('target');
    for (const [i, id] of ['a', 'b', 'c'].entries()) {
      await source.catalog.putVideo(video(id, { createdAt: new Date(Date.UTC(2024, 4, 1, 0, 0, i)).toISOString() }));
      const { shots, segments } = structure(id, i + 1);
      await source.catalog.replaceStructure(id, shots, segments);
      await source.catalog.replaceCues(id, ['SIDECAR'], [cue(`${id}-c`, id, 0, 'SIDECAR')]);
      await source.catalog.replaceCues(id, ['OCR'], [cue(`${id}-o`, id, 0, 'OCR', { kind: 'ON_SCREEN_TEXT' })]);
      await source.catalog.putArtifact(id, 'probe', { id });
    }
    // 'a' was cut off before its segments (copied again); 'c' was re-indexed after the switch (kept).
    await target.catalog.putVideo(video('a'));
    await target.catalog.replaceCues('a', ['SIDECAR'], [cue('a-stale', 'a', 0, 'SIDECAR')]);
    const reindexed = structure('c', 5);
    await target.catalog.putVideo(video('c', { title: 'Re-indexed' }));
    await target.catalog.replaceStructure('c', reindexed.shots, reindexed.segments);

    const log = createLogger('silent');
    const first = await copyCatalog(source.catalog, dataDir('source'), target.catalog, log);
    expect(first).toEqual({ videos: 2, skipped: 1, shots: 3, segments: 3, cues: 4, artifacts: 2 });
    for (const id of ['a', 'b']) {
      expect(await target.catalog.getVideo(id)).toEqual(await source.catalog.getVideo(id));
      expect(await target.catalog.getShots(id)).toEqual(await source.catalog.getShots(id));
      expect(await target.catalog.getSegmentsOfVideo(id)).toEqual(await source.catalog.getSegmentsOfVideo(id));
      expect(await target.catalog.getCues(id)).toEqual(await source.catalog.getCues(id));
      expect(await target.catalog.getArtifact(id, 'probe')).toEqual({ id });
    }
    expect((await target.catalog.getVideo('c'))?.title).toBe('Re-indexed');
    expect(await target.catalog.getSegmentsOfVideo('c')).toEqual(reindexed.segments);
    expect(await target.catalog.getArtifact('c', 'probe')).toBeNull();

    const second = await copyCatalog(source.catalog, dataDir('source'), target.catalog, log);
    expect(second).toEqual({ videos: 0, skipped: 3, shots: 0, segments: 0, cues: 0, artifacts: 0 });
  });
});
