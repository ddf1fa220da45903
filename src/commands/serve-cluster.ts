// `vidsearch serve --workers N` with N > 1: a primary process (node:cluster) that serves nothing
// itself and starts N HTTP workers sharing the port (connections handed out round-robin), one
// image-search process, and, unless --no-worker, one process running indexing jobs, so the single
// SQLite writer never holds a serving event loop. Each process opens its own store connections
// (the embedded store is SQLite in WAL mode: many readers, one writer; remote backends work
// unchanged). Image search (frame matrix, CNN, ORB threads: ~600 MB at 100k frames) lives once,
// in its own process, which the HTTP workers call through the primary: N workers do not hold N
// copies, and its CPU-heavy work never runs on a serving event loop.
// The primary holds what must be shared: the per-caller rate-limit buckets, /metrics summed over
// every worker (prom-client's AggregatorRegistry), the count of serving workers for /readyz. It
// starts a worker again when one dies (same index, so admission shares still add up), and on
// SIGINT/SIGTERM stops every worker gracefully (each drains its requests) before it exits.
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config.js';
import { AppError, SetupError } from '../errors.js';
import { answerWorkerCalls, callWorker } from '../http/cluster-ipc.js';
import { PRIMARY_METHODS, type ClusterStatus, type LeaseRequest } from '../http/cluster-member.js';
import { TokenBuckets } from '../http/rate-limit.js';
import type { Logger } from '../logger.js';
import { IMAGE_SEARCH_METHODS } from '../services/image-search/remote.js';
import {
  IMAGE_CALL_TIMEOUT_MS,
  imageCallTimeoutMs,
  INDEX_ENV,
  isImagesReady,
  isListening,
  MIGRATE_ROLE,
  ROLE_ENV,
  SIZE_ENV,
  type ClusterServeOptions,
} from './cluster-protocol.js';
import { onShutdown } from './shutdown.js';

/** A worker that is still running this long after SIGTERM (a request that never ends) is killed. */
const STOP_GRACE_MS = 30_000;
/** A worker that dies sooner than this after starting is started again only after RESTART_DELAY_MS (no crash loop at full speed). */
const QUICK_DEATH_MS = 5_000;
const RESTART_DELAY_MS = 1_000;
type Role = { kind: 'http'; index: number } | { kind: 'jobs' } | { kind: 'images' };

/** Runs this process's part: the primary, or the worker the primary forked it as. */
export async function serveCluster(config: Config, log: Logger, opts: ClusterServeOptions): Promise<void> {
  if (cluster.isPrimary) return runPrimary(config, log, opts);
  const { runClusterRole } = await import('./cluster-roles.js');
  return runClusterRole(config, log, opts);
}

/**
 * Opens the store once in a short-lived process of its own, so schema migrations run before any
 * worker opens it (workers starting together would race to migrate a new database) without the
 * primary loading the store's modules, ~60 MB it would hold for as long as the server runs. A
 * store that does not open fails the server with that process's one-line reason.
 */
async function migrateStore(): Promise<void> {
  cluster.setupPrimary({ silent: true });
  const child = cluster.fork({ [ROLE_ENV]: MIGRATE_ROLE });
  cluster.setupPrimary({ silent: false });
  let stderr = '';
  child.process.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code === 0) return;
  const reason = stderr.trim().split('\n').at(-1)?.replace(/^vidsearch: /, '');
  throw new SetupError(reason || `the store did not open (${signal ?? code})`);
}

/**
 * Fails with the listen error (EADDRINUSE, EACCES) in the primary, before any worker starts: a
 * worker's own failure would reach the user as several processes' lines instead of one.
 */
async function assertPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(port, host, resolve);
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

