// Admission control over real HTTP: image searches that never finish (a fake service held open by
// the test) fill their one slot and their line; the next is refused 429 RATE_LIMITED with
// retryAfter and Retry-After, a waiting one is refused at its deadline, /metrics shows the queue
// depth, and searchSegments keeps answering while the image searches are stuck. As a worker of
// `serve --workers N`, the server takes no image-search slot itself: the image-search process
// admits (one line for every worker) and its refusal still answers 429 with Retry-After.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { AppError } from '../../src/errors.js';
import { TokenBuckets } from '../../src/http/rate-limit.js';
import { metricsRegistry } from '../../src/observability/metrics.js';
import { watchAdmission } from '../../src/http/admission.js';
import { ADMITTED_BY_IMAGE_PROCESS, admittedImageSearch, asServerBusy, imageProcessAdmission } from '../../src/http/image-admission.js';
import type { ImageMatch, ImageSearchService } from '../../src/services/image-search/index.js';
import { imageSearchHandlers, remoteImageSearch } from '../../src/services/image-search/remote.js';
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

/** The services besides image search, over a fake store; media is never touched. */
function coreServices(store: ReturnType<typeof createFakeStore>, config: ReturnType<typeof loadConfig>) {
  return createCoreServices({
    store,
    config,
    log,
    inspector: { probe: async () => Promise.reject(new Error('not used')), contentHash: async () => 'f'.repeat(64) },
    extractFrame: async () => Buffer.alloc(0),
  });
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
    const core = coreServices(store, config);
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

describe('image searches admitted by the image-search process, as in serve --workers N', () => {
  let root: string;
  /** Two HTTP workers calling one image-search process. */
  const workers: RunningServer[] = [];
  const stuck: (() => void)[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'vidsearch-admission-cluster-'));
    const config = loadConfig(
      { VIDSEARCH_DATA_DIR: path.join(root, 'data'), VIDSEARCH_API_KEYS: 's-key:search', VIDSEARCH_MAX_IMAGE_SEARCHES: '1', VIDSEARCH_ADMISSION_QUEUE: '0' },
      root,
    );
    const store = createFakeStore();
    const core = coreServices(store, config);
    // The image-search process's side, reached as cluster-ipc would (an AppError's code and extensions cross).
    const held: ImageSearchService = { searchByImage: () => new Promise<ImageMatch[]>((resolve) => stuck.push(() => resolve([]))), matchFrame: async () => null };
    const images = imageProcessAdmission(config.admission);
    watchAdmission(images);
    const handlers = imageSearchHandlers(admittedImageSearch(held, images));
    const imageSearch = remoteImageSearch(async (method, args) => {
      try {
        return await handlers[method]!(args);
      } catch (err) {
        throw asServerBusy(err instanceof AppError ? new AppError(err.code, err.message, JSON.parse(JSON.stringify(err.extensions))) : err);
      }
    });
    for (const index of [0, 1]) {
      const cluster = {
        share: { index, size: 2 },
        admittedElsewhere: ADMITTED_BY_IMAGE_PROCESS,
        buckets: new TokenBuckets(1000, 1000),
        // Both workers and the image-search side share this process's registry here.
        metrics: () => metricsRegistry.metrics(),
        status: async () => ({ serving: 2, configured: 2, replaced: 0, imageSearch: 'ready' as const }),
      };
      workers.push(await startServer({ config, store, services: { ...core, imageSearch: { ...imageSearch, matchFrame: async () => null } }, log }, { port: 0, host: '127.0.0.1', cluster }));
    }
  });

  afterAll(async () => {
    for (const finish of stuck) finish();
    for (const worker of workers) await worker.close();
    await rm(root, { recursive: true, force: true });
  });

  it('holds one slot across both workers and refuses past it with 429 RATE_LIMITED and Retry-After', async () => {
    // The workers keep no image-search slots of their own: the server-wide limit is the image-search process's one.
    expect(await metric(workers[0]!.url, 'vidsearch_admission_slots{kind="imageSearch"}')).toBe(1);
    const running = post(workers[0]!.url, IMAGE_QUERY);
    await until(async () => stuck.length === 1, 'the first image search to start');
    // Per-worker parts would have given the second worker a slot of its own (a second search running).
    const refused = await post(workers[1]!.url, IMAGE_QUERY);
    expect(stuck).toHaveLength(1);
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', kind: 'imageSearch' });
    expect(refused.body.errors?.[0]?.extensions).not.toHaveProperty('http');
    expect(refused.retryAfterHeader).toBe(String(refused.body.errors?.[0]?.extensions?.retryAfter));
    stuck[0]!();
    expect((await running).body).toEqual({ data: { searchByImage: [] } });
  });
});
