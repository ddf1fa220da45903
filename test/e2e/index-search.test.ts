// End to end over HTTP on a real embedded store: indexVideo mutation → job runs in the server's
// worker → searchSegments finds the dialogue with exact cue times → deleteVideo removes it all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { makeTempDir, makeTestVideo } from '../helpers/media.js';

const SRT = `1
00:00:00,500 --> 00:00:02,000
今天天气很好
The weather is nice today

2
00:00:03,200 --> 00:00:05,000
我们去公园散步吧
Let's take a walk in the park
`;

interface GraphqlResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

let temp: { dir: string; cleanup(): Promise<void> };
let app: App;
let server: RunningServer;
let videoPath: string;

async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<GraphqlResponse<T>> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GraphqlResponse<T>;
}

beforeAll(async () => {
  temp = await makeTempDir('vidsearch-e2e-');
  const media = path.join(temp.dir, 'media');
  const video = await makeTestVideo({ dir: temp.dir, name: 'episode', durationSec: 6, cuts: [3], audio: 'tone', srt: SRT });
  videoPath = video.path;
  const config = { ...loadConfig({}), dataDir: path.join(temp.dir, 'store'), mediaRoots: [temp.dir, media] };
  app = await createApp(config, { log: createLogger('silent') });
  await app.runner.start(100);
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await server?.close();
  await app?.close();
  await temp?.cleanup();
});

describe('index → search over HTTP', () => {
  let videoId = '';

  it('indexes a video through the mutation and the job reaches SUCCEEDED', async () => {
    const started = await gql<{ indexVideo: { id: string; status: string } }>(
      'mutation($path: String!) { indexVideo(input: { path: $path, title: "E2E", series: "Tests", episode: 1 }) { id status } }',
      { path: videoPath },
    );
    expect(started.errors).toBeUndefined();
    const jobId = started.data!.indexVideo.id;

    let job: { status: string; progress: number; error: string | null; video: { id: string } | null } | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const polled = await gql<{ job: NonNullable<typeof job> }>('query($id: ID!) { job(id: $id) { status progress error video { id } } }', { id: jobId });
      job = polled.data?.job;
      if (job && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(job?.error ?? null).toBeNull();
    expect(job?.status).toBe('SUCCEEDED');
    expect(job?.progress).toBe(1);
    videoId = job!.video!.id;
  });

  it('finds Chinese and English dialogue with the matching cue and its exact times', async () => {
    const zh = await gql<{ searchSegments: { totalCount: number; edges: { node: { snippet: string; cue: { start: number; end: number; text: string; kind: string }; segment: { start: number; end: number; video: { id: string; title: string } } } }[] } }>(
      '{ searchSegments(query: "天气", first: 5) { totalCount edges { node { snippet cue { start end text kind } segment { start end video { id title } } } } } }',
    );
    expect(zh.errors).toBeUndefined();
    const hit = zh.data!.searchSegments.edges[0]!.node;
    expect(hit.segment.video).toEqual({ id: videoId, title: 'E2E' });
    expect(hit.cue.start).toBeCloseTo(0.5, 3);
    expect(hit.cue.end).toBeCloseTo(2.0, 3);
    expect(hit.cue.kind).toBe('SUBTITLE');
    expect(hit.snippet).toContain('<em>');

    const en = await gql<{ searchSegments: { edges: { node: { cue: { start: number } } }[] } }>(
      '{ searchSegments(query: "walk in the park", first: 5) { edges { node { cue { start } } } } }',
    );
    expect(en.data!.searchSegments.edges[0]!.node.cue.start).toBeCloseTo(3.2, 3);
  });

  it('re-indexing the same file keeps one video and no duplicate segments', async () => {
    const before = await app.store.catalog.getSegmentsOfVideo(videoId);
    await app.indexNow({ path: videoPath });
    const videos = await app.store.catalog.listVideos({}, { first: 10 });
    expect(videos.totalCount).toBe(1);
    expect((await app.store.catalog.getSegmentsOfVideo(videoId)).map((s) => s.id)).toEqual(before.map((s) => s.id));
    const again = await gql<{ searchSegments: { totalCount: number } }>('{ searchSegments(query: "天气") { totalCount } }');
    expect(again.data!.searchSegments.totalCount).toBe(1);
  });

  it('deleteVideo removes the video and its searchable text', async () => {
    const deleted = await gql<{ deleteVideo: boolean }>('mutation($id: ID!) { deleteVideo(id: $id) }', { id: videoId });
    expect(deleted.errors).toBeUndefined();
    const after = await gql<{ searchSegments: { totalCount: number } }>('{ searchSegments(query: "天气") { totalCount } }');
    expect(after.data!.searchSegments.totalCount).toBe(0);
    const missing = await gql<{ video: null }>('query($id: ID!) { video(id: $id) { id } }', { id: videoId });
    expect(missing.data?.video ?? null).toBeNull();
  });
});
