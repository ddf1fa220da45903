// Ads, tags, highlights and moderation on Elasticsearch: the shared conformance suite
// (conformance-ads.ts) on the embedded store always, on the in-memory fakes, and on a live cluster
// when ELASTICSEARCH_URL is set; always the adapters' requests and their handling of the answers
// through the real @elastic/elasticsearch client against recorded responses
// (test/store/fixtures/elastic/ads-*.json, moderation-*.json); and `migrate`'s copy.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AD_FAMILY, HIGHLIGHT_FAMILY, MODERATION_FAMILY, TAG_FAMILY, decodeDoubles, encodeDoubles } from '../../src/store/elastic/ads-schema.js';
import { ElasticAdRepository, ElasticHighlightRepository, ElasticTagRepository, openAdsRepositories } from '../../src/store/elastic/ads.js';
import { elasticClient } from '../../src/store/elastic/client.js';
import { familyAliases, ElasticDocuments } from '../../src/store/elastic/documents.js';
import { ElasticModerationRepository } from '../../src/store/elastic/moderation.js';
import { encodeCursor } from '../../src/store/embedded/cursor.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { copyAds } from '../../src/commands/migrate-ads.js';
import { createLogger } from '../../src/logger.js';
import { FakeHighlightRepository, FakeTagRepository } from '../helpers/fake-ads.js';
import { FakeModerationRepository } from '../helpers/fake-moderation.js';
import { useEmbeddedStores } from '../helpers/embedded-stores.js';
import { codeOf } from '../helpers/errors.js';
import { describeAdsConformance, describeHighlightConformance, describeModerationConformance, describeTagConformance, ad, allPages, feedback, flag, model, signals, tag } from './conformance-ads.js';
import { loadExchanges, ReplayServer } from './fixtures/replay-server.js';

