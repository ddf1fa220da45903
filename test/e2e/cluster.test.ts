// `vidsearch serve --workers 2` as a real child process (`node dist/src/cli.js`; `npm test` builds
// dist first). Every request goes on a connection of its own, so the primary hands them to the
// workers in turn and each test reaches both. Workers share one embedded store and see each
// other's writes; admission shares add up to the configured limits (image searches: one limit in
// the image-search process) and one caller's rate limit holds across workers; image searches run in the one image-search process and keep their typed
// errors across processes, and that process is replaced too; a SIGKILLed worker is replaced and
// only requests it held fail; SIGTERM stops every process.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseSize } from '../../src/http/rate-limit.js';
import { repoRoot } from '../helpers/shared-data.js';

const CLI = path.join(repoRoot, 'dist/src/cli.js');
const RATE_BURST = 40;
const REQUEST_TIMEOUT_MS = 15_000;
// One key per test that counts answers: every key shares one burst across the run, so a test that
// spends a variable number of requests (the image-search replacement waits in a loop) must not
// leave another test's requests to the rate limiter (429s counted as failed requests).
const KEYS = { writes: 'w-key', rate: 'r-key', kill: 'k-key', killWorker: 'kw-key' };

interface Answer {
  status: number;
  body: string;
}

/** One request on a fresh connection (no keep-alive: the primary gives each connection to the next worker). */
function request(url: string, pathname: string, opts: { key?: string; body?: unknown } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = http.request(
      `${url}${pathname}`,
      {
        method: payload ? 'POST' : 'GET',
        agent: false,
        headers: { connection: 'close', 'content-type': 'application/json', ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // A connection the primary handed to a worker just as it died is neither answered nor reset.
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.end(payload);
  });
}

async function gql<T>(url: string, key: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const answer = await request(url, '/graphql', { key, body: { query, variables } });
  const body = JSON.parse(answer.body) as { data?: T; errors?: unknown[] };
  if (answer.status !== 200 || body.errors) throw new Error(`${answer.status} ${answer.body}`);
  return body.data!;
}

async function workerPid(url: string): Promise<number> {
  return (JSON.parse((await request(url, '/healthz')).body) as { worker: { pid: number } }).worker.pid;
}

/** Sum of a gauge over its label values in the aggregated /metrics, per `kind`. */
async function gaugeByKind(url: string, name: string): Promise<Record<string, number>> {
  const text = (await request(url, '/metrics')).body;
  return Object.fromEntries([...text.matchAll(new RegExp(`^${name}\\{kind="(\\w+)"\\} (\\d+)$`, 'gm'))].map((m) => [m[1]!, Number(m[2])]));
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The server's processes other than the HTTP workers (here: the image-search process). */
function otherChildren(serverPid: number, httpPids: ReadonlySet<number>): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(serverPid)], { encoding: 'utf8' });
  return out.split('\n').map(Number).filter((pid) => pid > 0 && !httpPids.has(pid));
}

