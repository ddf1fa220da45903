// Actors and appearances on Elasticsearch: the presence conformance suite (conformance-presence.ts)
// against the embedded store and the in-memory fakes always, against a live cluster when
// ELASTICSEARCH_URL is set; and the adapters' requests and response handling through the real
// @elastic/elasticsearch client against recorded responses (fixtures/elastic/presence-*.json).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ElasticActorRepository } from '../../src/store/elastic/actors.js';
import { ElasticAppearanceRepository } from '../../src/store/elastic/appearances.js';
import { openPresenceRepositories } from '../../src/store/elastic/presence.js';
import { copyPresence } from '../../src/commands/migrate-presence.js';
import { createLogger } from '../../src/logger.js';
import { elasticClient } from '../../src/store/elastic/client.js';
import { ElasticDocuments } from '../../src/store/elastic/documents.js';
import { ACTORS_FAMILY, APPEARANCES_FAMILY, migrateActorIndices, migrateAppearanceIndices } from '../../src/store/elastic/presence-schema.js';
import { familyAliases } from '../../src/store/elastic/documents.js';
import { encodeCursor } from '../../src/store/embedded/cursor.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { FakeAppearanceRepository } from '../helpers/fake-appearances.js';
import { FakeActorRepository } from '../helpers/fake-store.js';
import { FakeVoiceClusterRepository } from '../helpers/fake-voice-clusters.js';
import { voiceCluster, voiceTurn, withVector } from './conformance-voice-clusters.js';
import { codeOf } from '../helpers/errors.js';
import { actor, cluster, describePresenceConformance, face, span, template, track } from './conformance-presence.js';
import { loadExchanges, ReplayServer } from './fixtures/replay-server.js';