describeAdsConformance('embedded', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-ads-'));
  const store = await openEmbeddedStore(dir);
  return {
    repos: store,
    async dispose() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

const inMemory = <R>(repos: R) => async () => ({ repos, dispose: async () => undefined });
describeTagConformance('fake', () => inMemory(new FakeTagRepository())());
describeHighlightConformance('fake', () => inMemory(new FakeHighlightRepository())());
describeModerationConformance('fake', () => inMemory(new FakeModerationRepository())());

const ELASTICSEARCH_URL = process.env.ELASTICSEARCH_URL;
if (!ELASTICSEARCH_URL) console.warn('[elastic-ads] live conformance SKIPPED: ELASTICSEARCH_URL is not set (recorded-response tests still run)');

(ELASTICSEARCH_URL ? describe : describe.skip)('ads repositories on a live cluster', () => {
  const prefix = `vidsearch-test-${process.pid}`;
  let client: Client;
  beforeAll(() => {
    client = elasticClient({ url: ELASTICSEARCH_URL!, apiKey: process.env.ELASTICSEARCH_API_KEY ?? null });
  });
  afterAll(async () => {
    await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    await client.indices.deleteIndexTemplate({ name: `${prefix}-*` }, { ignore: [404] });
    await client.close();
  });
  // The indices are created once; each test starts from empty indices (counters included).
  let migrated = false;
  describeAdsConformance('elastic', async () => {
    if (migrated) {
      // delete_by_query finds documents through search: some were written without a refresh.
      await client.indices.refresh({ index: `${prefix}-*` });
      await client.deleteByQuery({ index: `${prefix}-*`, query: { match_all: {} }, refresh: true, conflicts: 'proceed' });
    }
    const repos = await openAdsRepositories(client, { prefix });
    migrated = true;
    return { repos, dispose: async () => undefined };
  });
});

const G_OLD = 1714521602000;
const G_NEW = 1714521605000;
const FAST = { retries: 3, baseMs: 1, maxMs: 4 };

describe('ads repositories against recorded responses', () => {
  const server = new ReplayServer({ 'x-elastic-product': 'Elasticsearch' });
  let client: Client;
  let documents: ElasticDocuments;

  beforeAll(async () => {
    client = elasticClient({ url: await server.start(), maxRetries: 0 });
    documents = new ElasticDocuments(client, FAST);
  });
  afterAll(async () => {
    await client.close();
    await server.stop();
  });
  beforeEach(() => server.replay([]));

  const tags = (now: number): ElasticTagRepository => new ElasticTagRepository(documents, familyAliases('vidsearch', TAG_FAMILY), () => now);
  const ads = (): ElasticAdRepository => new ElasticAdRepository(documents, familyAliases('vidsearch', AD_FAMILY));
  const highlights = (): ElasticHighlightRepository => new ElasticHighlightRepository(documents, familyAliases('vidsearch', HIGHLIGHT_FAMILY));
  const moderation = (): ElasticModerationRepository => new ElasticModerationRepository(documents, familyAliases('vidsearch', MODERATION_FAMILY));

  it('creates ten strict indices behind their aliases (ids keywords, clock generations long, blobs unindexed)', async () => {
    server.replay(loadExchanges('elastic/ads-create.json'));
    await openAdsRepositories(client, { backoff: FAST });
    server.expectDone();
    type Template = { index_patterns: string[]; template: { mappings: { dynamic: string; _meta: unknown; properties: Record<string, unknown> } } };
    const templates = new Map(
      server.received.filter((r) => r.path.startsWith('/_index_template/')).map((r) => [r.path.slice('/_index_template/vidsearch-'.length, -'-template'.length), r.body as Template]),
    );
    expect([...templates.keys()]).toEqual(['ads', 'ad-state', 'tags', 'tag-sets', 'highlight-signals', 'highlight-feedback', 'highlight-model', 'keyword-lists', 'moderation-state', 'moderation-videos']);
    for (const [name, t] of templates) {
      expect(t.index_patterns).toEqual([`vidsearch-${name}-v*`]);
      expect(t.template.mappings.dynamic).toBe('strict');
      expect(t.template.mappings._meta).toEqual({ schemaVersion: 1 });
    }
    const props = (name: string): Record<string, unknown> => templates.get(name)!.template.mappings.properties;
    expect(props('ads')).toMatchObject({ id: { type: 'keyword' }, keywords: { type: 'keyword' }, title: { type: 'text', index: false }, brandSafety: { type: 'object', enabled: false } });
    expect(props('ad-state')).toEqual({ version: { type: 'long' } });
    expect(props('tags')).toMatchObject({ segmentId: { type: 'keyword' }, kind: { type: 'keyword' }, score: { type: 'double' }, generation: { type: 'long' }, box: { enabled: false } });
    expect(props('tag-sets')).toEqual({
      videoId: { type: 'keyword' },
      generations: { type: 'object', properties: { OBJECT: { type: 'long' }, SCENE: { type: 'long' }, MOOD: { type: 'long' } } },
    });
    expect(props('highlight-signals')).toEqual({ videoId: { type: 'keyword' }, rows: { type: 'object', enabled: false }, features: { type: 'binary' } });
    expect(props('highlight-feedback')).toMatchObject({ videoId: { type: 'keyword' }, features: { type: 'binary' } });
    expect(props('moderation-videos')).toMatchObject({ videoId: { type: 'keyword' }, flagCount: { type: 'integer' }, flags: { type: 'object', enabled: false } });
    expect(server.bodyOf(server.received.length - 1)).toEqual({ actions: [{ add: { index: 'vidsearch-moderation-videos-v1', alias: 'vidsearch-moderation-videos', is_write_index: true } }] });
  });

  it('replaces tags of kinds: new generation above the stored one (wait_for), one flip of every kind, then older generations deleted', async () => {
    server.replay(loadExchanges('elastic/ads-replace-tags.json'));
    const scenes = [tag('v1', 0, 'SCENE', 'indoor', 0.7), tag('v1', 0, 'MOOD', 'calm', 0.6)];
    // The clock is behind the stored generations: the new one is still above them.
    await tags(G_OLD - 60_000).replaceVideoTags('v1', ['SCENE', 'MOOD'], scenes);
    server.expectDone();
    const generation = G_OLD + 1;
    expect(server.requestLines()).toEqual([
      'POST /vidsearch-tag-sets/_mget',
      'POST /_bulk?refresh=wait_for',
      'POST /vidsearch-tag-sets/_update/v1?retry_on_conflict=5',
      'POST /vidsearch-tags/_delete_by_query?conflicts=proceed',
    ]);
    expect(server.bodyOf(1)).toEqual([
      { index: { _index: 'vidsearch-tags', _id: `v1/SCENE@${generation}/0` } },
      { ...scenes[0], generation, position: 0 },
      { index: { _index: 'vidsearch-tags', _id: `v1/MOOD@${generation}/1` } },
      { ...scenes[1], generation, position: 1 },
    ]);
    expect(server.bodyOf(2)).toMatchObject({
      script: { lang: 'painless', params: { slots: ['SCENE', 'MOOD'], generation } },
      upsert: { videoId: 'v1', generations: {} },
      scripted_upsert: true,
    });
    expect(server.bodyOf(3)).toEqual({
      query: { bool: { filter: [{ term: { videoId: 'v1' } }, { terms: { kind: ['SCENE', 'MOOD'] } }, { range: { generation: { lt: generation } } }] } },
    });
  });

  it('refuses tags of another video or of a kind not replaced, before any request', async () => {
    expect(await codeOf(tags(G_NEW).replaceVideoTags('v1', ['SCENE'], [tag('v1', 0, 'MOOD', 'calm', 0.6)]))).toBe('BAD_USER_INPUT');
    expect(await codeOf(tags(G_NEW).replaceVideoTags('v1', ['SCENE'], [tag('v2', 0, 'SCENE', 'night', 0.6)]))).toBe('BAD_USER_INPUT');
    expect(server.received).toEqual([]);
  });

  it('reads tags of segments in the caller’s order, keeping each video’s current generation per kind', async () => {
    server.replay(loadExchanges('elastic/ads-tags-of-segments.json'));
    const read = await tags(G_NEW).getTagsOfSegments(['v2-seg0', 'v1-seg0', 'v1-seg9']);
    server.expectDone();
    expect(server.bodyOf(0)).toEqual({
      query: { bool: { filter: [{ terms: { segmentId: ['v2-seg0', 'v1-seg0', 'v1-seg9'] } }] } },
      sort: ['segmentId', 'kind'].map((f) => ({ [f]: { order: 'asc' } })).concat([{ score: { order: 'desc' } }], ['label', 'videoId', 'generation', 'position'].map((f) => ({ [f]: { order: 'asc' } }))),
      size: 1000,
      track_total_hits: false,
    });
    expect(server.bodyOf(1)).toEqual({ ids: ['v1', 'v2'] });
    expect(read).toEqual([
      [tag('v2', 0, 'SCENE', 'night', 0.8)],
      [tag('v1', 0, 'MOOD', 'calm', 0.6), tag('v1', 0, 'OBJECT', 'cup', 0.9, { box: { x: 10, y: 20, width: 64, height: 48.5 } }), tag('v1', 0, 'SCENE', 'indoor', 0.7)],
      [],
    ]);
  });

  it('puts an ad (wait_for), then grows the inventory version, retrying a 429; pages by id; a missing ad is null or false', async () => {
    server.replay(loadExchanges('elastic/ads-inventory.json'));
    const repo = ads();
    // As in the recorded search answer.
    const a1 = ad('a1', {
      advertiser: null,
      creativeUrl: null,
      keywords: ['咖啡', 'coffee'],
      categories: ['IAB8'],
      actors: [],
      scenes: [],
      excludeKeywords: [],
      brandSafety: { avoidFlagged: true, avoidLists: [], avoidScenes: ['night'], maxVisualRisk: 0.5 },
    });
    await repo.putAd(a1);
    expect(await repo.inventoryVersion()).toBe(8);
    const page = await repo.listAds({ first: 1, after: Buffer.from('a0').toString('base64url') });
    expect(await repo.getAd('gone')).toBeNull();
    expect(await repo.deleteAd('gone')).toBe(false);
    server.expectDone();
    expect(server.bodyOf(0)).toEqual(a1);
    expect(server.bodyOf(1)).toEqual({ script: { source: 'ctx._source.version += 1', lang: 'painless' }, upsert: { version: 1 } });
    expect(server.bodyOf(2)).toEqual(server.bodyOf(1));
    expect(server.bodyOf(4)).toEqual({ query: { match_all: {} }, sort: [{ id: { order: 'asc' } }], size: 2, track_total_hits: true, search_after: ['a0'] });
    expect(page).toEqual({ items: [a1], hasNextPage: true, endCursor: Buffer.from('a1').toString('base64url'), totalCount: 3 });
  });

  it('records feedback before the model; features and weights are exact float64 bytes; counts through _count', async () => {
    server.replay(loadExchanges('elastic/ads-highlights.json'));
    const repo = highlights();
    const f1 = { ...feedback('f1', 'v1', true), features: [0.5, 1 / 3, 0, 2, -1.25, 1] };
    await repo.addFeedback(f1, { ...model(1), weights: [0.1, 1 / 3, -2, 0, 1e-9, 5], bias: 0.25, updatedAt: '2024-05-01T00:00:01.000Z' });
    const stored = await repo.getModel();
    const rows = await repo.getSignalsOfVideo('v1');
    expect(await repo.countFeedback()).toBe(1);
    server.expectDone();
    expect(server.requestLines().slice(0, 2)).toEqual(['POST /_bulk?refresh=wait_for', 'PUT /vidsearch-highlight-model/_doc/model']);
    expect(server.bodyOf(0)).toEqual([{ index: { _index: 'vidsearch-highlight-feedback', _id: 'f1' } }, { ...f1, features: encodeDoubles(f1.features) }]);
    expect(decodeDoubles((server.bodyOf(1) as { weights: string }).weights)).toEqual([0.1, 1 / 3, -2, 0, 1e-9, 5]);
    expect(stored).toEqual({ weights: [0.1, 1 / 3, -2, 0, 1e-9, 5], bias: 0.25, updates: 1, updatedAt: '2024-05-01T00:00:01.000Z' });
    expect(rows).toEqual([
      { videoId: 'v1', segmentId: 'v1-seg0', start: 0, end: 10, features: [0.1 + 0.2, 1e-300] },
      { videoId: 'v1', segmentId: 'v1-seg1', start: 10, end: 20, features: [1 / 7, -1e-7] },
    ]);
  });

  it('changes keyword lists by scripted updates returning the list, then bumps the version; a list emptied or missing is null', async () => {
    server.replay(loadExchanges('elastic/moderation-keywords.json'));
    const repo = moderation();
    expect(await repo.addKeywords('violence', ['gun', 'knife'])).toEqual({ name: 'violence', keywords: ['刀', 'gun', 'knife'], updatedAt: '2024-05-01T00:00:03.000Z' });
    expect(await repo.removeKeywords('alcohol', ['beer'])).toBeNull();
    expect(await repo.removeKeywords('nothing', ['x'])).toBeNull();
    server.expectDone();
    const add = server.bodyOf(0) as { script: { params: { keywords: string[]; updatedAt: string } }; upsert: unknown; scripted_upsert: boolean };
    expect(add).toMatchObject({ script: { lang: 'painless', params: { keywords: ['gun', 'knife'] } }, scripted_upsert: true, _source: true });
    expect(add.upsert).toEqual({ name: 'violence', keywords: [], updatedAt: add.script.params.updatedAt });
    expect(server.bodyOf(2)).toMatchObject({ script: { params: { keywords: ['beer'] } } });
    expect(server.bodyOf(2)).not.toHaveProperty('upsert');
  });

  it('pages flags through video documents after the cursor, continuing with search_after; the total is a global sum', async () => {
    server.replay(loadExchanges('elastic/moderation-list-flags.json'));
    const after = encodeCursor({ videoId: 'v1', start: 5, id: 'c1:violence:gun' });
    const page = await moderation().listFlags({ first: 2, after });
    server.expectDone();
    expect(server.bodyOf(0)).toEqual({
      query: { bool: { filter: [{ range: { flagCount: { gt: 0 } } }, { range: { videoId: { gte: 'v1' } } }] } },
      sort: [{ videoId: { order: 'asc' } }],
      size: 3,
      track_total_hits: false,
      aggs: { all: { global: {}, aggs: { flags: { sum: { field: 'flagCount' } } } } },
    });
    expect(server.bodyOf(1)).toEqual({ query: (server.bodyOf(0) as { query: unknown }).query, sort: [{ videoId: { order: 'asc' } }], size: 3, track_total_hits: false, search_after: ['v3'] });
    expect(page.items).toEqual([flag('v2', 'd0', 3, '刀'), flag('v3', 'e0', 0, 'knife')]);
    expect(page).toMatchObject({ hasNextPage: true, totalCount: 7, endCursor: encodeCursor({ videoId: 'v3', start: 0, id: 'e0:violence:knife' }) });
    expect(await codeOf(moderation().listFlags({ first: 2, after: 'not a cursor' }))).toBe('BAD_USER_INPUT');
  });

  it('writes a video’s check and flags as one document in (start, id) order; lists checks without the flags, retrying a 503', async () => {
    server.replay(loadExchanges('elastic/moderation-replace-flags.json'));
    const repo = moderation();
    const flags = [flag('v1', 'c2', 5, 'gun'), flag('v1', 'c1', 5, 'gun'), flag('v1', 'c0', 1, '刀')];
    await repo.replaceFlags({ videoId: 'v1', keywordsVersion: 7, videoUpdatedAt: '2024-05-01T00:00:00.000Z' }, flags);
    expect(await repo.listChecks()).toEqual([{ videoId: 'v1', keywordsVersion: 7, videoUpdatedAt: '2024-05-01T00:00:00.000Z' }]);
    server.expectDone();
    expect(server.bodyOf(0)).toEqual({ videoId: 'v1', keywordsVersion: 7, videoUpdatedAt: '2024-05-01T00:00:00.000Z', flagCount: 3, flags: [flags[2], flags[1], flags[0]] });
    expect(server.bodyOf(2)).toMatchObject({ _source: { includes: ['videoId', 'keywordsVersion', 'videoUpdatedAt'] }, sort: [{ videoId: { order: 'asc' } }] });
    expect(await codeOf(repo.replaceFlags({ videoId: 'v1', keywordsVersion: 7, videoUpdatedAt: 't' }, [flag('v2', 'x', 0, 'gun')]))).toBe('BAD_USER_INPUT');
  });
});

describe('migrate: copying the embedded ads, tags, highlights and moderation', () => {
  const { open, dataDir } = useEmbeddedStores('vidsearch-ads-copy');

  it('copies everything once; keeps what the target already has; current checks stay current only with the same lists; a re-run changes nothing', async () => {
    const source = await open('source');
    for (const id of ['a1', 'a2', 'a3']) await source.ads.putAd(ad(id));
    await source.tags.replaceVideoTags('v1', ['OBJECT'], [tag('v1', 0, 'OBJECT', 'cup', 0.9)]);
    await source.tags.replaceVideoTags('v1', ['SCENE', 'MOOD'], [tag('v1', 0, 'SCENE', 'indoor', 0.7), tag('v1', 1, 'MOOD', 'calm', 0.5)]);
    await source.tags.replaceVideoTags('v2', ['SCENE'], [tag('v2', 0, 'SCENE', 'night', 0.8)]);
    await source.highlights.replaceVideoSignals('v1', signals('v1', [0, 10]));
    await source.highlights.replaceVideoSignals('v2', signals('v2', [0]));
    await source.highlights.addFeedback(feedback('f1', 'v1', true), model(1));
    await source.highlights.addFeedback(feedback('f2', 'v2', false), model(2));
    await source.moderation.addKeywords('violence', ['刀', 'gun']);
    const version = await source.moderation.keywordsVersion();
    await source.moderation.replaceFlags({ videoId: 'v1', keywordsVersion: version, videoUpdatedAt: 't1' }, [flag('v1', 'c1', 5, 'gun'), flag('v1', 'c0', 1, '刀')]);
    await source.moderation.replaceFlags({ videoId: 'v2', keywordsVersion: version - 1, videoUpdatedAt: 't2' }, []);

    const target = await open('target');
    const highlights = new FakeHighlightRepository();
    // Written on the new backend after the switch: stays.
    await target.ads.putAd(ad('a2', { title: 'Edited after the switch' }));
    await target.tags.replaceVideoTags('v2', ['SCENE'], [tag('v2', 0, 'SCENE', 'outdoor', 0.6)]);
    const into = { ads: target.ads, tags: target.tags, moderation: target.moderation, highlights };

    const log = createLogger('silent');
    const first = await copyAds(source, dataDir('source'), into, log);
    expect(first).toEqual({ ads: 2, taggedVideos: 1, tags: 3, signalVideos: 2, feedback: 2, model: true, keywordLists: 1, checks: 2, flags: 2, skipped: 2 });
    expect((await target.ads.allAds()).map((a) => a.title)).toEqual(['Ad a1', 'Edited after the switch', 'Ad a3']);
    expect(await target.tags.getTagsOfVideo('v1')).toEqual(await source.tags.getTagsOfVideo('v1'));
    expect(await target.tags.getTagsOfVideo('v2')).toEqual([tag('v2', 0, 'SCENE', 'outdoor', 0.6)]);
    expect(await highlights.getSignalsOfVideo('v1')).toEqual(signals('v1', [0, 10]));
    expect(highlights.feedback).toEqual([feedback('f1', 'v1', true), feedback('f2', 'v2', false)]);
    expect(await highlights.getModel()).toEqual(model(2));
    expect(await target.moderation.listKeywordLists()).toMatchObject([{ name: 'violence', keywords: ['刀', 'gun'] }]);
    const targetVersion = await target.moderation.keywordsVersion();
    expect((await target.moderation.listChecks()).sort((a, b) => (a.videoId < b.videoId ? -1 : 1))).toEqual([
      { videoId: 'v1', keywordsVersion: targetVersion, videoUpdatedAt: 't1' },
      { videoId: 'v2', keywordsVersion: -1, videoUpdatedAt: 't2' },
    ]);
    expect(await allPages((page) => target.moderation.listFlags(page), 10)).toEqual(await allPages((page) => source.moderation.listFlags(page), 10));

    await highlights.putModel(model(3));
    const second = await copyAds(source, dataDir('source'), into, log);
    expect(second).toEqual({ ads: 0, taggedVideos: 0, tags: 0, signalVideos: 0, feedback: 2, model: false, keywordLists: 0, checks: 0, flags: 0, skipped: 10 });
    expect(await highlights.getModel()).toEqual(model(3));
    expect(highlights.feedback).toHaveLength(2);
    expect(await target.moderation.keywordsVersion()).toBe(targetVersion);
  });

  it('marks even current checks stale when the target’s keyword lists differ (edited after the switch)', async () => {
    const source = await open('source');
    await source.moderation.addKeywords('violence', ['刀', 'gun']);
    await source.moderation.replaceFlags({ videoId: 'v1', keywordsVersion: await source.moderation.keywordsVersion(), videoUpdatedAt: 't1' }, [flag('v1', 'c1', 5, 'gun')]);
    const target = await open('target');
    await target.moderation.addKeywords('violence', ['gun']);
    const copy = await copyAds(source, dataDir('source'), { ...target, highlights: new FakeHighlightRepository() }, createLogger('silent'));
    expect(copy).toMatchObject({ keywordLists: 0, checks: 1, flags: 1, skipped: 1 });
    expect(await target.moderation.listChecks()).toEqual([{ videoId: 'v1', keywordsVersion: -1, videoUpdatedAt: 't1' }]);
  });
});
