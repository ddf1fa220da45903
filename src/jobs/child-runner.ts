// Runs the job queue's indexing jobs in a child process that exits once the queue is empty, so a
// server that indexed a video idles at its serving footprint. The models the pipeline loads (faces,
// OCR, CenterNet, voice, MobileNet) stay resident in the process that ran them: CenterNet's tfjs
// WASM heap can grow but never shrink, and a server that ran one job in-process was measured at
// 831 MB RSS a minute after the job against 181 MB before it. The child takes them with it.
//
// The parent keeps what a server life is responsible for: stale jobs of a dead worker are
// re-queued at start, /metrics shows the stages the children ran (their indexing metrics are
// forwarded), a graceful stop hands running jobs back to the queue. A child whose parent is
// killed exits at once (like an in-process worker killed with its server): its jobs' heartbeats go
// stale and the next server life resumes them. A child that dies on its own fails the jobs it was
// running, with the reason, instead of retrying a job that may kill every child it meets.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config.js';
import type { JobRecord } from '../domain.js';
import { errorMessage } from '../errors.js';
import { forwardMetrics, type MetricsSnapshot } from '../observability/metrics.js';
import type { JobRunnerDeps } from './runner.js';

/** What the parent sends: the work (once, first), a metrics request, or the order to stop. */
export type ToIndexingChild =
  | { kind: 'run'; config: Config; logLevel: string }
  | { kind: 'metrics'; id: number }
  | { kind: 'stop' };

/** What the child sends: a job's state after each progress report, metrics, its last metrics before it exits. */
export type FromIndexingChild =
  | { kind: 'job'; job: JobRecord }
  | { kind: 'metrics'; id: number; metrics: MetricsSnapshot }
  | { kind: 'drained'; metrics: MetricsSnapshot };

/** A child still running this long after being told to stop (a stage that ignores its abort) is killed. */
const STOP_GRACE_MS = 30_000;
/** A metrics scrape waits this long for the child, then reports its last answer. */
const METRICS_WAIT_MS = 2_000;

export type ChildJobRunnerDeps = Pick<JobRunnerDeps, 'store' | 'config' | 'log'>;

const sum = async (snapshots: MetricsSnapshot[]): Promise<MetricsSnapshot> =>
  (await AggregatorRegistry.aggregate(snapshots).getMetricsAsJSON()) as MetricsSnapshot;

/** One forked child: its running jobs and its last metrics, as it reported them. */
class IndexingChild {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Jobs the child last reported RUNNING. */
  readonly running = new Map<string, JobRecord>();
  lastMetrics: MetricsSnapshot = [];
  private readonly process: ChildProcess;
  private readonly metricWaiters = new Map<number, (metrics: MetricsSnapshot) => void>();
  private nextRequest = 0;

  constructor(script: string, task: Extract<ToIndexingChild, { kind: 'run' }>) {
    // 'advanced' serialisation: the config holds a Map (API keys), which JSON would drop.
    this.process = fork(script, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.exited = new Promise((resolve) => {
      this.process.once('exit', (code, signal) => resolve({ code, signal }));
      // A child that could not be started (e.g. out of memory) never exits: it counts as one that failed.
      this.process.once('error', () => resolve({ code: this.process.exitCode ?? 1, signal: this.process.signalCode }));
    });
    // Scrapes waiting for a child that exits get its last metrics.
    void this.exited.then(() => [...this.metricWaiters.keys()].forEach((id) => this.answer(id, this.lastMetrics)));
    this.process.on('message', (message: FromIndexingChild) => this.receive(message));
    // A failed send (the child died at once) shows as its exit.
    this.send(task);
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** The child's indexing metrics now, or its last ones when it does not answer in time. */
  metrics(): Promise<MetricsSnapshot> {
    const id = (this.nextRequest += 1);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.answer(id, this.lastMetrics), METRICS_WAIT_MS);
      this.metricWaiters.set(id, (metrics) => {
        clearTimeout(timer);
        resolve(metrics);
      });
      this.send({ kind: 'metrics', id });
    });
  }

  /** Asks the child to hand its jobs back and exit; kills it after STOP_GRACE_MS. */
  async stop(): Promise<void> {
    const forced = setTimeout(() => this.process.kill('SIGKILL'), STOP_GRACE_MS);
    this.send({ kind: 'stop' });
    await this.exited;
    clearTimeout(forced);
  }

  private send(message: ToIndexingChild): void {
    if (this.process.connected) this.process.send(message, () => undefined);
  }

  private answer(id: number, metrics: MetricsSnapshot): void {
    const waiter = this.metricWaiters.get(id);
    this.metricWaiters.delete(id);
    waiter?.(metrics);
  }

  private receive(message: FromIndexingChild): void {
    if (message.kind === 'job') {
      if (message.job.status === 'RUNNING') this.running.set(message.job.id, message.job);
      else this.running.delete(message.job.id);
      return;
    }
    this.lastMetrics = message.metrics;
    if (message.kind === 'metrics') this.answer(message.id, message.metrics);
  }
}

