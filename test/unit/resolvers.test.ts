import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ApolloServer } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, parseApiKeys, type Role } from '../../src/config.js';
import { UnsupportedMediaError } from '../../src/errors.js';
import { createApolloServer } from '../../src/http/graphql.js';
import { MediaUrlSigner } from '../../src/http/media-urls.js';
import { createRequestContext } from '../../src/resolvers/context.js';
import type { RequestContext } from '../../src/resolvers/context.js';
import { buildVidsearchSchema } from '../../src/resolvers/schema.js';
import type { Services } from '../../src/services/index.js';
import type { MediaInspector } from '../../src/services/indexing.service.js';
import { createCoreServices } from '../helpers/core-services.js';
import { createFakeStore, seedVideo, type FakeStore } from '../helpers/fake-store.js';

const log = pino({ level: 'silent' });
const signer = new MediaUrlSigner(Buffer.from('resolver-test-secret-0123456789'));

let schema: GraphQLSchema;
let server: ApolloServer<RequestContext>;
let workDir: string;
let mediaRoot: string;
let store: FakeStore;
let services: Services;

const inspector: MediaInspector = {
  async probe(file) {
    if (file.endsWith('.txt.mp4')) throw new UnsupportedMediaError('no decodable video stream');
    return { durationSec: 30, fps: 25, width: 640, height: 360, rotation: 0, startTime: 0, hasVideo: true, hasAudio: false };
  },
  async contentHash(file) {
    return Buffer.from(path.basename(file).padEnd(32, '_')).toString('hex');
  },
};

function buildServices(target: FakeStore): Services {
  const config = loadConfig({ VIDSEARCH_MEDIA_ROOTS: mediaRoot, VIDSEARCH_DATA_DIR: path.join(workDir, 'data') }, workDir);
  return createCoreServices({ store: target, config, log, inspector, extractFrame: async () => Buffer.from('jpeg') });
}

interface GqlResult {
  data: Record<string, unknown> | null | undefined;
  errors: { message: string; extensions?: { code?: string } }[] | undefined;
}

async function gql(
  query: string,
  opts: { variables?: Record<string, unknown>; key?: string; keys?: Map<string, Role>; services?: Services } = {},
): Promise<GqlResult> {
  const contextValue = createRequestContext(
    { services: opts.services ?? services, apiKeys: opts.keys ?? new Map(), mediaUrls: signer },
    opts.key ? `Bearer ${opts.key}` : undefined,
  );
  const response = await server.executeOperation({ query, variables: opts.variables }, { contextValue });
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  const { data, errors } = response.body.singleResult;
  return { data: data as GqlResult['data'], errors: errors as GqlResult['errors'] };
}

function codes(result: GqlResult): (string | undefined)[] {
  return (result.errors ?? []).map((e) => e.extensions?.code);
}

beforeAll(async () => {
  schema = await buildVidsearchSchema();
  server = createApolloServer({ schema, log });
  await server.start();
});

afterAll(async () => {
  await server.stop();
});

beforeEach(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'vidsearch-resolvers-'));
  mediaRoot = path.join(workDir, 'media');
  await mkdir(mediaRoot);
  store = createFakeStore();
  services = buildServices(store);
});

afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('queries and connections', () => {
  it('pages videos as a Relay connection', async () => {
    for (let i = 0; i < 3; i += 1) await seedVideo(store, { segmentCount: 1 });
    const query = 'query($after: String) { videos(first: 2, after: $after) { totalCount edges { cursor node { id title status } } pageInfo { hasNextPage endCursor } } }';
    const first = await gql(query);
    const page = first.data!.videos as { totalCount: number; edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
    expect(first.errors).toBeUndefined();
    expect(page.totalCount).toBe(3);
    expect(page.edges).toHaveLength(2);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const second = await gql(query, { variables: { after: page.pageInfo.endCursor } });
    const rest = second.data!.videos as typeof page;
    expect(rest.edges).toHaveLength(1);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    expect(new Set([...page.edges, ...rest.edges].map((e) => e.node.id)).size).toBe(3);
  });

  it('reads a video with segments, shots and cues; a segment with its video and signed keyframe URLs', async () => {
    const { video, segments } = await seedVideo(store, { segmentCount: 3, video: { title: 'Rain' } });
    const result = await gql(
      `query($id: ID!, $seg: ID!) {
        video(id: $id) { title segments(first: 2) { totalCount edges { node { start end } } } shots { totalCount } cues(kinds: [SUBTITLE]) { totalCount } streamUrl }
        segment(id: $seg) { keyframeTime video { title } cues { text kind } thumbnailUrl keyframeUrl }
        missing: video(id: "vid_nope") { id }
      }`,
      { variables: { id: video.id, seg: segments[1]!.id } },
    );
    expect(result.errors).toBeUndefined();
    const data = result.data as {
      video: { segments: { totalCount: number; edges: unknown[] }; shots: { totalCount: number }; cues: { totalCount: number }; streamUrl: string };
      segment: { video: { title: string }; cues: { kind: string }[]; thumbnailUrl: string; keyframeUrl: string };
      missing: null;
    };
    expect(data.video.segments).toMatchObject({ totalCount: 3 });
    expect(data.video.segments.edges).toHaveLength(2);
    expect(data.video.shots.totalCount).toBe(3);
    expect(data.video.cues.totalCount).toBe(3);
    expect(data.segment.video.title).toBe('Rain');
    expect(data.segment.cues).toEqual([{ text: expect.any(String), kind: 'SUBTITLE' }]);
    expect(data.missing).toBeNull();
    const thumb = new URL(data.segment.thumbnailUrl, 'http://x');
    expect(thumb.pathname).toBe(`/media/keyframe/${segments[1]!.id}.jpg`);
    expect(thumb.searchParams.get('w')).toBe('320');
    expect(signer.verify(thumb.pathname, Object.fromEntries(thumb.searchParams))).toBe('ok');
    const tampered = Object.fromEntries(thumb.searchParams);
    tampered.w = '4000';
    expect(signer.verify(thumb.pathname, tampered)).toBe('invalid');
    expect(new URL(data.video.streamUrl, 'http://x').pathname).toBe(`/media/video/${video.id}`);
  });

  it('searches segments with snippet, cue, segment and video', async () => {
    await seedVideo(store, { segmentCount: 4, cueText: (i) => `it will rain at ${i}` });
    const result = await gql(
      '{ searchSegments(query: "rain", first: 3, filter: { kinds: [SUBTITLE] }) { totalCount pageInfo { hasNextPage } edges { node { score snippet cue { start end text kind } segment { start end video { title } } video { id } } } } }',
    );
    expect(result.errors).toBeUndefined();
    const conn = result.data!.searchSegments as { totalCount: number; pageInfo: { hasNextPage: boolean }; edges: { node: { snippet: string; cue: { kind: string } } }[] };
    expect(conn.totalCount).toBe(4);
    expect(conn.pageInfo.hasNextPage).toBe(true);
    expect(conn.edges).toHaveLength(3);
    expect(conn.edges[0]!.node.snippet).toContain('<em>rain</em>');
    expect(conn.edges[0]!.node.cue.kind).toBe('SUBTITLE');
  });
});

describe('DataLoaders (no N+1)', () => {
  it('loads Segment.video and Segment.cues for a whole page in one store call each', async () => {
    for (let i = 0; i < 4; i += 1) await seedVideo(store, { segmentCount: 5 });
    store.resetCalls();
    const result = await gql('{ videos(first: 10) { edges { node { segments(first: 10) { edges { node { video { id } cues { text } } } } } } } }');
    expect(result.errors).toBeUndefined();
    const segmentsSeen = (result.data!.videos as { edges: { node: { segments: { edges: unknown[] } } }[] }).edges.flatMap((e) => e.node.segments.edges);
    expect(segmentsSeen).toHaveLength(20);
    expect(store.callCount('catalog.getVideos')).toBe(1);
    expect(store.callCount('catalog.getVideo')).toBe(0);
    expect(store.callCount('catalog.getCuesBySegments')).toBe(1);
  });

  it('reuses what searchSegments already loaded for hit.segment.video and batches the cues', async () => {
    await seedVideo(store, { segmentCount: 6, cueText: () => 'storm warning' });
    await seedVideo(store, { segmentCount: 6, cueText: () => 'storm warning' });
    store.resetCalls();
    const result = await gql('{ searchSegments(query: "storm", first: 12) { edges { node { segment { video { title } cues { text } } video { id } } } } }');
    expect(result.errors).toBeUndefined();
    expect((result.data!.searchSegments as { edges: unknown[] }).edges).toHaveLength(12);
    expect(store.callCount('catalog.getVideos')).toBe(1);
    expect(store.callCount('catalog.getVideo')).toBe(0);
    expect(store.callCount('catalog.getSegmentsByIds')).toBe(1);
    expect(store.callCount('catalog.getCuesBySegments')).toBe(1);
  });

  it('batches IndexingJob.video over a page of jobs', async () => {
    for (const name of ['a.mp4', 'b.mp4', 'c.mp4']) {
      await writeFile(path.join(mediaRoot, name), name);
      await services.indexing.indexVideo({ path: path.join(mediaRoot, name) });
    }
    store.resetCalls();
    const result = await gql('{ jobs(first: 10) { totalCount edges { node { status path video { id status } } } } }');
    expect(result.errors).toBeUndefined();
    expect((result.data!.jobs as { totalCount: number }).totalCount).toBe(3);
    expect(store.callCount('catalog.getVideos')).toBe(1);
  });
});

describe('errors', () => {
  it('BAD_USER_INPUT for an empty query, a page over the maximum, a bad cursor and invalid input', async () => {
    expect(codes(await gql('{ searchSegments(query: "  ") { totalCount } }'))).toEqual(['BAD_USER_INPUT']);
    const tooBig = await gql('{ videos(first: 101) { totalCount } }');
    expect(codes(tooBig)).toEqual(['BAD_USER_INPUT']);
    expect(tooBig.errors![0]!.message).toMatch(/page size over the maximum/);
    expect(codes(await gql('{ videos(after: "bogus") { totalCount } }'))).toEqual(['BAD_USER_INPUT']);
    const { video } = await seedVideo(store);
    const negative = await gql(`mutation { updateVideo(id: "${video.id}", input: { season: -1 }) { id } }`);
    expect(codes(negative)).toEqual(['BAD_USER_INPUT']);
    expect(negative.errors![0]!.message).toMatch(/season/);
    expect(codes(await gql('{ videos(first: "ten") { totalCount } }'))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql('query($n: Int) { videos(first: $n) { totalCount } }', { variables: { n: 'x' } }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql('{ searchSegments { totalCount } }'))).toEqual(['BAD_USER_INPUT']);
  });

  it('updateVideo sets a cast of enrolled actors, reads it back on Video.cast, and refuses unknown actors', async () => {
    const { video } = await seedVideo(store);
    const at = new Date().toISOString();
    await store.raw.actors.createActor({ id: 'act_1', name: 'One', aliases: [], createdAt: at, updatedAt: at }, []);
    const set = await gql(`mutation { updateVideo(id: "${video.id}", input: { cast: ["act_1"] }) { cast } }`);
    expect(set.errors).toBeUndefined();
    expect(set.data!.updateVideo).toEqual({ cast: ['act_1'] });
    const unknown = await gql(`mutation { updateVideo(id: "${video.id}", input: { cast: ["act_404"] }) { cast } }`);
    expect(codes(unknown)).toEqual(['BAD_USER_INPUT']);
    expect(unknown.errors![0]!.message).toMatch(/act_404/);
    const cleared = await gql(`mutation { updateVideo(id: "${video.id}", input: { cast: [] }) { cast } }`);
    expect(cleared.data!.updateVideo).toEqual({ cast: null });
  });

  it('NOT_FOUND for unknown videos and jobs in mutations', async () => {
    expect(codes(await gql('mutation { updateVideo(id: "vid_x", input: { title: "t" }) { id } }'))).toEqual(['NOT_FOUND']);
    expect(codes(await gql('mutation { deleteVideo(id: "vid_x") }'))).toEqual(['NOT_FOUND']);
    expect(codes(await gql('mutation { cancelJob(id: "job_x") { id } }'))).toEqual(['NOT_FOUND']);
  });

  it('indexVideo: BAD_USER_INPUT outside the media roots, UNSUPPORTED_MEDIA for an undecodable file, a job otherwise', async () => {
    const outside = path.join(workDir, 'outside.mp4');
    await writeFile(outside, 'x');
    const mutation = 'mutation($input: IndexVideoInput!) { indexVideo(input: $input) { id status progress stage error video { id status title } } }';
    expect(codes(await gql(mutation, { variables: { input: { path: outside } } }))).toEqual(['BAD_USER_INPUT']);
    const text = path.join(mediaRoot, 'notes.txt.mp4');
    await writeFile(text, 'hello');
    expect(codes(await gql(mutation, { variables: { input: { path: text } } }))).toEqual(['UNSUPPORTED_MEDIA']);
    expect(store.raw.jobs.jobs.size).toBe(0);

    const good = path.join(mediaRoot, 'good.mp4');
    await writeFile(good, 'video');
    const ok = await gql(mutation, { variables: { input: { path: good, title: 'Good', season: 1, episode: 3 } } });
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.indexVideo).toMatchObject({ status: 'QUEUED', progress: 0, stage: null, error: null, video: { status: 'PENDING', title: 'Good' } });
  });

  it('hides unexpected errors behind INTERNAL_SERVER_ERROR with a generic message', async () => {
    const broken: Services = {
      ...services,
      search: {
        searchSegments: async () => {
          throw new Error('connection string postgres://secret');
        },
      },
    };
    const result = await gql('{ searchSegments(query: "x") { totalCount } }', { services: broken });
    expect(codes(result)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(result.errors![0]!.message).toBe('Internal server error');
    expect(JSON.stringify(result.errors)).not.toContain('secret');
  });
});

describe('roles', () => {
  const keys = parseApiKeys('s-key:search,a-key:ads,e-key:editor');

  it('UNAUTHENTICATED without a key or with an unknown key when keys are configured', async () => {
    expect(codes(await gql('{ videos { totalCount } }', { keys }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await gql('{ videos { totalCount } }', { keys, key: 'wrong' }))).toEqual(['UNAUTHENTICATED']);
  });

  it('follows the API.md table: search and ads read, only editors manage jobs and videos', async () => {
    const { video } = await seedVideo(store);
    for (const key of ['s-key', 'a-key', 'e-key']) {
      expect((await gql('{ videos { totalCount } searchSegments(query: "line") { totalCount } }', { keys, key })).errors).toBeUndefined();
    }
    const editorOnly = [
      '{ jobs { totalCount } }',
      '{ job(id: "job_1") { id } }',
      'mutation { indexVideo(input: { path: "/nope.mp4" }) { id } }',
      'mutation { cancelJob(id: "job_1") { id } }',
      `mutation { updateVideo(id: "${video.id}", input: { title: "x" }) { id } }`,
      `mutation { deleteVideo(id: "${video.id}") }`,
    ];
    for (const operation of editorOnly) {
      expect(codes(await gql(operation, { keys, key: 's-key' })), operation).toEqual(['FORBIDDEN']);
      expect(codes(await gql(operation, { keys, key: 'a-key' })), operation).toEqual(['FORBIDDEN']);
    }
    expect((await gql('{ jobs { totalCount } }', { keys, key: 'e-key' })).errors).toBeUndefined();
    // Server paths are for editors only.
    expect(codes(await gql(`{ video(id: "${video.id}") { path } }`, { keys, key: 's-key' }))).toEqual(['FORBIDDEN']);
    expect((await gql(`{ video(id: "${video.id}") { path } }`, { keys, key: 'e-key' })).data).toEqual({ video: { path: video.path } });
    expect((await gql(`mutation { deleteVideo(id: "${video.id}") }`, { keys, key: 'e-key' })).data).toEqual({ deleteVideo: true });
  });

  it('treats every caller as an editor when no keys are configured', async () => {
    expect((await gql('{ jobs { totalCount } }')).errors).toBeUndefined();
  });
});
