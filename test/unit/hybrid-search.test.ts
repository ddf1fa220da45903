// searchSegments with a picture: fusion of text hits and image matches over a fake store, honest
// pagination over the fused list, validation and typed errors, and the GraphQL arguments.
import type { ApolloServer } from '@apollo/server';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SegmentRecord, VideoRecord } from '../../src/domain.js';
import { BadInputError, PayloadTooLargeError } from '../../src/errors.js';
import { createApolloServer } from '../../src/http/graphql.js';
import { MediaUrlSigner } from '../../src/http/media-urls.js';
import { createRequestContext, type RequestContext } from '../../src/resolvers/context.js';
import { buildVidsearchSchema } from '../../src/resolvers/schema.js';
import { DEFAULT_FUSION_WEIGHTS } from '../../src/services/fusion.js';
import type { ImageMatch, ImageSearchRequest, ImageSearchService } from '../../src/services/image-search/index.js';
import type { Services } from '../../src/services/index.js';
import type { Connection } from '../../src/services/pagination.js';
import { createSearchService, HYBRID_MAX_CANDIDATES, type SegmentHit } from '../../src/services/search.service.js';
import { codeOf } from '../helpers/errors.js';
import { createFakeStore, seedVideo, type FakeStore } from '../helpers/fake-store.js';

const log = pino({ level: 'silent' });
const picture = { imageBase64: 'aGVsbG8=' };

/** Stands in for the image search: the given matches (filtered by video, cut at `first`), requests recorded. */
function fakeImageSearch(matches: () => ImageMatch[], fail?: Error): ImageSearchService & { requests: ImageSearchRequest[] } {
  const requests: ImageSearchRequest[] = [];
  return {
    requests,
    async searchByImage(request) {
      requests.push(request);
      if (fail) throw fail;
      const ids = request.filter?.videoIds;
      return matches()
        .filter((m) => !ids || ids.includes(m.video.id))
        .slice(0, request.first ?? 10);
    },
    matchFrame: async () => null,
  };
}

function matchIn(video: VideoRecord, segment: SegmentRecord, similarity: number): ImageMatch {
  const at = (segment.start + segment.end) / 2;
  return { video, from: segment.start, to: segment.end, at, similarity, timeConfidence: similarity / 2, segmentId: segment.id, frameTime: null, descriptorScore: similarity, inliers: 20, rivalInliers: 0, momentMargin: null };
}

async function allPages(read: (after: string | null) => Promise<Connection<SegmentHit>>): Promise<Connection<SegmentHit>[]> {
  const pages: Connection<SegmentHit>[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await read(after);
    pages.push(page);
    if (!page.pageInfo.hasNextPage) return pages;
    after = page.pageInfo.endCursor;
  }
}

let store: FakeStore;

beforeEach(() => {
  store = createFakeStore();
});

