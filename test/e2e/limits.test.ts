// What one caller may ask of the server, over real HTTP, the embedded store and the real
// services: query depth and complexity (QUERY_TOO_COMPLEX, saying which), page sizes of every
// operation that takes `first` (BAD_USER_INPUT), body and upload sizes (PAYLOAD_TOO_LARGE), CSRF
// prevention, per-key rate limits (429 RATE_LIMITED + retryAfter + Retry-After), and the
// operational routes (/healthz, /readyz, /metrics).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getIntrospectionQuery } from 'graphql';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { TokenBuckets } from '../../src/http/rate-limit.js';
import { resolveMediaTools } from '../../src/media/tools.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createServices } from '../../src/services/index.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { operationText, schemaOperations } from './auth-matrix-operations.js';

const log = pino({ level: 'silent' });
const EDITOR = { authorization: 'Bearer e-key' };

interface GraphqlBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string; retryAfter?: number; limit?: string } }[];
}

async function post(url: string, body: unknown, headers: Record<string, string> = EDITOR): Promise<{ status: number; headers: Headers; body: GraphqlBody }> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GraphqlBody };
}

interface Served {
  root: string;
  store: Store;
  server: RunningServer;
  close(): Promise<void>;
}

async function serve(env: Record<string, string>): Promise<Served> {
  const root = await mkdtemp(path.join(tmpdir(), 'vidsearch-limits-'));
  const config = loadConfig({ VIDSEARCH_DATA_DIR: path.join(root, 'data'), VIDSEARCH_API_KEYS: 's-key:search,e-key:editor', ...env }, root);
  const store = await openEmbeddedStore(config.dataDir);
  const server = await startServer({ config, store, services: createServices({ store, media: resolveMediaTools(config), config, log }), log }, { port: 0, host: '127.0.0.1' });
  return {
    root,
    store,
    server,
    async close() {
      await server.close();
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

describe('query, page and payload limits', () => {
  let served: Served;
  let url: string;

  beforeAll(async () => {
    served = await serve({ VIDSEARCH_RATE_PER_SEC: '1000', VIDSEARCH_RATE_BURST: '1000', VIDSEARCH_MAX_QUERY_DEPTH: '8', VIDSEARCH_MAX_QUERY_COMPLEXITY: '5000' });
    url = served.server.url;
  });
  afterAll(() => served?.close());

  it('QUERY_TOO_COMPLEX (depth) for selections nested past the limit, before anything runs', async () => {
    const deep = '{ videos { edges { node { segments { edges { node { video { segments { edges { node { id } } } } } } } } } } }';
    const res = await post(url, { query: deep });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'depth' });
    expect(res.body.errors?.[0]?.message).toMatch(/depth limit exceeded.*at most 8/);
    // The same shape one level shallower passes.
    const ok = await post(url, { query: '{ videos { edges { node { segments { edges { node { video { id } } } } } } } }' });
    expect(ok.body.errors).toBeUndefined();
  });

  it('QUERY_TOO_COMPLEX (complexity) for large pages of large pages, page sizes read from variables too', async () => {
    const query = 'query($n: Int) { videos(first: $n) { edges { node { segments(first: $n) { edges { node { id start end cues { text } } } } } } } }';
    const big = await post(url, { query, variables: { n: 100 } });
    expect(big.status).toBe(400);
    expect(big.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'complexity' });
    expect(big.body.errors?.[0]?.message).toMatch(/complexity limit exceeded: estimated cost \d+ is over the maximum of 5000/);
    const small = await post(url, { query, variables: { n: 5 } });
    expect(small.body.errors).toBeUndefined();
    expect(small.body.data).toEqual({ videos: { edges: [] } });
  });

  it('lets the standard introspection query through (tools need the schema)', async () => {
    const res = await post(url, { query: getIntrospectionQuery() });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toHaveProperty('__schema');
  });

  it('BAD_USER_INPUT for a page size over the maximum, on every operation that takes `first`', async () => {
    // Operations that look their subject up first need it to exist (made-up ids are "probe").
    const now = new Date().toISOString();
    await served.store.actors.createActor({ id: 'probe', name: 'Probe', aliases: [], createdAt: now, updatedAt: now }, []);
    const paged = schemaOperations().filter((op) => op.field.args.some((a) => a.name === 'first'));
    expect(paged.map((op) => op.name)).toEqual(expect.arrayContaining(['videos', 'searchSegments', 'jobs', 'actors']));
    const tinyPng = (await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toBuffer()).toString('base64');
    const answers: Record<string, string> = {};
    for (const op of paged) {
      const extra: Record<string, string> = { first: '1000' };
      // searchByImage must get past "which image?" to reach its page size.
      if (op.field.args.some((a) => a.name === 'imageBase64')) extra.imageBase64 = JSON.stringify(tinyPng);
      const res = await post(url, { query: operationText(op.kind, op.field, extra) });
      const error = res.body.errors?.[0];
      answers[op.name] = error ? `${error.extensions?.code}: ${/first|page size/i.test(error.message) ? 'names first' : error.message}` : 'accepted';
    }
    expect(answers).toEqual(Object.fromEntries(paged.map((op) => [op.name, 'BAD_USER_INPUT: names first'])));
  });

  it('PAYLOAD_TOO_LARGE for a JSON body over 8 MB and an upload over 20 MB', async () => {
    const body = await post(url, { query: '{ videos { totalCount } }', variables: { pad: 'x'.repeat(9 * 1024 * 1024) } });
    expect(body.status).toBe(413);
    expect(body.body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');

    const form = new FormData();
    form.set('operations', JSON.stringify({ query: 'mutation($f: Upload!) { enrollActor(input: { name: "Big", images: [$f] }) { id } }', variables: { f: null } }));
    form.set('map', JSON.stringify({ 0: ['variables.f'] }));
    form.set('0', new Blob([Buffer.alloc(21 * 1024 * 1024, 1)]), 'big.jpg');
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'apollo-require-preflight': '1', ...EDITOR }, body: form });
    const upload = (await res.json()) as GraphqlBody;
    expect(upload.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(upload.data ?? null).toBeNull();
  });

  it('CSRF prevention: refuses simple cross-site requests, accepts JSON and preflighted GETs', async () => {
    const form = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...EDITOR }, body: 'query=%7B%20videos%20%7B%20totalCount%20%7D%20%7D' });
    expect(form.status).toBe(400);
    expect(await form.text()).toMatch(/Cross-Site Request Forgery/i);
    const query = encodeURIComponent('{ videos { totalCount } }');
    const simpleGet = await fetch(`${url}/graphql?query=${query}`, { headers: EDITOR });
    expect(simpleGet.status).toBe(400);
    const preflighted = await fetch(`${url}/graphql?query=${query}`, { headers: { ...EDITOR, 'apollo-require-preflight': '1' } });
    expect(preflighted.status).toBe(200);
    expect(await preflighted.json()).toEqual({ data: { videos: { totalCount: 0 } } });
  });

  it('/healthz, /readyz and Prometheus /metrics without a key', async () => {
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', jobs: { QUEUED: 0 } });
    await post(url, { query: '{ searchSegments(query: "hello") { totalCount } }' });
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await metrics.text();
    expect(text).toMatch(/^vidsearch_graphql_request_duration_seconds_count\{field="searchSegments",outcome="ok"\} [1-9]/m);
    expect(text).toMatch(/^vidsearch_graphql_rejected_total\{limit="depth"\} [1-9]/m);
    expect(text).toMatch(/^vidsearch_graphql_rejected_total\{limit="complexity"\} [1-9]/m);
    expect(text).toMatch(/^vidsearch_jobs\{status="QUEUED"\} 0$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    expect(text).toContain('# TYPE vidsearch_index_stage_duration_seconds histogram');
  });
});

