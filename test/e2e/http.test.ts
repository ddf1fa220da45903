// The real HTTP server on port 0: over an in-memory store (media faked), then over the real
// embedded store and services with ffprobe.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { UnsupportedMediaError } from '../../src/errors.js';
import { resolveMediaTools } from '../../src/media/tools.js';
import { startServer, type RunningServer, type ServedApp } from '../../src/server.js';
import { createServices } from '../../src/services/index.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { createCoreServices } from '../helpers/core-services.js';
import { createFakeStore, seedVideo } from '../helpers/fake-store.js';
import { sharedData, sharedDataDir } from '../helpers/shared-data.js';

const log = pino({ level: 'silent' });
const KEYS = 's-key:search,e-key:editor';

interface GraphqlBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: GraphqlBody }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as GraphqlBody };
}

function firstCode(body: GraphqlBody): string | undefined {
  return body.errors?.[0]?.extensions?.code;
}

async function tempDirs(prefix: string): Promise<{ root: string; media: string; data: string }> {
  const root = await mkdtemp(path.join(tmpdir(), prefix));
  const media = path.join(root, 'media');
  await mkdir(media);
  return { root, media, data: path.join(root, 'data') };
}

function configFor(dirs: { root: string; media: string; data: string }): Config {
  // The shared test media (read in place, never copied) count as a media root too.
  const roots = [dirs.media, sharedDataDir].join(':');
  return loadConfig({ VIDSEARCH_MEDIA_ROOTS: roots, VIDSEARCH_DATA_DIR: dirs.data, VIDSEARCH_API_KEYS: KEYS }, dirs.root);
}

