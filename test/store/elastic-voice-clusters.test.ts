// Voice clusters on every backend: the shared contract (conformance-voice-clusters.ts) against the
// embedded store and the in-memory fake always, against a live cluster when ELASTICSEARCH_URL is
// set; the Elasticsearch adapter's requests and its handling of answers through the real
// @elastic/elasticsearch client against recorded responses (fixtures/elastic/voice-clusters-*.json).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { elasticClient } from '../../src/store/elastic/client.js';
import { ElasticDocuments, familyAliases } from '../../src/store/elastic/documents.js';
import { VOICE_CLUSTERS_FAMILY } from '../../src/store/elastic/presence-schema.js';
import { ElasticVoiceClusterRepository } from '../../src/store/elastic/voice-clusters.js';
import { encodeCursor } from '../../src/store/embedded/cursor.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { FakeVoiceClusterRepository } from '../helpers/fake-voice-clusters.js';
import { describeVoiceClusterConformance, voiceCluster, voiceTurn, withVector } from './conformance-voice-clusters.js';
import { loadExchanges, ReplayServer } from './fixtures/replay-server.js';

describeVoiceClusterConformance('embedded', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-voice-clusters-'));
  const store = await openEmbeddedStore(dir);
  return {
    clusters: store.voiceClusters,
    async dispose() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describeVoiceClusterConformance('in-memory fake', async () => ({ clusters: new FakeVoiceClusterRepository(), dispose: async () => undefined }));

const ELASTICSEARCH_URL = process.env.ELASTICSEARCH_URL;
if (!ELASTICSEARCH_URL) console.warn('[elastic-voice-clusters] live conformance SKIPPED: ELASTICSEARCH_URL is not set (recorded-response tests still run)');

(ELASTICSEARCH_URL ? describe : describe.skip)('elasticsearch voice clusters (live cluster)', () => {
  let run = 0;
  describeVoiceClusterConformance('elasticsearch', async () => {
    const prefix = `vidsearch-test-${process.pid}-${(run += 1)}`;
    const client = elasticClient({ url: ELASTICSEARCH_URL!, apiKey: process.env.ELASTICSEARCH_API_KEY ?? null });
    const { repository } = await ElasticVoiceClusterRepository.open(client, { prefix });
    return {
      clusters: repository,
      async dispose() {
        await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
        await client.indices.deleteIndexTemplate({ name: `${prefix}-*` }, { ignore: [404] });
        await client.close();
      },
    };
  });
});

describe('elasticsearch voice clusters against recorded responses', () => {
  const server = new ReplayServer({ 'x-elastic-product': 'Elasticsearch' });
  const FAST = { retries: 3, baseMs: 1, maxMs: 4 };
  const INDEX = 'vidsearch-voice-clusters';
  let documents: ElasticDocuments;
  let clusters: ElasticVoiceClusterRepository;

  beforeAll(async () => {
    const url = await server.start();
    documents = new ElasticDocuments(elasticClient({ url, maxRetries: 0 }), FAST);
    clusters = new ElasticVoiceClusterRepository(documents, familyAliases('vidsearch', VOICE_CLUSTERS_FAMILY)['voice-clusters']);
  });
  afterAll(async () => {
    await documents.client.close();
    await server.stop();
  });
  beforeEach(() => server.replay([]));

  it('creates the index from a strict template behind its alias; turns and embeddings are never indexed', async () => {
    server.replay(loadExchanges('elastic/voice-clusters-create.json'));
    const { migration } = await ElasticVoiceClusterRepository.open(documents.client, { backoff: FAST });
    server.expectDone();
    expect(migration['voice-clusters']).toMatchObject({ index: 'vidsearch-voice-clusters-v1', action: 'created' });
    const template = server.bodyOf(1) as { index_patterns: string[]; template: { mappings: { dynamic: string; _meta: unknown; properties: Record<string, unknown> } } };
    expect(template.index_patterns).toEqual(['vidsearch-voice-clusters-v*']);
    expect(template.template.mappings).toMatchObject({ dynamic: 'strict', _meta: { schemaVersion: 1 } });
    expect(template.template.mappings.properties).toMatchObject({
      videoId: { type: 'keyword' },
      actorId: { type: 'keyword' },
      actorIds: { type: 'keyword' },
      turns: { type: 'object', enabled: false },
      vector: { type: 'binary' },
      createdAt: { type: 'keyword' },
    });
  });

  it('replaces a video’s clusters: indexes them (waiting for a refresh), then deletes the video’s others by query', async () => {
    server.replay(loadExchanges('elastic/voice-clusters-replace.json'));
    const known = voiceCluster('v1:voice-cluster:1', 'v1', '2026-01-01T00:00:00.000Z', { actorId: 'bob', origin: 'VOICE', turns: [voiceTurn('t0', 0, 'bob'), voiceTurn('t1', 3, 'ann', true)] });
    await clusters.replaceVideo('v1', [withVector(voiceCluster('v1:voice-cluster:0', 'v1', '2026-01-01T00:00:00.000Z'), 0.25, -0.5, 1), withVector(known)]);
    await clusters.replaceVideo('v1', []);
    server.expectDone();
    expect(server.requestLines()).toEqual(['POST /_bulk?refresh=wait_for', `POST /${INDEX}/_delete_by_query?conflicts=proceed&refresh=true`, `POST /${INDEX}/_delete_by_query?conflicts=proceed&refresh=true`]);
    const bulk = server.bodyOf(0) as Record<string, unknown>[];
    expect(bulk[0]).toEqual({ index: { _index: INDEX, _id: 'v1:voice-cluster:0' } });
    expect(bulk[1]).toMatchObject({ id: 'v1:voice-cluster:0', actorIds: [], vector: Buffer.from(Float32Array.from([0.25, -0.5, 1]).buffer).toString('base64') });
    expect(bulk[3]).toMatchObject({ ...known, actorIds: ['bob', 'ann'] });
    expect(server.bodyOf(1)).toEqual({ query: { bool: { filter: [{ term: { videoId: 'v1' } }], must_not: [{ ids: { values: ['v1:voice-cluster:0', 'v1:voice-cluster:1'] } }] } } });
    expect(server.bodyOf(2)).toEqual({ query: { bool: { filter: [{ term: { videoId: 'v1' } }], must_not: [] } } });
  });

  it('pages newest first with search_after and without embeddings (a 503 retried); lists an actor’s clusters; reads an embedding by id', async () => {
    server.replay(loadExchanges('elastic/voice-clusters-list.json'));
    const first = await clusters.list({ named: false }, { first: 1, after: null });
    const cursor = encodeCursor({ createdAt: '2026-03-01T00:00:00.000Z', id: 'd' });
    const named = await clusters.list({ named: true }, { first: 5, after: cursor });
    const ofBob = await clusters.listOfActor('bob');
    const vector = await clusters.getVector('b');
    const missing = await clusters.get('zz');
    server.expectDone();
    const source = { excludes: ['vector'] };
    const sort = [{ createdAt: { order: 'desc' } }, { id: { order: 'desc' } }];
    expect(server.bodyOf(1)).toEqual({ query: { bool: { filter: [{ bool: { must_not: [{ exists: { field: 'actorId' } }] } }] } }, sort, size: 2, track_total_hits: true, _source: source });
    expect(server.bodyOf(2)).toEqual({ query: { bool: { filter: [{ exists: { field: 'actorId' } }] } }, sort, size: 6, track_total_hits: true, _source: source, search_after: ['2026-03-01T00:00:00.000Z', 'd'] });
    expect(server.bodyOf(3)).toEqual({ query: { bool: { filter: [{ term: { actorIds: 'bob' } }] } }, sort: [{ id: { order: 'asc' } }], size: 1000, track_total_hits: false, _source: source });
    expect(server.bodyOf(4)).toEqual({ ids: ['b'] });
    expect([first.items.map((c) => c.id), first.hasNextPage, first.totalCount, first.endCursor]).toEqual([['d'], true, 3, cursor]);
    const bob = voiceCluster('b', 'v1', '2026-01-01T00:00:00.000Z', { actorId: 'bob', origin: 'VOICE', turns: [voiceTurn('b-t0', 0, 'bob', true)] });
    expect(named).toMatchObject({ items: [bob], hasNextPage: false, totalCount: 1 });
    expect(ofBob).toEqual([bob]);
    expect([...vector!]).toEqual([0.25, -0.5, 1]);
    expect(missing).toBeNull();
  });

  it('updates actor, origin and turns as partial updates in one bulk request; a cluster gone meanwhile (404) is skipped, other refusals throw', async () => {
    server.replay(loadExchanges('elastic/voice-clusters-update.json'));
    const renamed = voiceCluster('b', 'v1', '2026-01-01T00:00:00.000Z', { actorId: 'rob', origin: 'EDITOR', turns: [voiceTurn('t0', 0, 'rob')], updatedAt: '2026-03-01T00:00:00.000Z' });
    await clusters.update([renamed, voiceCluster('gone', 'v1', '2026-01-01T00:00:00.000Z')]);
    await expect(clusters.update([renamed])).rejects.toThrow(/refused 1 voice-cluster updates: b: failed to parse/);
    server.expectDone();
    expect(server.bodyOf(0)).toEqual([
      { update: { _index: INDEX, _id: 'b' } },
      { doc: { actorId: 'rob', actorIds: ['rob'], origin: 'EDITOR', turns: renamed.turns, updatedAt: '2026-03-01T00:00:00.000Z' } },
      { update: { _index: INDEX, _id: 'gone' } },
      { doc: { actorId: null, actorIds: [], origin: null, turns: [voiceTurn('gone-t0', 0)], updatedAt: '2026-01-01T00:00:00.000Z' } },
    ]);
  });

  it('purges clusters with no known actor before the cut-off, and a video’s clusters, by query with a refresh', async () => {
    server.replay(loadExchanges('elastic/voice-clusters-delete.json'));
    expect(await clusters.purgeUnknown('2026-02-01T00:00:00.000Z')).toBe(2);
    await clusters.deleteVideo('v1');
    server.expectDone();
    expect(server.bodyOf(0)).toEqual({
      query: { bool: { filter: [{ bool: { must_not: [{ exists: { field: 'actorIds' } }] } }, { range: { updatedAt: { lt: '2026-02-01T00:00:00.000Z' } } }] } },
    });
    expect(server.bodyOf(1)).toEqual({ query: { bool: { filter: [{ term: { videoId: 'v1' } }] } } });
  });
});