describe('searchSegments with a picture', () => {
  it('ranks the segment that matches both first, then by weighted score; each hit says where its score came from', async () => {
    const { video, segments } = await seedVideo(store, { segmentCount: 4, cueText: (i) => (i === 3 ? 'rain today' : i === 1 ? 'rain' : 'sunny') });
    const images = fakeImageSearch(() => [matchIn(video, segments[3]!, 0.7), matchIn(video, segments[2]!, 0.95)]);
    const search = createSearchService({ store, log, imageSearch: images });
    const page = await search.searchSegments('rain today', null, 10, null, picture);
    const ids = page.edges.map((e) => e.node.segment.id);
    // seg3: text 1 (best) + similarity 0.7; seg2: picture only 0.95; seg1: text 0.5 only.
    expect(ids).toEqual([segments[3]!.id, segments[2]!.id, segments[1]!.id]);
    const [both, pictureOnly, textOnly] = page.edges.map((e) => e.node);
    expect(both!.score).toBeCloseTo(0.4 + 0.6 * 0.7, 12);
    expect(both).toMatchObject({ textScore: 1, vectorScore: 0.7 });
    expect(both!.snippet).toContain('<em>today</em>');
    expect(both!.cue?.segmentId).toBe(segments[3]!.id);
    expect(pictureOnly).toMatchObject({ textScore: null, vectorScore: 0.95, snippet: '', cue: null });
    expect(pictureOnly!.video.id).toBe(video.id);
    expect(textOnly).toMatchObject({ textScore: 0.5, vectorScore: null });
    expect(page.totalCount).toBe(3);
    expect(images.requests[0]).toMatchObject({ imageBase64: picture.imageBase64, first: 50 });
  });

  it('allows an empty query only with a picture, and then searches by the picture alone', async () => {
    const { video, segments } = await seedVideo(store, { segmentCount: 3, cueText: () => 'anything' });
    const search = createSearchService({ store, log, imageSearch: fakeImageSearch(() => [matchIn(video, segments[1]!, 0.9)]) });
    expect(await codeOf(search.searchSegments('  '))).toBe('BAD_USER_INPUT');
    expect(await codeOf(search.searchSegments('', null, 10, null, { image: null, imageBase64: null }))).toBe('BAD_USER_INPUT');
    const page = await search.searchSegments('  ', null, 10, null, picture);
    expect(page.edges.map((e) => e.node.segment.id)).toEqual([segments[1]!.id]);
    expect(page.edges[0]!.node).toMatchObject({ textScore: null, vectorScore: 0.9, snippet: '' });
    expect(page.edges[0]!.node.score).toBeCloseTo(0.54, 12);
    expect(store.callCount('text.search')).toBe(0);
  });

  it("passes the image search's typed errors through, and refuses a picture without an image search", async () => {
    await seedVideo(store, { segmentCount: 1, cueText: () => 'rain' });
    const tooLarge = createSearchService({ store, log, imageSearch: fakeImageSearch(() => [], new PayloadTooLargeError('too big')) });
    expect(await codeOf(tooLarge.searchSegments('rain', null, 5, null, picture))).toBe('PAYLOAD_TOO_LARGE');
    const badImage = createSearchService({ store, log, imageSearch: fakeImageSearch(() => [], new BadInputError('give exactly one')) });
    expect(await codeOf(badImage.searchSegments('rain', null, 5, null, picture))).toBe('BAD_USER_INPUT');
    const textOnlyServer = createSearchService({ store, log });
    expect(await codeOf(textOnlyServer.searchSegments('rain', null, 5, null, picture))).toBe('BAD_USER_INPUT');
    // The page-size and cursor rules are the text search's.
    expect(await codeOf(tooLarge.searchSegments('rain', null, 101, null, picture))).toBe('BAD_USER_INPUT');
    expect(await codeOf(tooLarge.searchSegments('rain', null, 5, 'nope', picture))).toBe('BAD_USER_INPUT');
  });

  it('pages through the fused list without gaps or repeats; totalCount counts distinct segments', async () => {
    const a = await seedVideo(store, { segmentCount: 12, cueText: () => 'storm' });
    const b = await seedVideo(store, { segmentCount: 6, cueText: () => 'calm' });
    // Two matches in one segment count once; a match outside any segment is no candidate.
    const matches = [
      matchIn(b.video, b.segments[0]!, 0.97),
      matchIn(b.video, b.segments[0]!, 0.6),
      matchIn(a.video, a.segments[5]!, 0.5),
      ...b.segments.slice(1).map((s, i) => matchIn(b.video, s, 0.3 - i * 0.05)),
      { ...matchIn(b.video, b.segments[1]!, 0.99), segmentId: null },
    ];
    const search = createSearchService({ store, log, imageSearch: fakeImageSearch(() => matches) });
    const pages = await allPages((after) => search.searchSegments('storm', null, 4, after, picture));
    const hits = pages.flatMap((p) => p.edges.map((e) => e.node));
    const ids = hits.map((h) => h.segment.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(12 + 6); // every storm segment and every picture segment (a.seg5 is both)
    expect(pages.every((p) => p.totalCount === 18)).toBe(true);
    expect(pages).toHaveLength(5);
    expect(pages.at(-1)!.pageInfo.hasNextPage).toBe(false);
    // a.seg5 has both sides (0.4 + 0.6 · 0.5), b.seg0 the picture only (0.6 · 0.97).
    expect(ids.slice(0, 2)).toEqual([a.segments[5]!.id, b.segments[0]!.id]);
    expect(hits[1]!.vectorScore).toBe(0.97);
    const scores = hits.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((x, y) => y - x));
    // Resuming from a mid-page edge cursor continues right after that edge.
    const first = pages[0]!;
    const resumed = await search.searchSegments('storm', null, 2, first.edges[1]!.cursor, picture);
    expect(resumed.edges.map((e) => e.node.segment.id)).toEqual(ids.slice(2, 4));
  });

  it('runs the image search once for all pages of one picture, again for another picture or filter, and never remembers a refusal', async () => {
    const { video, segments } = await seedVideo(store, { segmentCount: 8, cueText: () => 'storm' });
    const imageSearch = fakeImageSearch(() => segments.map((s, i) => matchIn(video, s, 0.9 - i * 0.1)));
    const search = createSearchService({ store, log, imageSearch });
    const pages = await allPages((after) => search.searchSegments('storm', null, 3, after, picture));
    expect(pages).toHaveLength(3);
    expect(imageSearch.requests).toHaveLength(1);
    await search.searchSegments('storm', null, 3, null, { imageBase64: 'b3RoZXI=' });
    await search.searchSegments('storm', { videoIds: [video.id] }, 3, null, picture);
    expect(imageSearch.requests).toHaveLength(3);

    const refusing = fakeImageSearch(() => [], new BadInputError('not a picture'));
    const strict = createSearchService({ store, log, imageSearch: refusing });
    for (let i = 0; i < 2; i++) await expect(strict.searchSegments('storm', null, 3, null, picture)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(refusing.requests).toHaveLength(2);
  });

  it('caps the fused candidates and says so through totalCount', async () => {
    const { video, segments } = await seedVideo(store, { segmentCount: 130, cueText: () => 'crowd' });
    const search = createSearchService({ store, log, imageSearch: fakeImageSearch(() => segments.slice(60).map((s) => matchIn(video, s, 0.4))) });
    const page = await search.searchSegments('crowd', null, 100, null, picture);
    // 100 best text hits (segments 0–99) ∪ 50 best matches (segments 60–109) = 110 segments.
    expect(page.totalCount).toBe(110);
    expect(page.totalCount).toBeLessThanOrEqual(HYBRID_MAX_CANDIDATES);
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect((await search.searchSegments('crowd', null, 100, page.pageInfo.endCursor, picture)).edges).toHaveLength(10);
  });

  it('applies the filter to both sides: videos and series to the image search, the time window to its segments', async () => {
    const a = await seedVideo(store, { segmentCount: 4, cueText: () => 'wind' });
    const b = await seedVideo(store, { segmentCount: 2, cueText: () => 'wind' });
    const images = fakeImageSearch(() => [...a.segments, ...b.segments].map((s) => matchIn(s.videoId === a.video.id ? a.video : b.video, s, 0.8)));
    const search = createSearchService({ store, log, imageSearch: images });
    const onlyA = await search.searchSegments('', { videoIds: [a.video.id], series: 'S', from: 12, to: 25 }, 10, null, picture);
    expect(images.requests.at(-1)!.filter).toEqual({ videoIds: [a.video.id], series: 'S' });
    // 10-second segments: [10, 20) and [20, 30) overlap 12–25.
    expect(onlyA.edges.map((e) => e.node.segment.id)).toEqual([a.segments[1]!.id, a.segments[2]!.id]);
    expect(onlyA.totalCount).toBe(2);
  });

  it('uses the configured weights', async () => {
    const { video, segments } = await seedVideo(store, { segmentCount: 2, cueText: (i) => (i === 0 ? 'fog' : 'clear') });
    const search = createSearchService({ store, log, imageSearch: fakeImageSearch(() => [matchIn(video, segments[1]!, 0.9)]), hybridWeights: { text: 0.1, vector: 0.9 } });
    const page = await search.searchSegments('fog', null, 5, null, picture);
    expect(page.edges.map((e) => [e.node.segment.id, e.node.score])).toEqual([
      [segments[1]!.id, 0.9 * 0.9],
      [segments[0]!.id, 0.1],
    ]);
  });
});

describe('searchSegments without a picture (text only) is unchanged', () => {
  it("keeps the text engine's scores and order, and adds textScore against the query's best on every page", async () => {
    await seedVideo(store, { segmentCount: 6, cueText: (i) => (i < 2 ? 'hail hail storm' : 'hail') });
    const images = fakeImageSearch(() => []);
    const search = createSearchService({ store, log, imageSearch: images });
    const direct = await store.raw.text.search({ query: 'hail storm', limit: 10, offset: 0 });
    const pages = await allPages((after) => search.searchSegments('hail storm', null, 4, after));
    const hits = pages.flatMap((p) => p.edges.map((e) => e.node));
    expect(hits.map((h) => [h.segment.id, h.score])).toEqual(direct.hits.map((h) => [h.doc.segmentId, h.score]));
    expect(hits.map((h) => h.textScore)).toEqual([1, 1, 0.5, 0.5, 0.5, 0.5]);
    expect(hits.every((h) => h.vectorScore === null)).toBe(true);
    expect(images.requests).toHaveLength(0);
    expect(pages[0]!.totalCount).toBe(6);
  });
});

describe('searchSegments over GraphQL with imageBase64', () => {
  let server: ApolloServer<RequestContext>;
  const signer = new MediaUrlSigner(Buffer.from('hybrid-test-secret-0123456789'));

  beforeAll(async () => {
    server = createApolloServer({ schema: await buildVidsearchSchema(), log });
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  async function gql(query: string, variables: Record<string, unknown>, search: Services['search']) {
    const services = { search } as Pick<Services, 'search'> as Services;
    const contextValue = createRequestContext({ services, apiKeys: new Map(), mediaUrls: signer }, undefined);
    const response = await server.executeOperation({ query, variables }, { contextValue });
    if (response.body.kind !== 'single') throw new Error('expected a single result');
    return response.body.singleResult;
  }

  it('returns fused hits with textScore and vectorScore, and BAD_USER_INPUT for an empty query without a picture', async () => {
    const { video, segments } = await seedVideo(store, { segmentCount: 3, cueText: (i) => (i === 0 ? 'snow' : 'ice') });
    const images = fakeImageSearch(() => [matchIn(video, segments[2]!, 0.92)]);
    const search = createSearchService({ store, log, imageSearch: images, hybridWeights: DEFAULT_FUSION_WEIGHTS });
    const query = `query($q: String!, $b64: String) { searchSegments(query: $q, imageBase64: $b64, first: 5) {
      totalCount edges { node { score textScore vectorScore snippet segment { id } video { id } } } } }`;
    const result = await gql(query, { q: 'snow', b64: picture.imageBase64 }, search);
    expect(result.errors).toBeUndefined();
    const data = result.data as { searchSegments: { totalCount: number; edges: { node: { textScore: number | null; vectorScore: number | null; segment: { id: string } } }[] } };
    expect(data.searchSegments.totalCount).toBe(2);
    expect(data.searchSegments.edges.map((e) => [e.node.segment.id, e.node.textScore, e.node.vectorScore])).toEqual([
      [segments[2]!.id, null, 0.92],
      [segments[0]!.id, 1, null],
    ]);
    const empty = await gql(query, { q: '' }, search);
    expect(empty.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });
});