describe('HTTP server over an in-memory store', () => {
  let dirs: Awaited<ReturnType<typeof tempDirs>>;
  let server: RunningServer;
  let app: ServedApp;
  let extractions = 0;

  beforeAll(async () => {
    dirs = await tempDirs('vidsearch-http-');
    const config = configFor(dirs);
    const store = createFakeStore();
    const inspector = {
      probe: async () => {
        throw new UnsupportedMediaError('no video stream');
      },
      contentHash: async () => 'f'.repeat(64),
    };
    const extractFrame = async (): Promise<Buffer> => {
      extractions += 1;
      return Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    };
    const services = createCoreServices({ store, config, log, inspector, extractFrame });
    const videoFile = path.join(dirs.media, 'clip.mp4');
    await writeFile(videoFile, Buffer.alloc(4096, 7));
    await seedVideo(store, { video: { path: videoFile, title: 'Clip' }, segmentCount: 2, cueText: () => 'hello there' });
    app = { config, store, services, log };
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await server?.close();
    await rm(dirs.root, { recursive: true, force: true });
  });

  it('answers /healthz without a key and /readyz once the store answers', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', schemaVersion: 1 });
  });

  it('blocks cross-site simple requests (CSRF prevention)', async () => {
    const textPlain = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: 'Bearer e-key' },
      body: JSON.stringify({ query: 'mutation { deleteVideo(id: "x") }' }),
    });
    expect(textPlain.status).toBe(400);
    expect(await textPlain.text()).toMatch(/Cross-Site Request Forgery/i);
    const getMutation = await fetch(`${server.url}/graphql?query=${encodeURIComponent('mutation { deleteVideo(id: "x") }')}`, {
      headers: { authorization: 'Bearer e-key' },
    });
    expect(getMutation.status).toBe(400);
    expect(await getMutation.text()).toMatch(/Cross-Site Request Forgery/i);
  });

  it('UNAUTHENTICATED without a key, FORBIDDEN for the wrong role, data for the right one', async () => {
    expect(firstCode((await post(server.url, { query: '{ videos { totalCount } }' })).body)).toBe('UNAUTHENTICATED');
    expect(firstCode((await post(server.url, { query: '{ jobs { totalCount } }' }, { authorization: 'Bearer s-key' })).body)).toBe('FORBIDDEN');
    const ok = await post(server.url, { query: '{ searchSegments(query: "hello") { totalCount } }' }, { authorization: 'Bearer s-key' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ data: { searchSegments: { totalCount: 2 } } });
  });

  it('BAD_USER_INPUT for a path outside the media roots', async () => {
    const outside = path.join(dirs.root, 'outside.mp4');
    await writeFile(outside, 'x');
    const res = await post(
      server.url,
      { query: 'mutation($p: String!) { indexVideo(input: { path: $p }) { id } }', variables: { p: outside } },
      { authorization: 'Bearer e-key' },
    );
    expect(firstCode(res.body)).toBe('BAD_USER_INPUT');
  });

  it('serves keyframes and video ranges only through signed, unexpired URLs', async () => {
    const res = await post(
      server.url,
      { query: '{ videos { edges { node { streamUrl segments { edges { node { thumbnailUrl } } } } } } }' },
      { authorization: 'Bearer s-key' },
    );
    const video = (res.body.data!.videos as { edges: { node: { streamUrl: string; segments: { edges: { node: { thumbnailUrl: string } }[] } } }[] }).edges[0]!.node;
    const thumbnailUrl = video.segments.edges[0]!.node.thumbnailUrl;

    const picture = await fetch(`${server.url}${thumbnailUrl}`);
    expect(picture.status).toBe(200);
    expect(picture.headers.get('content-type')).toBe('image/jpeg');
    expect(picture.headers.get('cache-control')).toMatch(/^private, max-age=\d+/);
    expect(Buffer.from(await picture.arrayBuffer())).toEqual(Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    await fetch(`${server.url}${thumbnailUrl}`);
    expect(extractions).toBe(1);

    expect((await fetch(`${server.url}${thumbnailUrl.replace('w=320', 'w=640')}`)).status).toBe(403);
    expect((await fetch(`${server.url}${thumbnailUrl.replace(/sig=[^&]+/, 'sig=AAAA')}`)).status).toBe(403);
    expect((await fetch(`${server.url}/media/keyframe/whatever.jpg`)).status).toBe(403);

    const range = await fetch(`${server.url}${video.streamUrl}`, { headers: { range: 'bytes=0-99' } });
    expect(range.status).toBe(206);
    expect((await range.arrayBuffer()).byteLength).toBe(100);
  });

  it('PAYLOAD_TOO_LARGE for a multipart request with too many files', async () => {
    const files = 21;
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: 'mutation($f: [Upload!]) { noop(f: $f) }', variables: { f: Array(files).fill(null) } }));
    form.set('map', JSON.stringify(Object.fromEntries(Array.from({ length: files }, (_, i) => [String(i), [`variables.f.${i}`]]))));
    for (let i = 0; i < files; i += 1) form.set(String(i), new Blob(['x']), `f${i}.txt`);
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'apollo-require-preflight': '1', authorization: 'Bearer e-key' }, body: form });
    expect(res.status).toBe(413);
    expect(firstCode((await res.json()) as GraphqlBody)).toBe('PAYLOAD_TOO_LARGE');
  });

  it('PAYLOAD_TOO_LARGE for an oversized JSON body', async () => {
    const res = await post(server.url, { query: '{ videos { totalCount } }', variables: { pad: 'x'.repeat(9 * 1024 * 1024) } }, { authorization: 'Bearer s-key' });
    expect(res.status).toBe(413);
    expect(firstCode(res.body)).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('HTTP server over the real store and services (embedded SQLite, ffprobe)', () => {
  let dirs: Awaited<ReturnType<typeof tempDirs>>;
  let server: RunningServer;
  let store: Store;

  beforeAll(async () => {
    dirs = await tempDirs('vidsearch-http-real-');
    const config = configFor(dirs);
    store = await openEmbeddedStore(config.dataDir);
    const services = createServices({ store, media: resolveMediaTools(config), config, log });
    server = await startServer({ config, store, services, log }, { port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await server?.close();
    await store?.close();
    await rm(dirs.root, { recursive: true, force: true });
  });

  it('is healthy and ready', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it('UNSUPPORTED_MEDIA for a text file renamed .mp4, before any job exists', async () => {
    const fake = path.join(dirs.media, 'notes.mp4');
    await writeFile(fake, 'this is just text, not a video\n'.repeat(50));
    const mutation = { query: 'mutation($p: String!) { indexVideo(input: { path: $p }) { id } }', variables: { p: fake } };
    const res = await post(server.url, mutation, { authorization: 'Bearer e-key' });
    expect(firstCode(res.body)).toBe('UNSUPPORTED_MEDIA');
    const jobs = await post(server.url, { query: '{ jobs { totalCount } }' }, { authorization: 'Bearer e-key' });
    expect(jobs.body.data).toEqual({ jobs: { totalCount: 0 } });
  });

  it('BAD_USER_INPUT for a path outside the media roots, UNAUTHENTICATED and FORBIDDEN by role', async () => {
    const mutation = { query: 'mutation { indexVideo(input: { path: "/etc/passwd" }) { id } }' };
    expect(firstCode((await post(server.url, mutation, { authorization: 'Bearer e-key' })).body)).toBe('BAD_USER_INPUT');
    expect(firstCode((await post(server.url, mutation)).body)).toBe('UNAUTHENTICATED');
    expect(firstCode((await post(server.url, mutation, { authorization: 'Bearer s-key' })).body)).toBe('FORBIDDEN');
  });

  const clip = sharedData('derived/grid_montage.mp4');
  it.skipIf(!clip)('queues a real video once, then cancels its job and deletes it with everything derived', async () => {
    const editor = { authorization: 'Bearer e-key' };
    const index = { query: 'mutation($p: String!) { indexVideo(input: { path: $p, title: "Grid" }) { id status video { id title status durationSec } } }', variables: { p: clip } };
    const first = await post(server.url, index, editor);
    expect(first.body.errors).toBeUndefined();
    const job = first.body.data!.indexVideo as { id: string; status: string; video: { id: string; title: string; status: string; durationSec: number } };
    expect(job).toMatchObject({ status: 'QUEUED', video: { title: 'Grid', status: 'PENDING' } });
    expect(job.video.durationSec).toBeGreaterThan(0);
    const again = await post(server.url, index, editor);
    expect((again.body.data!.indexVideo as { id: string }).id).toBe(job.id);

    const deleted = await post(server.url, { query: 'mutation($id: ID!) { deleteVideo(id: $id) }', variables: { id: job.video.id } }, editor);
    expect(deleted.body).toEqual({ data: { deleteVideo: true } });
    const after = await post(server.url, { query: 'query($id: ID!, $job: ID!) { video(id: $id) { id } job(id: $job) { status } }', variables: { id: job.video.id, job: job.id } }, editor);
    expect(after.body.data).toEqual({ video: null, job: { status: 'CANCELLED' } });
  });
});
