// Runs indexing jobs from the JobQueue in this process: bounded concurrency, heartbeats so a
// crashed worker's job is picked up again, cancellation between stages, and graceful shutdown
// that hands running jobs back to the queue (they resume at the next unfinished stage).
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import type { JobRecord } from '../domain.js';
import { errorMessage } from '../errors.js';
import { runIndexPipeline } from '../indexers/pipeline.js';
import type { Logger } from '../logger.js';
import type { MediaTools } from '../media/tools.js';
import { finishedJobs } from '../observability/metrics.js';
import type { Store } from '../store/interfaces.js';

export interface JobRunnerDeps {
  store: Store;
  media: MediaTools;
  config: Config;
  log: Logger;
}

export interface JobRunnerEvents {
  /** Called after every progress report, e.g. to drive a CLI progress bar. */
  onProgress?(job: JobRecord): void;
}

const SHUTDOWN = 'shutdown';

export class JobRunner {
  readonly workerId: string;
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private pollTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly deps: JobRunnerDeps,
    private readonly events: JobRunnerEvents = {},
    workerId = `worker-${process.pid}-${randomUUID().slice(0, 8)}`,
  ) {
    this.workerId = workerId;
  }

  /** Polls the queue until stop(); first re-queues jobs whose worker died (crash resume). */
  async start(pollMs = 500): Promise<void> {
    const requeued = await this.deps.store.jobs.requeueStale(this.deps.config.indexing.staleJobMs);
    if (requeued > 0) this.deps.log.info({ requeued }, 're-queued jobs of a worker that stopped');
    const tick = (): void => {
      if (this.stopping) return;
      void this.fill().finally(() => {
        if (!this.stopping) this.pollTimer = setTimeout(tick, pollMs);
      });
    };
    tick();
  }

  /** Claims and runs jobs until the queue has nothing QUEUED and nothing is running. */
  async runUntilIdle(): Promise<void> {
    for (;;) {
      await this.fill();
      if (this.running.size === 0) return;
      await Promise.race([...this.running.values()].map((r) => r.done));
    }
  }

  /** Stops claiming; running jobs are aborted and handed back to the queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    for (const { controller } of this.running.values()) controller.abort(SHUTDOWN);
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  get activeJobs(): number {
    return this.running.size;
  }

  /** Resolves when nothing is running (used by tests and the demo). */
  whenIdle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async fill(): Promise<void> {
    const { jobs } = this.deps.store;
    while (!this.stopping && this.running.size < this.deps.config.indexing.concurrency) {
      const job = await jobs.claim(this.workerId);
      if (!job) return;
      const controller = new AbortController();
      const done = this.execute(job, controller).finally(() => {
        this.running.delete(job.id);
        if (this.running.size === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
      });
      this.running.set(job.id, { controller, done });
    }
  }

  private async execute(job: JobRecord, controller: AbortController): Promise<void> {
    const { store, log } = this.deps;
    const jobLog = log.child({ jobId: job.id, videoId: job.videoId });
    const beat = setInterval(() => {
      void this.heartbeat(job.id, controller).catch((err: unknown) =>
        jobLog.warn({ err: errorMessage(err) }, 'heartbeat failed'),
      );
    }, Math.max(250, Math.floor(this.deps.config.indexing.staleJobMs / 3)));
    try {
      jobLog.info({ attempt: job.attempts, resumeAfter: job.stagesDone }, 'job started');
      await runIndexPipeline(this.deps, job, {
        signal: controller.signal,
        onProgress: async (p) => {
          await store.jobs.progress(job.id, p);
          if (this.events.onProgress) {
            const fresh = await store.jobs.get(job.id);
            if (fresh) this.events.onProgress(fresh);
          }
        },
      });
      await store.jobs.complete(job.id);
      finishedJobs.inc({ outcome: 'succeeded' });
      jobLog.info('job succeeded');
    } catch (err) {
      if (controller.signal.aborted && controller.signal.reason === SHUTDOWN) {
        await store.jobs.requeue(job.id);
        finishedJobs.inc({ outcome: 'requeued' });
        jobLog.info('job handed back to the queue (shutdown)');
      } else if (controller.signal.aborted) {
        finishedJobs.inc({ outcome: 'cancelled' });
        jobLog.info('job cancelled');
      } else {
        await store.jobs.fail(job.id, errorMessage(err));
        finishedJobs.inc({ outcome: 'failed' });
        jobLog.warn({ err: errorMessage(err) }, 'job failed');
      }
    } finally {
      clearInterval(beat);
      if (this.events.onProgress) {
        const fresh = await store.jobs.get(job.id);
        if (fresh) this.events.onProgress(fresh);
      }
    }
  }

  /** Keeps the job alive and notices a cancellation requested through the API. */
  private async heartbeat(jobId: string, controller: AbortController): Promise<void> {
    const current = await this.deps.store.jobs.get(jobId);
    if (current?.status === 'CANCELLED') {
      controller.abort('cancelled');
      return;
    }
    await this.deps.store.jobs.heartbeat(jobId, this.workerId);
  }
}
