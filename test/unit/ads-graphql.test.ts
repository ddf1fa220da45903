// GraphQL ads/highlights operations over the real services and embedded store: role rules from
// API.md (ads+editor for ads, editor for highlight feedback, read for highlights), the AdMatch
// shape {ad score reasons {kind value weight}}, Segment.tags, and BAD_USER_INPUT codes.
import type { ApolloServer } from '@apollo/server';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApolloServer } from '../../src/http/graphql.js';
import { MediaUrlSigner } from '../../src/http/media-urls.js';
import { createRequestContext, type RequestContext } from '../../src/resolvers/context.js';
import { buildVidsearchSchema } from '../../src/resolvers/schema.js';
import { createAdsService } from '../../src/services/ads/index.js';
import { createHighlightsService } from '../../src/services/highlights.js';
import type { Services } from '../../src/services/index.js';
import { createVideoService } from '../../src/services/video.service.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { makeVideo } from '../helpers/fake-store.js';

const log = pino({ level: 'silent' });
let server: ApolloServer<RequestContext>;
let store: Store;
let dir: string;
let services: Services;
const video = makeVideo({ durationSec: 20 });
const signer = new MediaUrlSigner(Buffer.from('ads-test-secret-0123456789abcdef'));
const keys = new Map([
  ['ed', 'editor'],
  ['ad', 'ads'],
  ['se', 'search'],
] as const);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-ads-gql-'));
  store = await openEmbeddedStore(dir);
  services = {
    ads: createAdsService({ store, log }),
    highlights: createHighlightsService({ store }),
    videos: createVideoService({ store, derivedFiles: { purgeVideo: async () => undefined }, log, scoreFace: async () => [] }),
  } as Pick<Services, 'ads' | 'highlights' | 'videos'> as Services;
  await store.catalog.putVideo(video);
  await store.catalog.replaceStructure(
    video.id,
    [{ id: 'sh0', videoId: video.id, index: 0, start: 0, end: 20, keyframeTime: 5, transition: 'START' }],
    [0, 1].map((i) => ({ id: `seg${i}`, videoId: video.id, index: i, shotIndex: 0, start: i * 10, end: i * 10 + 10, keyframeTime: i * 10 + 5 })),
  );
  await store.catalog.replaceCues(video.id, ['SIDECAR'], [{ id: 'c0', videoId: video.id, segmentId: 'seg0', start: 1, end: 3, text: '来一杯咖啡', kind: 'SUBTITLE', source: 'SIDECAR', lang: 'zh' }]);
  await store.tags.replaceVideoTags(video.id, ['OBJECT'], [{ videoId: video.id, segmentId: 'seg0', kind: 'OBJECT', label: 'cup', score: 0.8, source: 'MODEL', box: { x: 1, y: 2, width: 3, height: 4 } }]);
  await store.highlights.replaceVideoSignals(video.id, [0, 1].map((i) => ({ videoId: video.id, segmentId: `seg${i}`, start: i * 10, end: i * 10 + 10, features: [i, i, 0, i, 0, 0] })));
  server = createApolloServer({ schema: await buildVidsearchSchema(), log });
  await server.start();
});