async function replacedWorkers(url: string): Promise<number> {
  return (JSON.parse((await request(url, '/readyz')).body) as { workers: { replaced: number } }).workers.replaced;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('vidsearch serve --workers 2', () => {
  let root: string;
  let child: ChildProcess;
  let url: string;
  let exited: Promise<number | null>;
  const pids = new Set<number>();

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm test\` (it compiles first) or \`npx tsc -p tsconfig.json\``);
    root = await mkdtemp(path.join(tmpdir(), 'vidsearch-cluster-'));
    const env = {
      ...process.env,
      VIDSEARCH_DATA_DIR: path.join(root, 'data'),
      VIDSEARCH_API_KEYS: Object.values(KEYS).map((key) => `${key}:editor`).join(','),
      VIDSEARCH_HOST: '127.0.0.1',
      VIDSEARCH_LOG_LEVEL: 'warn',
      VIDSEARCH_RATE_PER_SEC: '0.01',
      VIDSEARCH_RATE_BURST: String(RATE_BURST),
      VIDSEARCH_MAX_QUERIES: '3',
      VIDSEARCH_QUERY_QUEUE: '5',
      VIDSEARCH_MAX_IMAGE_SEARCHES: '1',
      // Set, so serve keeps it (unset it would be production: e2e/serve-env.test.ts).
      NODE_ENV: 'test',
    };
    child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--workers', '2', '--no-worker'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (chunk: string) => {
        stderr += chunk;
        const match = /GraphQL at (http:\/\/\S+)\/graphql \(2 workers\)/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      void exited.then((code) => reject(new Error(`server exited (${code}) before serving:\n${stderr}`)));
    });
    for (let i = 0; i < 4; i += 1) pids.add(await workerPid(url));
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('hands connections to both workers, which share one store and see each other’s writes', async () => {
    expect(pids.size).toBe(2);
    const upsert = 'mutation($i: AdInput!) { upsertAd(input: $i) { id title } }';
    const read = 'query($id: ID!) { ad(id: $id) { title } }';
    // Consecutive connections alternate between the workers: each title is written by one and read by both.
    for (const title of ['first', 'second']) {
      await gql(url, KEYS.writes, upsert, { i: { id: 'shared_ad', title, advertiser: 'Brand', keywords: ['coffee'] } });
      const seen = await Promise.all([0, 1, 2, 3].map(() => gql<{ ad: { title: string } | null }>(url, KEYS.writes, read, { id: 'shared_ad' })));
      expect(seen.map((s) => s.ad?.title)).toEqual([title, title, title, title]);
    }
  });

  it.runIf(process.platform === 'linux')('keeps the NODE_ENV it was started with in its workers', () => {
    for (const pid of pids) expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).toContain('NODE_ENV=test');
  });

  it('splits admission limits so the workers’ shares add up to the configured ones', async () => {
    // Image searches are admitted once, by the image-search process: 1 slot, not one per worker.
    expect(await gaugeByKind(url, 'vidsearch_admission_slots')).toMatchObject({ standard: 3, textSearch: 2, imageSearch: 1 });
    expect(await gaugeByKind(url, 'vidsearch_admission_queue_limit')).toMatchObject({ standard: 5, imageSearch: 64 });
  });

  it('holds one caller’s rate limit across workers', async () => {
    const query = { query: '{ videos(first: 1) { totalCount } }' };
    // One at a time, so admission control (which also answers 429) never has a line.
    const answers: Answer[] = [];
    for (let i = 0; i < RATE_BURST + 10; i += 1) answers.push(await request(url, '/graphql', { key: KEYS.rate, body: query }));
    // Workers lease tokens from the primary's bucket a few at a time: never more than the burst
    // passes, and at most one lease may sit unspent on the other worker.
    const passed = answers.filter((a) => a.status === 200).length;
    expect(passed).toBeLessThanOrEqual(RATE_BURST);
    expect(passed).toBeGreaterThanOrEqual(RATE_BURST - leaseSize(RATE_BURST, 2));
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(RATE_BURST + 10 - passed);
    expect(refused.every((a) => a.body.includes('rate limit exceeded'))).toBe(true);
  });

  it('answers image searches in one image-search process, typed errors intact, and replaces it when it dies', async () => {
    const httpPids = new Set(pids);
    const [images, ...more] = otherChildren(child.pid!, httpPids);
    expect(more).toEqual([]);
    pids.add(images!);
    const badPicture = async (): Promise<unknown[]> => {
      const answer = await request(url, '/graphql', { key: KEYS.kill, body: { query: 'query($b: String!) { searchByImage(imageBase64: $b) { at } }', variables: { b: 'bm90IGFuIGltYWdl' } } });
      return (JSON.parse(answer.body) as { errors: { extensions: { code: string } }[] }).errors.map((e) => e.extensions.code);
    };
    // Both workers pass the picture on (the image-search process admits them one at a time, the
    // rest wait in its line); the image-search process refuses it as BAD_USER_INPUT.
    expect(await Promise.all([0, 1, 2, 3].map(badPicture))).toEqual(Array(4).fill(['BAD_USER_INPUT']));
    const replacedBefore = await replacedWorkers(url);
    process.kill(images!, 'SIGKILL');
    await until(async () => (await replacedWorkers(url)) === replacedBefore + 1, 'the image-search process to be started again');
    // The next search waits for the new process rather than failing.
    expect(await badPicture()).toEqual(['BAD_USER_INPUT']);
    const [replacement] = otherChildren(child.pid!, httpPids);
    // It answered, so it has loaded its CNN and matrices, and readiness says so.
    expect((JSON.parse((await request(url, '/readyz')).body) as { workers: { imageSearch: string } }).workers.imageSearch).toBe('ready');
    expect(replacement).toBeGreaterThan(0);
    expect(replacement).not.toBe(images);
    pids.add(replacement!);
  }, 180_000);

  it('replaces a killed worker; only requests it held fail', async () => {
    const victim = [...pids][0]!;
    const replacedBefore = await replacedWorkers(url);
    const query = { query: '{ videos(first: 1) { totalCount } }' };
    const loops = 3;
    const perLoop = 8;
    let failed = 0;
    let answered = 0;
    const run = async (loop: number): Promise<void> => {
      for (let i = 0; i < perLoop; i += 1) {
        if (loop === 0 && i === 2) process.kill(victim, 'SIGKILL');
        try {
          const answer = await request(url, '/graphql', { key: KEYS.killWorker, body: query });
          if (answer.status === 200) answered += 1;
          else failed += 1;
        } catch {
          failed += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: loops }, (_, loop) => run(loop)));
    // Each loop has one request in flight at a time: at most that one was held by the killed
    // worker (answered by a reset, or, when the primary was handing it over, by no answer).
    expect(failed).toBeLessThanOrEqual(loops);
    expect(answered + failed).toBe(loops * perLoop);
    await until(async () => {
      const ready = JSON.parse((await request(url, '/readyz')).body) as { workers: { serving: number; replaced: number } };
      return ready.workers.serving === 2 && ready.workers.replaced === replacedBefore + 1;
    }, 'the replacement worker');
    const now = new Set<number>();
    for (let i = 0; i < 4; i += 1) now.add(await workerPid(url));
    expect(now.size).toBe(2);
    expect(now.has(victim)).toBe(false);
    for (const pid of now) pids.add(pid);
    // A worker starts in seconds, but up to a minute on a machine shared with CPU-heavy jobs.
  }, 180_000);

  it('stops every worker on SIGTERM', async () => {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await until(async () => [...pids].every((pid) => !alive(pid)), 'every worker to exit', 30_000);
  });
});