async function runPrimary(config: Config, log: Logger, opts: ClusterServeOptions): Promise<void> {
  const size = config.workers;
  const roles = new Map<Worker, { role: Role; startedMs: number }>();
  const serving = new Set<Worker>();
  let replaced = 0;
  let stopping = false;
  let started = false;

  const buckets = new TokenBuckets(config.limits.ratePerSec, config.limits.rateBurst);
  const aggregator = new AggregatorRegistry();
  const images = imageProcessSlot();
  answerWorkerCalls({
    [PRIMARY_METHODS.leaseTokens]: (args) => {
      const { key, want } = args as LeaseRequest;
      return buckets.lease(String(key), Number(want));
    },
    [PRIMARY_METHODS.metrics]: () => aggregator.clusterMetrics(),
    [PRIMARY_METHODS.status]: (): ClusterStatus => ({ serving: serving.size, configured: size, replaced, imageSearch: images.isReady() ? 'ready' : 'loading' }),
    [IMAGE_SEARCH_METHODS.search]: async (args) => callWorker(await images.ready(IMAGE_CALL_TIMEOUT_MS), IMAGE_SEARCH_METHODS.search, args, imageCallTimeoutMs(config)),
  });

  const fork = (role: Role): void => {
    const env = role.kind === 'http' ? { [ROLE_ENV]: 'http', [INDEX_ENV]: String(role.index), [SIZE_ENV]: String(size) } : { [ROLE_ENV]: role.kind };
    roles.set(cluster.fork(env), { role, startedMs: Date.now() });
  };

  let firstUrl: (url: string) => void = () => {};
  let startFailed: (err: Error) => void = () => {};
  const url = new Promise<string>((resolve, reject) => {
    firstUrl = resolve;
    startFailed = reject;
  });
  cluster.on('message', (worker, message: unknown) => {
    if (isImagesReady(message)) images.set(worker);
    if (!isListening(message)) return;
    serving.add(worker);
    if (serving.size === size) firstUrl(message.vidsearchListening);
  });
  cluster.on('exit', (worker, code, signal) => {
    serving.delete(worker);
    images.gone(worker);
    const entry = roles.get(worker);
    roles.delete(worker);
    if (stopping || !entry) return;
    if (!started) {
      // A worker that cannot start (a port in use, a store that does not open) fails the server.
      startFailed(new AppError('INTERNAL_SERVER_ERROR', `a serve worker exited (${signal ?? code}) before the server was up`));
      return;
    }
    replaced += 1;
    log.warn({ pid: worker.process.pid, code, signal, role: entry.role }, 'worker died: starting another');
    const quick = Date.now() - entry.startedMs < QUICK_DEATH_MS;
    setTimeout(() => !stopping && fork(entry.role), quick ? RESTART_DELAY_MS : 0);
  });

  // The image-search process stops last: the HTTP workers' draining requests may still call it.
  const stopAll = async (): Promise<void> => {
    stopping = true;
    const imageProcesses = [...roles].filter(([, entry]) => entry.role.kind === 'images').map(([worker]) => worker);
    await Promise.all([...roles.keys()].filter((worker) => !imageProcesses.includes(worker)).map((worker) => stopWorker(worker)));
    await Promise.all(imageProcesses.map((worker) => stopWorker(worker)));
  };

  await migrateStore();
  await assertPortFree(opts.port ?? config.port, config.host);
  fork({ kind: 'images' });
  for (let index = 0; index < size; index += 1) fork({ kind: 'http', index });
  if (opts.worker) fork({ kind: 'jobs' });
  let serverUrl: string;
  try {
    serverUrl = await url;
  } catch (err) {
    await stopAll();
    throw err;
  }
  started = true;
  opts.onServing?.();
  log.info({ url: serverUrl, workers: size, indexing: opts.worker }, 'vidsearch is serving GraphQL');
  process.stderr.write(`vidsearch: GraphQL at ${serverUrl}/graphql (${size} workers)\n`);
  await onShutdown(log, stopAll);
}

/**
 * The image-search process callers should use: the one that said it is ready, or (while it is
 * being started again) the next one, waited for up to a time limit.
 */
function imageProcessSlot() {
  let current: Worker | null = null;
  let waiters: ((worker: Worker) => void)[] = [];
  return {
    set(worker: Worker): void {
      current = worker;
      for (const wake of waiters) wake(worker);
      waiters = [];
    },
    gone(worker: Worker): void {
      if (current === worker) current = null;
    },
    isReady(): boolean {
      return current !== null;
    },
    ready(timeoutMs: number): Promise<Worker> {
      if (current) return Promise.resolve(current);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((wake) => wake !== done);
          reject(new AppError('INTERNAL_SERVER_ERROR', `no image-search process answered within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        const done = (worker: Worker): void => {
          clearTimeout(timer);
          resolve(worker);
        };
        waiters.push(done);
      });
    },
  };
}

/** SIGTERM (the worker drains its requests and closes its store), SIGKILL after STOP_GRACE_MS. */
function stopWorker(worker: Worker): Promise<void> {
  if (worker.isDead()) return Promise.resolve();
  return new Promise((resolve) => {
    const forced = setTimeout(() => worker.process.kill('SIGKILL'), STOP_GRACE_MS);
    worker.once('exit', () => {
      clearTimeout(forced);
      resolve();
    });
    worker.process.kill('SIGTERM');
  });
}