describe('per-key rate limits', () => {
  let served: Served;
  let url: string;

  beforeAll(async () => {
    served = await serve({ VIDSEARCH_RATE_PER_SEC: '1', VIDSEARCH_RATE_BURST: '3' });
    url = served.server.url;
  });
  afterAll(() => served?.close());

  it('429 RATE_LIMITED with retryAfter and Retry-After once a key spends its burst; other keys are unaffected', async () => {
    const query = { query: '{ videos { totalCount } }' };
    const search = { authorization: 'Bearer s-key' };
    for (let i = 0; i < 3; i += 1) expect((await post(url, query, search)).status).toBe(200);
    const limited = await post(url, query, search);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.body).toEqual({ errors: [{ message: 'rate limit exceeded: retry in 1 s', extensions: { code: 'RATE_LIMITED', retryAfter: 1 } }] });
    // The editor's bucket is its own.
    expect((await post(url, query, EDITOR)).status).toBe(200);
    // Waiting the advertised time is enough.
    await new Promise((resolve) => setTimeout(resolve, 1050));
    expect((await post(url, query, search)).status).toBe(200);
  });

  it('callers without a valid key share their address’s bucket (key guessing is throttled too)', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i += 1) codes.push((await post(url, { query: '{ videos { totalCount } }' }, { authorization: `Bearer guess-${i}` })).status);
    // Three guesses get their UNAUTHENTICATED answer (HTTP 200), the rest are throttled.
    expect(codes).toEqual([200, 200, 200, 429, 429]);
  });
});

describe('TokenBuckets', () => {
  it('refills at the configured rate up to the burst and says how long to wait', () => {
    let now = 0;
    const buckets = new TokenBuckets(2, 2, () => now);
    expect([buckets.take('a'), buckets.take('a')]).toEqual([0, 0]);
    expect(buckets.take('a')).toBeCloseTo(0.5);
    now = 250; // half a token back
    expect(buckets.take('a')).toBeCloseTo(0.25);
    now = 10_000; // long idle: full again, but never more than the burst
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a') > 0]).toEqual([0, 0, true]);
    expect(buckets.take('b')).toBe(0);
  });
});