describePresenceConformance('embedded', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-presence-'));
  const store = await openEmbeddedStore(dir);
  return {
    actors: store.actors,
    appearances: store.appearances,
    async dispose() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describePresenceConformance('in-memory fakes', async () => ({
  actors: new FakeActorRepository(),
  appearances: new FakeAppearanceRepository(),
  dispose: async () => undefined,
}));

const ELASTICSEARCH_URL = process.env.ELASTICSEARCH_URL;
if (!ELASTICSEARCH_URL) console.warn('[elastic-presence] live conformance SKIPPED: ELASTICSEARCH_URL is not set (recorded-response tests still run)');

(ELASTICSEARCH_URL ? describe : describe.skip)('elasticsearch presence (live cluster)', () => {
  let run = 0;
  describePresenceConformance('elasticsearch', async () => {
    const prefix = `vidsearch-test-${process.pid}-${(run += 1)}`;
    const client = elasticClient({ url: ELASTICSEARCH_URL!, apiKey: process.env.ELASTICSEARCH_API_KEY ?? null });
    const repos = await openPresenceRepositories(client, { prefix });
    return {
      ...repos,
      async dispose() {
        await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
        await client.indices.deleteIndexTemplate({ name: `${prefix}-*` }, { ignore: [404] });
        await client.close();
      },
    };
  });
});

const G_NEW = 1714521605000;
const FAST = { retries: 3, baseMs: 1, maxMs: 4 };

describe('elasticsearch presence against recorded responses', () => {
  const server = new ReplayServer({ 'x-elastic-product': 'Elasticsearch' });
  let documents: ElasticDocuments;
  let actors: ElasticActorRepository;
  let appearances: ElasticAppearanceRepository;


  beforeAll(async () => {
    const url = await server.start();
    documents = new ElasticDocuments(elasticClient({ url, maxRetries: 0 }), FAST);
    actors = new ElasticActorRepository(documents, familyAliases('vidsearch', ACTORS_FAMILY));
    appearances = new ElasticAppearanceRepository(documents, familyAliases('vidsearch', APPEARANCES_FAMILY), { now: () => G_NEW });
  });
  afterAll(async () => {
    await documents.client.close();
    await server.stop();
  });
  beforeEach(() => server.replay([]));

  it('creates the actor and appearance indices from strict templates behind their aliases', async () => {
    server.replay(loadExchanges('elastic/presence-create.json'));
    const actorFamily = await migrateActorIndices(documents.client, 'vidsearch');
    const appearanceFamily = await migrateAppearanceIndices(documents.client, 'vidsearch');
    server.expectDone();
    expect(actorFamily.aliases).toEqual({ actors: 'vidsearch-actors' });
    expect(Object.values(appearanceFamily.results).map((r) => [r.index, r.action])).toEqual([
      ['vidsearch-face-tracks-v1', 'created'],
      ['vidsearch-faces-v1', 'created'],
      ['vidsearch-face-clusters-v1', 'created'],
      ['vidsearch-appearance-spans-v1', 'created'],
      ['vidsearch-appearance-videos-v1', 'created'],
    ]);
    type Template = { index_patterns: string[]; template: { mappings: { dynamic: string; _meta: unknown; properties: Record<string, unknown> } } };
    const templates = [1, 5, 9, 13, 17, 21].map((i) => server.bodyOf(i) as Template);
    expect(templates.map((t) => t.index_patterns[0])).toEqual([
      'vidsearch-actors-v*',
      'vidsearch-face-tracks-v*',
      'vidsearch-faces-v*',
      'vidsearch-face-clusters-v*',
      'vidsearch-appearance-spans-v*',
      'vidsearch-appearance-videos-v*',
    ]);
    for (const t of templates) expect(t.template.mappings).toMatchObject({ dynamic: 'strict', _meta: { schemaVersion: 1 } });
    const [actorsMap, tracksMap, facesMap, clustersMap, spansMap, videosMap] = templates.map((t) => t.template.mappings.properties);
    expect(actorsMap).toMatchObject({
      nameKey: { type: 'keyword' },
      namesFolded: { type: 'wildcard' },
      templateIds: { type: 'keyword' },
      templates: { type: 'object', enabled: false },
      aliases: { type: 'text', index: false },
    });
    expect(tracksMap).toMatchObject({ videoId: { type: 'keyword' }, clusterId: { type: 'keyword' }, generation: { type: 'long' }, embedding: { type: 'binary' } });
    expect(facesMap).toMatchObject({ trackId: { type: 'keyword' }, box: { type: 'object', enabled: false }, thumbnail: { type: 'binary' }, quality: { type: 'double' } });
    expect(clustersMap).toMatchObject({ vectorSum: { type: 'binary' }, createdAt: { type: 'keyword' }, updatedAt: { type: 'keyword' } });
    expect(spansMap).toMatchObject({ evidence: { type: 'keyword' }, sourceIds: { type: 'text', index: false }, generation: { type: 'long' } });
    expect(videosMap).toEqual({ videoId: { type: 'keyword' }, generations: { type: 'object', properties: { faces: { type: 'long' }, FACE: { type: 'long' }, VOICE: { type: 'long' } } } });
  });

  it('replaces a video\'s faces: new generation (bulk retried after a 429, wait_for), flip, clusters, then older generations deleted', async () => {
    server.replay(loadExchanges('elastic/presence-replace-faces.json'));
    const t = track('v1:track:0', 'v1', { clusterId: 'c1', embedding: Float32Array.from([0.6, 0.8]) });
    const f = face('v1:face:0', 'v1', 'v1:track:0', { thumbnail: Buffer.from([0xff, 0xd8]) });
    const s = span('v1:span:0', 'v1', 'a1', 4);
    const c1 = cluster('c1', 1, Float32Array.from([0.6, 0.8]), '2026-03-01');
    await appearances.replaceVideoFaces('v1', { tracks: [t], faces: [f], spans: [s], clusters: [c1, cluster('c-gone', 0, Float32Array.from([0, 0]), '2026-02-01')] });
    server.expectDone();
    expect(server.requestLines()).toEqual([
      'POST /vidsearch-appearance-videos/_mget',
      'POST /_bulk?refresh=wait_for',
      'POST /_bulk?refresh=wait_for',
      'POST /vidsearch-appearance-videos/_update/v1?retry_on_conflict=5',
      'POST /_bulk?refresh=wait_for',
      'POST /vidsearch-face-tracks%2Cvidsearch-faces%2Cvidsearch-appearance-spans/_delete_by_query?conflicts=proceed',
    ]);
    expect(server.bodyOf(0)).toEqual({ ids: ['v1'] });
    expect(server.bodyOf(1)).toEqual(server.bodyOf(2));
    expect(server.bodyOf(2)).toEqual([
      { index: { _index: 'vidsearch-face-tracks', _id: `v1:track:0@${G_NEW}` } },
      { ...t, embedding: Buffer.from(Float32Array.from([0.6, 0.8]).buffer).toString('base64'), generation: G_NEW },
      { index: { _index: 'vidsearch-faces', _id: `v1:face:0@${G_NEW}` } },
      { ...f, thumbnail: '/9g=', generation: G_NEW },
      { index: { _index: 'vidsearch-appearance-spans', _id: `v1:span:0@${G_NEW}` } },
      { ...s, generation: G_NEW },
    ]);
    expect(server.bodyOf(3)).toMatchObject({
      script: { lang: 'painless', params: { slots: ['faces', 'FACE'], generation: G_NEW } },
      upsert: { videoId: 'v1', generations: {} },
      scripted_upsert: true,
    });
    expect(server.bodyOf(4)).toEqual([
      { index: { _index: 'vidsearch-face-clusters', _id: 'c1' } },
      { ...c1, vectorSum: Buffer.from(Float32Array.from([0.6, 0.8]).buffer).toString('base64') },
      { delete: { _index: 'vidsearch-face-clusters', _id: 'c-gone' } },
    ]);
    expect(server.bodyOf(5)).toEqual({
      query: { bool: { filter: [{ term: { videoId: 'v1' } }, { range: { generation: { lt: G_NEW } } }], must_not: [{ term: { evidence: 'VOICE' } }] } },
    });
  });

  it('a replace superseded by a newer flip deletes its own documents and leaves the older ones', async () => {
    server.replay(loadExchanges('elastic/presence-replace-spans-superseded.json'));
    await appearances.replaceSpans('v1', 'VOICE', [span('v1:voice:0', 'v1', 'a1', 2, 'VOICE')]);
    server.expectDone();
    expect(server.bodyOf(2)).toMatchObject({ script: { params: { slots: ['VOICE'], generation: G_NEW } } });
    expect(server.bodyOf(3)).toEqual({ query: { bool: { filter: [{ term: { videoId: 'v1' } }, { term: { evidence: 'VOICE' } }, { term: { generation: G_NEW } }] } } });
    server.replay([]);
    expect(await codeOf(appearances.replaceSpans('v1', 'VOICE', [span('x', 'v1', 'a1', 0, 'FACE')]))).toBe('BAD_USER_INPUT');
    expect(server.received).toEqual([]);
  });

  it('reads a cluster\'s tracks across videos: one scan, then the videos\' current generations decide which documents count', async () => {
    server.replay(loadExchanges('elastic/presence-tracks-of-cluster.json'));
    const tracks = await appearances.getTracksOfCluster('c1');
    server.expectDone();
    expect(server.bodyOf(0)).toEqual({
      query: { bool: { filter: [{ term: { clusterId: 'c1' } }] } },
      sort: [{ videoId: { order: 'asc' } }, { start: { order: 'asc' } }, { id: { order: 'asc' } }, { generation: { order: 'asc' } }],
      size: 1000,
      track_total_hits: false,
    });
    expect(server.bodyOf(1)).toEqual({ ids: ['v1', 'v2'] });
    expect(tracks).toEqual([
      track('v1:track:0', 'v1', { shotIndex: 1, start: 4, end: 6, faceCount: 3, clusterId: 'c1', bestFaceId: 'v1:track:0-f0', embedding: Float32Array.from([0.6, 0.8]), modelId: 'arcface' }),
      track('v2:track:3', 'v2', {
        shotIndex: 1,
        start: 1.5,
        end: 3.5,
        faceCount: 3,
        actorId: 'a1',
        clusterId: 'c1',
        similarity: 0.71,
        confidence: 0.62,
        bestFaceId: 'v2:track:3-f0',
        embedding: Float32Array.from([0, 1]),
        modelId: 'arcface',
      }),
    ]);
  });

  it('lists actors by name key from a cursor (a 429 retried with back-off), without their templates', async () => {
    server.replay(loadExchanges('elastic/presence-list-actors.json'));
    const after = encodeCursor({ n: 'zhang', i: 'a9' });
    const page = await actors.listActors('ZHOU*', { first: 2, after });
    server.expectDone();
    expect(server.bodyOf(1)).toEqual(server.bodyOf(0));
    expect(server.bodyOf(1)).toEqual({
      query: { bool: { filter: [{ wildcard: { namesFolded: { value: '*zhou\\**' } } }] } },
      sort: [{ nameKey: { order: 'asc' } }, { id: { order: 'asc' } }],
      size: 3,
      track_total_hits: true,
      search_after: ['zhang', 'a9'],
    });
    expect(page.items).toEqual([
      { id: 'a7', name: 'Zhou Xun', aliases: ['周迅'], createdAt: '2026-03-01T10:00:00.000Z', updatedAt: '2026-03-02T10:00:00.000Z' },
      { id: 'a2', name: 'zhou yi', aliases: [], createdAt: '2026-03-01T10:00:00.000Z', updatedAt: '2026-03-02T10:00:00.000Z' },
    ]);
    expect(page).toMatchObject({ hasNextPage: false, totalCount: 2, endCursor: encodeCursor({ n: 'zhou yi', i: 'a2' }) });
    expect(await codeOf(actors.listActors(null, { first: 2, after: 'not a cursor' }))).toBe('BAD_USER_INPUT');
  });

  it('reads the spans of a video touching a window: two range filters besides the current generations', async () => {
    server.replay(loadExchanges('elastic/presence-spans-window.json'));
    expect(await appearances.getSpansOfVideo('v1', { from: 5.5, to: 9 })).toEqual([span('s1', 'v1', 'a', 5)]);
    server.expectDone();
    expect(server.bodyOf(1)).toMatchObject({
      query: {
        bool: {
          filter: [
            { term: { videoId: 'v1' } },
            { range: { start: { lte: 9 } } },
            { range: { end: { gte: 5.5 } } },
            { bool: { should: [{ bool: { filter: [{ term: { evidence: 'FACE' } }, { term: { generation: 1714521600000 } }] } }, { bool: { filter: [{ term: { evidence: 'VOICE' } }, { term: { generation: 1714521605000 } }] } }], minimum_should_match: 1 } },
          ],
        },
      },
      sort: [{ actorId: { order: 'asc' } }, { start: { order: 'asc' } }, { id: { order: 'asc' } }, { generation: { order: 'asc' } }],
    });
  });

  it('answers null for missing clusters and actors, and NOT_FOUND for templates of a missing actor', async () => {
    server.replay(loadExchanges('elastic/presence-missing.json'));
    expect(await appearances.getCluster('c9')).toBeNull();
    expect(await actors.deleteActor('a9')).toBeNull();
    expect(await codeOf(actors.addFaceTemplates([template('t9', 'a9')]))).toBe('NOT_FOUND');
    server.expectDone();
    expect(server.bodyOf(2)).toMatchObject({ script: { lang: 'painless', params: { remove: ['t9'], add: [{ id: 't9', actorId: 'a9', thumbnail: Buffer.from([0xff, 0xd8, 2]).toString('base64') }] } } });
  });

  it('deletes a video: its state first (all of it disappears at once), its tracks out of their clusters (guarded by seq_no), then every document', async () => {
    server.replay(loadExchanges('elastic/presence-delete-video.json'));
    expect(await appearances.deleteVideo('v2')).toEqual(['v2:face:0']);
    server.expectDone();
    expect(server.requestLines()).toEqual([
      'POST /vidsearch-appearance-videos/_mget',
      'POST /vidsearch-face-tracks/_search',
      'POST /vidsearch-faces/_search',
      'DELETE /vidsearch-appearance-videos/_doc/v2',
      'GET /vidsearch-face-clusters/_doc/c1',
      'PUT /vidsearch-face-clusters/_doc/c1?if_seq_no=4&if_primary_term=1&refresh=wait_for',
      'POST /vidsearch-face-tracks%2Cvidsearch-faces%2Cvidsearch-appearance-spans/_delete_by_query?conflicts=proceed&refresh=true',
    ]);
    expect(server.bodyOf(1)).toMatchObject({ query: { bool: { filter: [{ term: { videoId: 'v2' } }, { term: { generation: 1714521607000 } }] } } });
    const written = server.bodyOf(5) as Record<string, unknown>;
    expect(written).toMatchObject({ id: 'c1', size: 1, bestFaceId: null, bestFaceQuality: 0, vectorSum: Buffer.from(Float32Array.from([1, 0.5]).buffer).toString('base64') });
    expect(written.updatedAt as string > '2026-01-01T00:00:00.000Z').toBe(true);
    expect(server.bodyOf(6)).toEqual({ query: { bool: { filter: [{ term: { videoId: 'v2' } }] } } });
  });

  it('deletes the actor version it read: a template added in between (409) makes it read again and report that template too', async () => {
    server.replay(loadExchanges('elastic/presence-delete-actor.json'));
    expect(await actors.deleteActor('a1')).toEqual(['t1', 't2', 't3']);
    server.expectDone();
  });
});

describe('migrate: presence copy from the embedded store', () => {
  it('copies actors with templates, clusters and every video\'s tracks, faces, spans and voice clusters; a re-run skips what the target holds', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-presence-copy-'));
    const source = await openEmbeddedStore(dir);
    try {
      await source.actors.createActor(actor('a1', 'Zhou Xun'), [template('t1', 'a1'), template('t2', 'a1', '2026-01-03T00:00:00.000Z')]);
      await source.actors.createActor(actor('a2', 'Li Bai', ['Taibai']), []);
      await source.appearances.putClusters([cluster('c1', 1, Float32Array.from([1, 0]), '2026-01-01'), cluster('c2', 1, Float32Array.from([0, 1]), '2026-01-02', { actorId: 'a2' })]);
      const v1 = {
        tracks: [track('v1:t0', 'v1', { clusterId: 'c1' }), track('v1:t1', 'v1', { actorId: 'a1', start: 3, confidence: 0.8 })],
        faces: [face('v1:f0', 'v1', 'v1:t0', { thumbnail: Buffer.from([9]) }), face('v1:f1', 'v1', 'v1:t1')],
        spans: [span('v1:s0', 'v1', 'a1', 3)],
        clusters: [],
      };
      await source.appearances.replaceVideoFaces('v1', v1);
      await source.appearances.replaceSpans('v1', 'VOICE', [span('v1:voice', 'v1', 'a1', 8, 'VOICE')]);
      await source.appearances.replaceSpans('v2', 'VOICE', [span('v2:voice', 'v2', 'a2', 1, 'VOICE')]);
      const voices = [withVector(voiceCluster('v1:vc0', 'v1', '2026-01-01T00:00:00.000Z', { actorId: 'a1', origin: 'VOICE', turns: [voiceTurn('v1:turn0', 8, 'a1', true)] }), 0.5, 0.5, 0), withVector(voiceCluster('v1:vc1', 'v1', '2026-01-01T00:00:00.000Z'))];
      await source.voiceClusters.replaceVideo('v1', voices);
      await source.voiceClusters.replaceVideo('v2', [withVector(voiceCluster('v2:vc0', 'v2', '2026-01-02T00:00:00.000Z'))]);

      const target = { actors: new FakeActorRepository(), appearances: new FakeAppearanceRepository(), voiceClusters: new FakeVoiceClusterRepository() };
      const log = createLogger('silent');
      expect(await copyPresence(source, dir, target, log)).toEqual({
        actors: 2, templates: 2, skippedActors: 0, clusters: 2, skippedClusters: 0, videos: 2, skippedVideos: 0, tracks: 2, faces: 2, spans: 3, voiceClusters: 3, skippedVoiceVideos: 0,
      });
      expect(await target.voiceClusters.listOfVideo('v1')).toEqual(voices.map((v) => v.record));
      expect([...(await target.voiceClusters.getVector('v1:vc0'))!]).toEqual([0.5, 0.5, 0]);
      expect(await target.voiceClusters.listOfActor('a1')).toEqual([voices[0]!.record]);
      expect(await target.actors.listActors(null, { first: 5 })).toMatchObject({ items: await source.actors.getActors(['a2', 'a1']) });
      expect(await target.actors.listFaceTemplates('a1')).toEqual(await source.actors.listFaceTemplates('a1'));
      for (const id of ['c1', 'c2']) expect(await target.appearances.getCluster(id)).toEqual(await source.appearances.getCluster(id));
      for (const videoId of ['v1', 'v2']) {
        expect(await target.appearances.getTracksOfVideo(videoId)).toEqual(await source.appearances.getTracksOfVideo(videoId));
        expect(await target.appearances.getSpansOfVideo(videoId)).toEqual(await source.appearances.getSpansOfVideo(videoId));
      }
      expect(await target.appearances.getFaces(['v1:f0', 'v1:f1'])).toEqual(v1.faces);

      expect(await copyPresence(source, dir, target, log)).toMatchObject({ actors: 0, skippedActors: 2, clusters: 0, skippedClusters: 2, videos: 0, skippedVideos: 2, voiceClusters: 0, skippedVoiceVideos: 2 });
      // A video cut off after its VOICE spans (no tracks yet) is copied again.
      await target.appearances.replaceVideoFaces('v1', { tracks: [], faces: [], spans: [], clusters: [] });
      expect(await copyPresence(source, dir, target, log)).toMatchObject({ videos: 1, skippedVideos: 1, tracks: 2, faces: 2 });
      expect(await target.appearances.getTracksOfVideo('v1')).toEqual(await source.appearances.getTracksOfVideo('v1'));
    } finally {
      await source.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
