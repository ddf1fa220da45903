// Technical cues, intro/outro and frame evidence on Elasticsearch. The shared contract
// (conformance-media.ts) runs against the embedded store and the in-memory fakes always, and
// against a live cluster when ELASTICSEARCH_URL is set; the adapters' requests and their handling
// of answers run always through the real @elastic/elasticsearch client against recorded
// responses (test/store/fixtures/elastic/{technical,intro,evidence}-*.json). Also here: `migrate`'s
// copy of these repositories from an embedded store.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { copyMedia } from '../../src/commands/migrate-media.js';
import { createLogger } from '../../src/logger.js';
import { ElasticCatalog } from '../../src/store/elastic/catalog.js';
import { elasticClient } from '../../src/store/elastic/client.js';
import { ElasticDocuments, familyAliases } from '../../src/store/elastic/documents.js';
import { ElasticFrameEvidenceRepository } from '../../src/store/elastic/frame-evidence.js';
import { ElasticIntroRepository } from '../../src/store/elastic/intro.js';
import { openMediaRepositories } from '../../src/store/elastic/media.js';
import type { Logger } from '../../src/logger.js';
import { FRAME_EVIDENCE_FAMILY, INTRO_FAMILY, TECHNICAL_FAMILY } from '../../src/store/elastic/media-schema.js';
import { ElasticTechnicalRepository } from '../../src/store/elastic/technical.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { FakeCatalog } from '../helpers/fake-store.js';
import { FakeFrameEvidenceRepository } from '../helpers/fake-frame-evidence.js';
import { FakeIntroRepository, FakeTechnicalRepository } from '../helpers/fake-technical.js';
import { video } from './conformance.js';
import { describeMediaConformance, evidenceFrame, fingerprint, shotQuality, skipMarker, technicalCue, visualFlag } from './conformance-media.js';
import { loadExchanges, ReplayServer } from './fixtures/replay-server.js';
import { useEmbeddedStores } from '../helpers/embedded-stores.js';