afterAll(async () => {
  await server.stop();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function gql(query: string, key: string) {
  const contextValue = createRequestContext({ services, apiKeys: keys, mediaUrls: signer }, `Bearer ${key}`);
  const response = await server.executeOperation({ query }, { contextValue });
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  return response.body.singleResult;
}

const codes = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => (result.errors ?? []).map((e) => e.extensions?.code);

describe('GraphQL ads', () => {
  it('lets the ads role manage ads and match them; the search role may not', async () => {
    const upsert = `mutation { upsertAd(input: {id: "coffee", title: "Coffee", keywords: ["咖啡"], objects: ["杯子"], categories: ["IAB8"]}) { id objects brandSafety { avoidFlagged } } }`;
    expect(codes(await gql(upsert, 'se'))).toEqual(['FORBIDDEN']);
    const created = await gql(upsert, 'ad');
    expect(created.errors).toBeUndefined();
    expect(created.data).toEqual({ upsertAd: { id: 'coffee', objects: ['cup'], brandSafety: { avoidFlagged: true } } });

    const match = await gql(`{ matchAds(videoId: "${video.id}", time: 2) { score ad { id } reasons { kind value weight } } }`, 'ad');
    expect(match.errors).toBeUndefined();
    const [first] = (match.data as { matchAds: { score: number; ad: { id: string }; reasons: { kind: string; value: string; weight: number }[] }[] }).matchAds;
    expect(first!.ad.id).toBe('coffee');
    expect(first!.reasons.map((r) => r.kind)).toEqual(['KEYWORD', 'OBJECT', 'CATEGORY']);
    // cup implies IAB8 itself (and IAB8-6): the exact category match counts, at 0.5 × 0.8.
    expect(first!.score).toBeCloseTo(1 + 0.6 * 0.8 + 0.5 * 0.8, 4);
    expect(codes(await gql(`{ matchAds(videoId: "${video.id}", time: 2) { score } }`, 'se'))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(`{ matchAds(videoId: "${video.id}") { score } }`, 'ad'))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(`mutation { upsertAd(input: {title: "x", categories: ["nope"]}) { id } }`, 'ed'))).toEqual(['BAD_USER_INPUT']);

    const list = await gql(`{ ads(first: 5) { totalCount edges { node { id title } } } }`, 'ed');
    expect(list.data).toEqual({ ads: { totalCount: 1, edges: [{ node: { id: 'coffee', title: 'Coffee' } }] } });
    expect(await gql(`{ adBreaks(videoId: "${video.id}") { time } }`, 'ad')).toMatchObject({ data: { adBreaks: [] } });
    expect((await gql(`mutation { deleteAd(id: "coffee") }`, 'ad')).data).toEqual({ deleteAd: true });
  });

  it('says why an answer is empty: adMatching names the exclusions and the segment’s visual risk', async () => {
    await gql(`mutation { upsertAd(input: {id: "tea", title: "Tea", keywords: ["咖啡"], brandSafety: {maxVisualRisk: 0.3}}) { id } }`, 'ad');
    await store.technical.replaceVisualFlags(video.id, [
      { id: 'r0', videoId: video.id, segmentId: 'seg0', label: 'SEXY', start: 0, end: 10, score: 0.6, risk: 0.375, flagged: false, evidenceTimes: [2], modelId: 'test' },
    ]);
    const result = await gql(`{ adMatching(videoId: "${video.id}", time: 2) { visualRisk matches { ad { id } } excluded { reason count adIds } } }`, 'ad');
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ adMatching: { visualRisk: 0.375, matches: [], excluded: [{ reason: 'VISUAL_RISK', count: 1, adIds: ['tea'] }] } });
    expect((await gql(`{ ad(id: "tea") { brandSafety { maxVisualRisk } } }`, 'ad')).data).toEqual({ ad: { brandSafety: { maxVisualRisk: 0.3 } } });
    expect(codes(await gql(`mutation { upsertAd(input: {title: "x", brandSafety: {maxVisualRisk: 2}}) { id } }`, 'ad'))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(`{ adMatching(videoId: "${video.id}", time: 2) { visualRisk } }`, 'se'))).toEqual(['FORBIDDEN']);
    await store.technical.replaceVisualFlags(video.id, []);
    await gql(`mutation { deleteAd(id: "tea") }`, 'ad');
  });

  it('serves segment tags with Chinese labels to every role', async () => {
    const result = await gql(`{ video(id: "${video.id}") { segments(first: 1) { edges { node { tags { kind label labelZh score source box { width } } } } } } }`, 'se');
    expect(result.errors).toBeUndefined();
    expect(JSON.stringify(result.data)).toContain('"label":"cup","labelZh":"杯子","score":0.8,"source":"MODEL","box":{"width":3}');
  });
});

describe('GraphQL highlights', () => {
  it('lets every role read highlights and only editors teach the scorer', async () => {
    const read = await gql(`{ highlights(videoId: "${video.id}", first: 2, minSec: 5, maxSec: 10) { start end score features { name value } video { id } } }`, 'se');
    expect(read.errors).toBeUndefined();
    expect((read.data as { highlights: { start: number }[] }).highlights[0]!.start).toBe(10);
    const mark = `mutation { markHighlight(videoId: "${video.id}", start: 0, end: 10, good: true) { updates weights { name value } } }`;
    expect(codes(await gql(mark, 'ad'))).toEqual(['FORBIDDEN']);
    expect((await gql(mark, 'ed')).data).toMatchObject({ markHighlight: { updates: 1 } });
    expect(codes(await gql(`mutation { markHighlight(videoId: "${video.id}", start: 5, end: 1, good: true) { updates } }`, 'ed'))).toEqual(['BAD_USER_INPUT']);
  });
});
