// Admission control over real HTTP: image searches that never finish (a fake service held open by
// the test) fill their one slot and their line; the next is refused 429 RATE_LIMITED with
// retryAfter and Retry-After, a waiting one is refused at its deadline, /metrics shows the queue
// depth, and searchSegments keeps answering while the image searches are stuck.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { ImageMatch, ImageSearchService } from '../../src/services/image-search/index.js';
import type { Services } from '../../src/services/index.js';
import { createCoreServices } from '../helpers/core-services.js';
import { createFakeStore, seedVideo } from '../helpers/fake-store.js';

const log = pino({ level: 'silent' });
const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer s-key' };
const IMAGE_QUERY = { query: '{ searchByImage(imageBase64: "aGVsbG8=", first: 1) { at } }' };
const TEXT_QUERY = { query: '{ searchSegments(query: "hello") { totalCount } }' };
const WAIT_SEC = 1.5;

interface GraphqlBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string; retryAfter?: number; kind?: string } }[];
}

interface Answer {
  status: number;
  retryAfterHeader: string | null;
  body: GraphqlBody;
}

async function post(url: string, body: unknown): Promise<Answer> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: HEADERS, body: JSON.stringify(body) });
  return { status: res.status, retryAfterHeader: res.headers.get('retry-after'), body: (await res.json()) as GraphqlBody };
}

async function metric(url: string, line: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : null;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('admission control over HTTP', () => {
  let root: string;
  let server: RunningServer;
  let url: string;
  /** Image searches the fake has started and not finished; each ends when the test calls it. */
  const stuck: (() => void)[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'vidsearch-admission-'));
    const config = loadConfig(
      {
        VIDSEARCH_DATA_DIR: path.join(root, 'data'),
        VIDSEARCH_API_KEYS: 's-key:search',
        VIDSEARCH_MAX_IMAGE_SEARCHES: '1',
        VIDSEARCH_ADMISSION_QUEUE: '1',
        VIDSEARCH_ADMISSION_WAIT_SEC: String(WAIT_SEC),
        VIDSEARCH_RATE_PER_SEC: '1000',
        VIDSEARCH_RATE_BURST: '1000',
      },
      root,
    );
    const store = createFakeStore();
    await seedVideo(store, { video: { path: path.join(root, 'clip.mp4'), title: 'Clip' }, segmentCount: 3, cueText: () => 'hello there' });
    const core = createCoreServices({
      store,
      config,
      log,
      inspector: { probe: async () => Promise.reject(new Error('not used')), contentHash: async () => 'f'.repeat(64) },
      extractFrame: async () => Buffer.alloc(0),
    });
    const imageSearch: ImageSearchService = {
      searchByImage: () => new Promise<ImageMatch[]>((resolve) => stuck.push(() => resolve([]))),
      matchFrame: async () => null,
    };
    const services: Services = { ...core, imageSearch };
    server = await startServer({ config, store, services, log }, { port: 0, host: '127.0.0.1' });
    url = server.url;
  });

  afterAll(async () => {
    for (const finish of stuck) finish();
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('queues, refuses and times out image searches while searchSegments keeps answering', async () => {
    const running = post(url, IMAGE_QUERY);
    await until(async () => stuck.length === 1, 'the first image search to start');
    const waitingSince = Date.now();
    const waiting = post(url, IMAGE_QUERY);
    await until(async () => (await metric(url, 'vidsearch_admission_waiting{kind="imageSearch"}')) === 1, 'the second image search to queue');
    expect(await metric(url, 'vidsearch_admission_active{kind="imageSearch"}')).toBe(1);

    // The line is full: refused at once, saying when to come back.
    const refused = await post(url, IMAGE_QUERY);
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', kind: 'imageSearch' });
    expect(refused.body.errors?.[0]?.message).toMatch(/server is busy/);
    const retryAfter = refused.body.errors?.[0]?.extensions?.retryAfter;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfterHeader).toBe(String(retryAfter));

    // Cheap queries take no slot: they answer while both image searches are still held.
    for (let i = 0; i < 5; i++) {
      const text = await post(url, TEXT_QUERY);
      expect(text.body).toEqual({ data: { searchSegments: { totalCount: 3 } } });
    }
    expect(stuck.length).toBe(1);

    // The waiting one gives up at its deadline, never having started.
    const timedOut = await waiting;
    expect(Date.now() - waitingSince).toBeGreaterThanOrEqual(WAIT_SEC * 1000 - 50);
    expect(timedOut.status).toBe(429);
    expect(timedOut.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(stuck.length).toBe(1);
    expect(await metric(url, 'vidsearch_admission_refused_total{kind="imageSearch",reason="wait-timeout"}')).toBe(1);
    expect(await metric(url, 'vidsearch_admission_refused_total{kind="imageSearch",reason="queue-full"}')).toBe(1);

    // Finishing the running search frees the slot for the next caller.
    stuck[0]!();
    expect((await running).body).toEqual({ data: { searchByImage: [] } });
    const next = post(url, IMAGE_QUERY);
    await until(async () => stuck.length === 2, 'the next image search to start');
    stuck[1]!();
    expect((await next).status).toBe(200);
    expect(await metric(url, 'vidsearch_admission_active{kind="imageSearch"}')).toBe(0);
    expect(await metric(url, 'vidsearch_admission_waiting{kind="imageSearch"}')).toBe(0);
  });
});