describeMediaConformance('embedded', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-media-'));
  const store = await openEmbeddedStore(dir);
  return {
    catalog: store.catalog,
    technical: store.technical,
    intro: store.intro,
    frameEvidence: store.frameEvidence,
    async dispose() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describeMediaConformance('in-memory fakes', async () => {
  const catalog = new FakeCatalog();
  return {
    catalog,
    technical: new FakeTechnicalRepository(),
    intro: new FakeIntroRepository(catalog.videos),
    frameEvidence: new FakeFrameEvidenceRepository(),
    dispose: async () => {},
  };
});

const ELASTICSEARCH_URL = process.env.ELASTICSEARCH_URL;
if (!ELASTICSEARCH_URL) console.warn('[elastic-media] live conformance SKIPPED: ELASTICSEARCH_URL is not set (recorded-response tests still run)');

(ELASTICSEARCH_URL ? describe : describe.skip)('elasticsearch media repositories (live cluster)', () => {
  let run = 0;
  describeMediaConformance('elasticsearch', async () => {
    run += 1;
    const prefix = `vidsearch-test-${process.pid}-${run}`;
    const client = elasticClient({ url: ELASTICSEARCH_URL!, apiKey: process.env.ELASTICSEARCH_API_KEY ?? null });
    const { catalog } = await ElasticCatalog.open(client, { prefix });
    const repositories = await openMediaRepositories(client, { prefix, catalog });
    return {
      catalog,
      ...repositories,
      async dispose() {
        await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
        // The templates too, or every run leaves its own behind on the cluster.
        await client.indices.deleteIndexTemplate({ name: `${prefix}-*` }, { ignore: [404] });
        await client.close();
      },
    };
  });
});

describe('elasticsearch media repositories against recorded responses', () => {
  const server = new ReplayServer({ 'x-elastic-product': 'Elasticsearch' });
  const FAST = { retries: 3, baseMs: 1, maxMs: 4 };
  let documents: ElasticDocuments;
  let technical: ElasticTechnicalRepository;
  let intro: ElasticIntroRepository;
  let frames: ElasticFrameEvidenceRepository;


  beforeAll(async () => {
    const url = await server.start();
    documents = new ElasticDocuments(elasticClient({ url, maxRetries: 0 }), FAST);
    const catalog = new ElasticCatalog(documents.client, { backoff: FAST });
    technical = new ElasticTechnicalRepository(documents, familyAliases('vidsearch', TECHNICAL_FAMILY).technical);
    intro = new ElasticIntroRepository(documents, familyAliases('vidsearch', INTRO_FAMILY), catalog);
    frames = new ElasticFrameEvidenceRepository(documents, familyAliases('vidsearch', FRAME_EVIDENCE_FAMILY)['frame-evidence']);
  });
  afterAll(async () => {
    await documents.client.close();
    await server.stop();
  });
  beforeEach(() => server.replay([]));

  it('creates the four media indices from strict templates behind their aliases; pictures, features and hashes are never indexed', async () => {
    server.replay([...loadExchanges('elastic/technical-create.json'), ...loadExchanges('elastic/intro-create.json'), ...loadExchanges('elastic/evidence-create.json')]);
    const logged: unknown[] = [];
    const log = { info: (fields: unknown) => void logged.push(fields) } as unknown as Logger;
    await openMediaRepositories(documents.client, { backoff: FAST, catalog: new FakeCatalog(), log });
    server.expectDone();
    expect(logged).toEqual([
      {
        technical: 'vidsearch-technical-v1 (created)',
        fingerprints: 'vidsearch-fingerprints-v1 (created)',
        'skip-markers': 'vidsearch-skip-markers-v1 (created)',
        'frame-evidence': 'vidsearch-frame-evidence-v2 (created)',
      },
    ]);
    type Template = { index_patterns: string[]; template: { mappings: { dynamic: string; _meta: unknown; properties: Record<string, unknown> } } };
    const templates = [1, 5, 9, 13].map((i) => server.bodyOf(i) as Template);
    expect(templates.map((t) => t.index_patterns)).toEqual([
      ['vidsearch-technical-v*'],
      ['vidsearch-fingerprints-v*'],
      ['vidsearch-skip-markers-v*'],
      ['vidsearch-frame-evidence-v*'],
    ]);
    for (const t of templates.slice(0, 3)) expect(t.template.mappings).toMatchObject({ dynamic: 'strict', _meta: { schemaVersion: 1 } });
    // Version 2 added the grey thumbnails.
    expect(templates[3]!.template.mappings).toMatchObject({ dynamic: 'strict', _meta: { schemaVersion: 2 } });
    const [technicalMapping, fingerprintMapping, markerMapping, evidenceMapping] = templates.map((t) => t.template.mappings.properties);
    expect(technicalMapping).toEqual({ videoId: { type: 'keyword' }, set: { type: 'keyword' }, records: { type: 'object', enabled: false } });
    expect(fingerprintMapping).toMatchObject({
      videoId: { type: 'keyword' },
      version: { type: 'integer' },
      head: { type: 'object', properties: { start: { type: 'double' }, visual: { type: 'binary' }, visualInformative: { type: 'binary' }, audio: { type: 'binary' } } },
    });
    expect(markerMapping).toEqual({ videoId: { type: 'keyword' }, auto: { type: 'object', enabled: false }, editor: { type: 'object', enabled: false } });
    expect(evidenceMapping).toEqual({
      videoId: { type: 'keyword' },
      model: { type: 'keyword' },
      timeMs: { type: 'long' },
      repeat: { type: 'boolean' },
      picture: { type: 'binary' },
      features: { type: 'binary' },
      thumbnail: { type: 'binary' },
      thumbnailWidth: { type: 'integer' },
    });
    expect(server.bodyOf(15)).toEqual({ actions: [{ add: { index: 'vidsearch-frame-evidence-v2', alias: 'vidsearch-frame-evidence', is_write_index: true } }] });
  });

  it('replaces a technical set as one document under a video/set id, retrying a 429 with back-off', async () => {
    server.replay(loadExchanges('elastic/technical-replace.json'));
    const cues = [technicalCue('v1', 'SILENCE', 30, { videoId: 'elsewhere' }), technicalCue('v1', 'BLACK_FRAMES', 0)];
    await technical.replaceCues('v1', cues);
    server.expectDone();
    expect(server.requestLines()).toEqual(['PUT /vidsearch-technical/_doc/v1%2Fcues', 'PUT /vidsearch-technical/_doc/v1%2Fcues']);
    expect(server.bodyOf(1)).toEqual(server.bodyOf(0));
    expect(server.bodyOf(1)).toEqual({ videoId: 'v1', set: 'cues', records: [technicalCue('v1', 'SILENCE', 30), technicalCue('v1', 'BLACK_FRAMES', 0)] });
  });

  it('reads a technical set by id (real-time) in time order; a missing document is an empty set', async () => {
    server.replay(loadExchanges('elastic/technical-read.json'));
    const cues = await technical.getCues('v1');
    expect(await technical.getShotQuality('v2')).toEqual([]);
    server.expectDone();
    expect(server.bodyOf(0)).toEqual({ ids: ['v1/cues'] });
    expect(server.bodyOf(1)).toEqual({ ids: ['v2/quality'] });
    expect(cues).toEqual([
      technicalCue('v1', 'BLACK_FRAMES', 0, { end: 1.5 }),
      technicalCue('v1', 'LETTERBOX', 0, { end: 100, confidence: 1, activeArea: { x: 0, y: 60, width: 1280, height: 600 } }),
      technicalCue('v1', 'SILENCE', 30),
    ]);
  });

  it('deletes a video’s technical sets in one bulk request; sets never written (404 not_found) are no error', async () => {
    server.replay(loadExchanges('elastic/technical-delete.json'));
    await technical.deleteVideo('v1');
    server.expectDone();
    expect(server.bodyOf(0)).toEqual(['cues', 'quality', 'flags'].map((set) => ({ delete: { _index: 'vidsearch-technical', _id: `v1/${set}` } })));
  });

  it('lists a series through the catalog, orders it by season and episode, and fetches fingerprints by id (missing ones left out)', async () => {
    server.replay(loadExchanges('elastic/intro-series.json'));
    const found = await intro.getFingerprintsOfSeries('S');
    server.expectDone();
    expect(server.bodyOf(0)).toMatchObject({ query: { bool: { filter: [{ term: { series: 'S' } }] } }, size: 501 });
    expect(server.bodyOf(1)).toEqual({ ids: ['e1', 'e2'] });
    expect(found).toHaveLength(1);
    const [e1] = found;
    expect(e1).toMatchObject({ videoId: 'e1', durationSec: 1300, visualStepSec: 0.5, audioStepSec: 0.25, version: 2 });
    expect(e1!.head.visual).toBeInstanceOf(Uint32Array);
    expect([...e1!.head.visual]).toEqual([0x9e3779b9, 1]);
    expect([...e1!.head.visualInformative]).toEqual([1, 0]);
    expect([...e1!.head.audio]).toEqual([0xfffffff0, 0]);
    expect([...e1!.tail.visual]).toEqual([7, 0x80000000]);
    expect(e1!.tail.start).toBe(1000);
  });

  it('writes markers as partial updates of per-video documents (a rejected item retried alone) and reads them by id', async () => {
    server.replay(loadExchanges('elastic/intro-markers.json'));
    const auto = skipMarker('a', 'INTRO', 'AUTO', 10, { matchedVideoIds: ['b'] });
    const editor = skipMarker('a', 'OUTRO', 'EDITOR', 1250, { updatedAt: '2024-05-02T00:00:00.000Z' });
    await intro.replaceAutoMarkers(['a', 'b'], [auto]);
    await intro.putEditorMarker('a', 'OUTRO', editor);
    const markers = await intro.getMarkers(['a', 'zz']);
    server.expectDone();
    expect(server.requestLines()).toEqual(['POST /_bulk', 'POST /_bulk', 'POST /_bulk', 'POST /vidsearch-skip-markers/_mget']);
    const update = (id: string) => ({ update: { _index: 'vidsearch-skip-markers', _id: id, retry_on_conflict: 5 } });
    expect(server.bodyOf(0)).toEqual([
      update('a'),
      { doc: { videoId: 'a', auto: { INTRO: auto, OUTRO: null } }, doc_as_upsert: true },
      update('b'),
      { doc: { videoId: 'b', auto: { INTRO: null, OUTRO: null } }, doc_as_upsert: true },
    ]);
    expect(server.bodyOf(1)).toEqual((server.bodyOf(0) as unknown[]).slice(0, 2));
    expect(server.bodyOf(2)).toEqual([update('a'), { doc: { videoId: 'a', editor: { OUTRO: editor } }, doc_as_upsert: true }]);
    expect(markers).toEqual([[auto, editor], []]);
  });

  it('deletes a video’s fingerprint and markers in one bulk request', async () => {
    server.replay(loadExchanges('elastic/intro-delete.json'));
    await intro.deleteVideo('a');
    server.expectDone();
    expect(server.bodyOf(0)).toEqual([
      { delete: { _index: 'vidsearch-fingerprints', _id: 'a' } },
      { delete: { _index: 'vidsearch-skip-markers', _id: 'a' } },
    ]);
  });

  it('adds frames through the bulk helper under video/millisecond ids, waiting for a refresh', async () => {
    server.replay(loadExchanges('elastic/evidence-add.json'));
    await frames.add('v1', 'm1', [evidenceFrame(4.0001, true), evidenceFrame(5, false, 0, false)]);
    server.expectDone();
    const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
    expect(server.bodyOf(0)).toEqual([
      { index: { _index: 'vidsearch-frame-evidence', _id: 'v1/4000' } },
      {
        ...{ videoId: 'v1', model: 'm1', timeMs: 4000, repeat: true, picture: b64(evidenceFrame(4.0001).picture), features: b64(evidenceFrame(4.0001).features) },
        ...{ thumbnail: b64(evidenceFrame(4.0001).thumbnail!.grey), thumbnailWidth: 4 },
      },
      { index: { _index: 'vidsearch-frame-evidence', _id: 'v1/5000' } },
      { videoId: 'v1', model: 'm1', timeMs: 5000, repeat: false, picture: b64(evidenceFrame(5).picture), features: b64(evidenceFrame(5).features) },
    ]);
  });

  it('reads a window with one range search (a 503 retried), and a second request only when it opens on a repeat', async () => {
    server.replay(loadExchanges('elastic/evidence-window.json'));
    const led = await frames.window('v1', 'm1', 3.5, 5);
    const plain = await frames.window('v1', 'm1', 5, 5);
    server.expectDone();
    const ofVideo = [{ term: { videoId: 'v1' } }, { term: { model: 'm1' } }];
    const range = { query: { bool: { filter: [...ofVideo, { range: { timeMs: { gte: 3500, lte: 5000 } } }] } }, sort: [{ timeMs: { order: 'asc' } }], size: 1000, track_total_hits: false };
    expect(server.bodyOf(0)).toEqual(range);
    expect(server.bodyOf(1)).toEqual(range);
    expect(server.bodyOf(2)).toEqual({
      query: { bool: { filter: [...ofVideo, { term: { repeat: false } }, { range: { timeMs: { lt: 3500 } } }] } },
      sort: [{ timeMs: { order: 'desc' } }],
      size: 1,
      track_total_hits: false,
    });
    const jpeg = (salt: number): number[] => [255, 216, 255, 224, salt];
    expect(led.map((f) => ({ time: f.time, repeat: f.repeat, picture: [...f.picture], features: [...f.features] }))).toEqual([
      { time: 2, repeat: false, picture: jpeg(2), features: [1, 2, 3, 2] },
      { time: 4, repeat: true, picture: jpeg(4), features: [1, 2, 3, 4] },
      { time: 5, repeat: false, picture: jpeg(5), features: [1, 2, 3, 5] },
    ]);
    expect(plain.map((f) => f.time)).toEqual([5]);
    expect(server.received).toHaveLength(4);
  });

  it('deletes a video’s frames by query and refreshes, so no later window returns them', async () => {
    server.replay(loadExchanges('elastic/evidence-delete.json'));
    await frames.deleteVideo('v1');
    server.expectDone();
    expect(server.bodyOf(0)).toEqual({ query: { bool: { filter: [{ term: { videoId: 'v1' } }] } } });
  });
});

describe('media copy from an embedded store (migrate --to elastic)', () => {
  const { open, dataDir } = useEmbeddedStores('vidsearch-media-copy');

  it('copies technical sets, fingerprints, markers and frame evidence; keeps what the target already had; a re-run copies nothing new', async () => {
    const source = await open('source');
    const target = await open('target');
    for (const id of ['a', 'b', 'c']) {
      await source.catalog.putVideo(video(id, { series: 'S', episode: id.charCodeAt(0) }));
      await target.catalog.putVideo(video(id, { series: 'S', episode: id.charCodeAt(0) }));
      await source.technical.replaceCues(id, [technicalCue(id, 'SILENCE', 3), technicalCue(id, 'BLACK_FRAMES', 0)]);
      await source.intro.putFingerprint(fingerprint(id, id.charCodeAt(0)));
    }
    await source.technical.replaceShotQuality('a', [shotQuality('a', 0), shotQuality('a', 1, { faceSharpness: 0.4 })]);
    await source.technical.replaceVisualFlags('b', [visualFlag('b', 2, 'SEXY')]);
    await source.intro.replaceAutoMarkers(['a', 'b'], [skipMarker('a', 'INTRO', 'AUTO', 10), skipMarker('b', 'OUTRO', 'AUTO', 1200)]);
    await source.intro.putEditorMarker('a', 'OUTRO', skipMarker('a', 'OUTRO', 'EDITOR', 1250));
    const framesA = Array.from({ length: 1203 }, (_, i) => evidenceFrame(i * 0.5, i % 3 === 1));
    await source.frameEvidence.add('a', 'm1', framesA);
    await source.frameEvidence.add('c', 'm1', [evidenceFrame(1)]);
    // Written after the switch: an editor's fix of b and c's re-indexed cues and evidence.
    await target.intro.putEditorMarker('b', 'INTRO', skipMarker('b', 'INTRO', 'EDITOR', 7));
    await target.technical.replaceCues('c', [technicalCue('c', 'SLATE', 0)]);
    await target.frameEvidence.add('c', 'm1', [evidenceFrame(1, false, 3)]);

    const log = createLogger('silent');
    const first = await copyMedia(source, dataDir('source'), target, log);
    expect(first).toEqual({
      technicalSets: 4,
      technicalSetsSkipped: 1,
      fingerprints: 3,
      markerVideos: 1,
      markerVideosSkipped: 1,
      evidenceFrames: 1203,
      evidenceVideosSkipped: 1,
    });
    for (const id of ['a', 'b']) {
      expect(await target.technical.getCues(id)).toEqual(await source.technical.getCues(id));
      expect(await target.technical.getShotQuality(id)).toEqual(await source.technical.getShotQuality(id));
      expect(await target.technical.getVisualFlags(id)).toEqual(await source.technical.getVisualFlags(id));
    }
    expect(await target.technical.getCues('c')).toEqual([technicalCue('c', 'SLATE', 0)]);
    const series = async (store: Store): Promise<unknown> =>
      (await store.intro.getFingerprintsOfSeries('S')).map((f) => ({ ...f, head: [...f.head.visual, ...f.head.audio], tail: [...f.tail.visual, ...f.tail.visualInformative] }));
    expect(await series(target)).toEqual(await series(source));
    expect(await target.intro.getMarkers(['a', 'b'])).toEqual([await source.intro.getMarkers(['a']).then((m) => m[0]), [skipMarker('b', 'INTRO', 'EDITOR', 7)]]);
    const window = async (store: Store, id: string): Promise<unknown> =>
      (await store.frameEvidence.window(id, 'm1', 0, 10_000)).map((f) => [f.time, f.repeat, [...f.picture], [...f.features], [...(f.thumbnail?.grey ?? [])]]);
    expect(await window(target, 'a')).toEqual(await window(source, 'a'));
    const c = evidenceFrame(1, false, 3);
    expect(await window(target, 'c')).toEqual([[1, false, [...c.picture], [...c.features], [...c.thumbnail!.grey]]]);

    const second = await copyMedia(source, dataDir('source'), target, log);
    expect(second).toEqual({ ...first, technicalSets: 0, technicalSetsSkipped: 5, markerVideos: 0, markerVideosSkipped: 2, evidenceFrames: 0, evidenceVideosSkipped: 2 });
  });
});