export class ChildProcessJobRunner {
  private child: IndexingChild | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  /** Indexing metrics of the children that exited (summed into one after each exit). */
  private finishedMetrics: MetricsSnapshot[] = [];
  private unforward: () => void = () => undefined;
  /** Settles once the current child (if any) has exited and its jobs are accounted for. */
  private childLife: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: ChildJobRunnerDeps,
    /** The compiled child entry (tests under vitest run TypeScript sources and name dist's). */
    private readonly script = fileURLToPath(new URL('./child-runner-main.js', import.meta.url)),
  ) {}

  /** Re-queues jobs of a worker that died, then starts a child whenever jobs are queued and none runs. */
  async start(pollMs = 500): Promise<void> {
    if (!existsSync(this.script)) throw new Error(`${this.script} is missing: build with \`npm run build\``);
    const { store, config, log } = this.deps;
    const requeued = await store.jobs.requeueStale(config.indexing.staleJobMs);
    if (requeued > 0) log.info({ requeued }, 're-queued jobs of a worker that stopped');
    this.unforward = forwardMetrics(() => this.metrics());
    const tick = (): void => {
      if (this.stopping) return;
      this.childLife = this.startChildWhenQueued();
      void this.childLife
        .catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'starting an indexing process failed'))
        .finally(() => {
          if (!this.stopping) this.pollTimer = setTimeout(tick, pollMs);
        });
    };
    tick();
  }

  /** Stops starting children; a running one hands its jobs back to the queue and exits. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    await this.child?.stop();
    await this.childLife.catch(() => undefined);
    this.unforward();
  }

  /** The pid of the indexing child while one runs (tests watch it exit). */
  get childPid(): number | null {
    return this.child?.pid ?? null;
  }

  private async startChildWhenQueued(): Promise<void> {
    if (this.child) return;
    const { QUEUED } = await this.deps.store.jobs.countByStatus();
    if (QUEUED === 0 || this.child || this.stopping) return;
    const child = new IndexingChild(this.script, { kind: 'run', config: this.deps.config, logLevel: this.deps.log.level });
    this.child = child;
    this.deps.log.info({ pid: child.pid, queued: QUEUED }, 'indexing process started');
    const { code, signal } = await child.exited;
    // In one step, so no scrape counts the child's metrics twice or not at all.
    this.finishedMetrics.push(child.lastMetrics);
    this.child = null;
    const finished = this.finishedMetrics;
    this.finishedMetrics = [await sum(finished)];
    if (code !== 0) await this.settleOrphanedJobs(child, signal ?? `exit code ${code}`);
  }

  /**
   * Jobs a child died during (a child that stops exits 0 after handing them back): back to the
   * queue when it was killed because it would not stop, failed with the reason otherwise.
   */
  private async settleOrphanedJobs(child: IndexingChild, ended: string): Promise<void> {
    const { store, log } = this.deps;
    for (const job of child.running.values()) {
      const reason = `the indexing process ended (${ended}) during stage ${job.stage ?? 'start'}`;
      if (this.stopping) await store.jobs.requeue(job.id);
      else await store.jobs.fail(job.id, reason);
      log.warn({ jobId: job.id, videoId: job.videoId, pid: child.pid, requeued: this.stopping }, reason);
    }
  }

  private async metrics(): Promise<MetricsSnapshot> {
    const child = this.child;
    const live = child ? await child.metrics() : [];
    // A child that exited meanwhile is counted among the finished ones already.
    return sum([...this.finishedMetrics, ...(child && this.child === child ? [live] : [])]);
  }
}
