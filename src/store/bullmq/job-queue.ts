// JobQueue on BullMQ (Redis), so any number of `vidsearch worker` processes share the indexing
// work and API processes keep no queue state of their own.
//
// Order: highest priority first, then the NEWEST job. BullMQ orders prioritized jobs
// first-in-first-out within a priority, so each priority level is its own BullMQ queue whose
// jobs are added LIFO (`lifo: true`); `claim` asks the levels from the highest down. The levels
// in use sit in a Redis sorted set, so every process sees the same ones.
// Claiming is BullMQ's manual fetch (`Worker.getNextJob`): atomic in Redis, so two workers never
// get the same job; the lock is extended by heartbeats and a job whose heartbeat stops is moved
// back to wait by `requeueStale` (resume: stage checkpoints stay in the catalog).
// What BullMQ has no state for sits next to it in Redis hashes: heartbeats and cancellations
// (a cancelled waiting job stays in its list and is retired when a claim reaches it).
import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job, type JobType } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobRecord, JobStatus, Page, PageArgs } from '../../domain.js';
import type { EnqueueRequest, JobProgress, JobQueue } from '../interfaces.js';
import { decodeCursor, encodeCursor } from '../embedded/cursor.js';

export const BACKLOG_DROP_ERROR = 'dropped: backlog full';
const STATUSES: readonly JobStatus[] = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
/** Finished jobs are kept this long for `jobs` listings, then BullMQ removes them. */
const KEEP_FINISHED_SEC = 14 * 24 * 3600;
const CANCELLED_REASON = 'cancelled';

interface JobData {
  kind: JobRecord['kind'];
  request: JobRecord['request'];
  videoId: string | null;
  priority: number;
  createdAt: string;
  /** Enqueue order across every level and process (INCR), for newest-first listings. */
  seq: number;
  workerId: string | null;
  /** BullMQ lock token of the current claim. */
  token: string | null;
}

interface ProgressData {
  stage: string | null;
  progress: number;
  stagesDone: string[];
}

interface Cancellation {
  at: string;
  error: string | null;
}

type IndexJob = Job<JobData, null, string>;

const BULL_STATES: readonly { status: JobStatus; types: JobType[] }[] = [
  { status: 'QUEUED', types: ['wait', 'prioritized', 'delayed'] },
  { status: 'RUNNING', types: ['active'] },
  { status: 'SUCCEEDED', types: ['completed'] },
  { status: 'FAILED', types: ['failed'] },
];

function statusOf(state: string): JobStatus {
  if (state === 'active') return 'RUNNING';
  if (state === 'completed') return 'SUCCEEDED';
  if (state === 'failed') return 'FAILED';
  return 'QUEUED';
}

function progressOf(job: IndexJob): ProgressData {
  const raw = job.progress;
  if (typeof raw === 'object' && raw !== null && 'stagesDone' in raw) return raw as unknown as ProgressData;
  return { stage: null, progress: 0, stagesDone: [] };
}

const iso = (ms: number | undefined): string | null => (ms ? new Date(ms).toISOString() : null);

export interface BullJobQueueOptions {
  /** Shared connection (maxRetriesPerRequest: null, as BullMQ workers require); not closed here. */
  connection: Redis;
  /** Redis key prefix for the BullMQ queues and the side hashes. */
  prefix?: string;
  /** BullMQ lock duration; heartbeats extend it. Longer than the stale-job threshold. */
  lockMs: number;
}

export class BullJobQueue implements JobQueue {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly lockMs: number;
  private readonly queues = new Map<number, Queue<JobData, null, string>>();
  private readonly workers = new Map<number, Worker<JobData, null, string>>();
  private readonly keys: { levels: string; jobLevel: string; heartbeats: string; cancelled: string; seq: string };

  constructor(options: BullJobQueueOptions) {
    this.redis = options.connection;
    this.prefix = options.prefix ?? 'vidsearch';
    this.lockMs = options.lockMs;
    const key = (name: string): string => `${this.prefix}:jobs:${name}`;
    this.keys = { levels: key('levels'), jobLevel: key('level-of'), heartbeats: key('heartbeats'), cancelled: key('cancelled'), seq: key('seq') };
  }

  async enqueue(req: EnqueueRequest): Promise<JobRecord> {
    const priority = req.priority ?? 0;
    const id = randomUUID();
    const seq = await this.redis.incr(this.keys.seq);
    const data: JobData = { kind: req.kind, request: req.request, videoId: req.videoId, priority, createdAt: new Date().toISOString(), seq, workerId: null, token: null };
    await this.redis.multi().zadd(this.keys.levels, priority, String(priority)).hset(this.keys.jobLevel, id, String(priority)).exec();
    await this.queue(priority).add(req.kind, data, {
      jobId: id,
      lifo: true,
      attempts: 1,
      removeOnComplete: { age: KEEP_FINISHED_SEC },
      removeOnFail: { age: KEEP_FINISHED_SEC },
    });
    return (await this.get(id))!;
  }

  async get(id: string): Promise<JobRecord | null> {
    const job = await this.job(id);
    if (!job) return null;
    const [state, cancelled, heartbeat] = await Promise.all([job.getState(), this.redis.hget(this.keys.cancelled, id), this.redis.hget(this.keys.heartbeats, id)]);
    return this.record(job, state, cancelled, heartbeat);
  }

  async getMany(ids: readonly string[]): Promise<(JobRecord | null)[]> {
    return Promise.all(ids.map((id) => this.get(id)));
  }

  async list(status: JobStatus | null, page: PageArgs): Promise<Page<JobRecord>> {
    const matching = (await this.all()).filter((job) => status === null || job.record.status === status);
    const afterSeq = page.after ? Number(decodeCursor(page.after, { seq: 'number' }).seq) : Number.POSITIVE_INFINITY;
    const rest = matching.filter((job) => job.seq < afterSeq);
    const items = rest.slice(0, page.first);
    const last = items[items.length - 1];
    return {
      items: items.map((job) => job.record),
      endCursor: last ? encodeCursor({ seq: last.seq }) : null,
      hasNextPage: rest.length > items.length,
      totalCount: matching.length,
    };
  }

  async activeForVideo(videoId: string): Promise<JobRecord | null> {
    const active = (await this.all(['QUEUED', 'RUNNING'])).find((job) => job.record.videoId === videoId && (job.record.status === 'QUEUED' || job.record.status === 'RUNNING'));
    return active?.record ?? null;
  }

  async claim(workerId: string): Promise<JobRecord | null> {
    const levels = (await this.redis.zrevrange(this.keys.levels, 0, '-1')).map(Number);
    for (const level of levels) {
      const worker = this.worker(level);
      for (;;) {
        const token = randomUUID();
        const job = (await worker.getNextJob(token, { block: false })) as IndexJob | undefined;
        if (!job?.id) break;
        if (!(await this.isCancelled(job.id))) {
          await job.updateData({ ...job.data, workerId, token });
          await this.redis.hset(this.keys.heartbeats, job.id, new Date().toISOString());
          // A cancel that landed between the fetch and the token write could not release the lock.
          if (!(await this.isCancelled(job.id))) return this.get(job.id);
        }
        await job.moveToFailed(new Error(CANCELLED_REASON), token, false);
      }
    }
    return null;
  }

  async progress(id: string, progress: JobProgress): Promise<void> {
    const job = await this.job(id);
    if (!job) return;
    const current = progressOf(job);
    await job.updateProgress({ stage: progress.stage, progress: progress.progress, stagesDone: progress.stagesDone ?? current.stagesDone });
  }

  async heartbeat(id: string, _workerId: string): Promise<void> {
    const job = await this.job(id);
    if (!job || (await job.getState()) !== 'active') return;
    await this.redis.hset(this.keys.heartbeats, id, new Date().toISOString());
    if (job.data.token) await job.extendLock(job.data.token, this.lockMs);
  }

  async setVideo(id: string, videoId: string): Promise<void> {
    const job = await this.job(id);
    if (job) await job.updateData({ ...job.data, videoId });
  }

  async complete(id: string): Promise<void> {
    const job = await this.runningJob(id);
    if (!job) return;
    await job.updateProgress({ ...progressOf(job), progress: 1 });
    await job.moveToCompleted(null, job.data.token ?? '0', false);
  }

  async fail(id: string, error: string): Promise<void> {
    const job = await this.runningJob(id);
    if (job) await job.moveToFailed(new Error(error), job.data.token ?? '0', false);
  }

  async requeue(id: string): Promise<void> {
    const job = await this.runningJob(id);
    if (job) await this.backToWait(job);
  }

  async cancel(id: string): Promise<JobRecord | null> {
    const job = await this.job(id);
    if (!job) return null;
    const record = await this.get(id);
    if (record?.status === 'QUEUED' || record?.status === 'RUNNING') await this.markCancelled(job, record.status, null);
    return this.get(id);
  }

  async requeueStale(staleMs: number): Promise<number> {
    const cutoff = Date.now() - staleMs;
    let requeued = 0;
    for (const { record } of await this.all(['RUNNING'])) {
      if (record.status !== 'RUNNING' || (record.heartbeatAt && Date.parse(record.heartbeatAt) >= cutoff)) continue;
      const job = await this.job(record.id);
      if (job && (await this.backToWait(job))) requeued += 1;
    }
    return requeued;
  }

  async dropOldestBeyond(maxBacklog: number): Promise<number> {
    const queued = (await this.all(['QUEUED'])).filter((job) => job.record.status === 'QUEUED');
    const dropped = queued.slice(maxBacklog);
    for (const { record } of dropped) {
      const job = await this.job(record.id);
      if (job) await this.markCancelled(job, 'QUEUED', BACKLOG_DROP_ERROR);
    }
    return dropped.length;
  }

  async countByStatus(): Promise<Record<JobStatus, number>> {
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
    for (const { record } of await this.all()) counts[record.status] += 1;
    return counts;
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }

  private queueName(level: number): string {
    return `index_p${level}`;
  }

  private queue(level: number): Queue<JobData, null, string> {
    let queue = this.queues.get(level);
    if (!queue) {
      queue = new Queue<JobData, null, string>(this.queueName(level), { connection: this.redis, prefix: this.prefix });
      this.queues.set(level, queue);
    }
    return queue;
  }

  private worker(level: number): Worker<JobData, null, string> {
    let worker = this.workers.get(level);
    if (!worker) {
      // No processor: jobs are fetched by `claim` and run by src/jobs/runner.ts.
      worker = new Worker<JobData, null, string>(this.queueName(level), null, {
        connection: this.redis,
        prefix: this.prefix,
        autorun: false,
        lockDuration: this.lockMs,
        // Stale jobs are found by heartbeat age in requeueStale, which keeps their finished stages.
        skipStalledCheck: true,
        skipLockRenewal: true,
      });
      this.workers.set(level, worker);
    }
    return worker;
  }

  private async job(id: string): Promise<IndexJob | null> {
    const level = await this.redis.hget(this.keys.jobLevel, id);
    if (level === null) return null;
    const job = (await this.queue(Number(level)).getJob(id)) as IndexJob | undefined;
    if (!job) {
      // Removed by retention: forget its side entries too.
      await this.redis.multi().hdel(this.keys.jobLevel, id).hdel(this.keys.cancelled, id).hdel(this.keys.heartbeats, id).exec();
      return null;
    }
    return job;
  }

  /** The job when it is RUNNING and not cancelled (late complete/fail of a cancelled job do nothing). */
  private async runningJob(id: string): Promise<IndexJob | null> {
    const job = await this.job(id);
    if (!job || (await this.isCancelled(id)) || (await job.getState()) !== 'active') return null;
    return job;
  }

  private async isCancelled(id: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.cancelled, id)) === 1;
  }

  private async backToWait(job: IndexJob): Promise<boolean> {
    if ((await job.getState()) !== 'active') return false;
    await job.updateData({ ...job.data, workerId: null, token: null });
    await this.redis.hdel(this.keys.heartbeats, job.id!);
    // Token '0': the claim's lock may have expired with its worker; the state check above decides.
    await job.moveToWait('0');
    return true;
  }

  private async markCancelled(job: IndexJob, status: JobStatus, error: string | null): Promise<void> {
    const cancellation: Cancellation = { at: new Date().toISOString(), error };
    await this.redis.hset(this.keys.cancelled, job.id!, JSON.stringify(cancellation));
    // A running job's lock is released now; its worker notices at the next heartbeat.
    if (status === 'RUNNING' && job.data.token) await job.moveToFailed(new Error(CANCELLED_REASON), job.data.token, false).catch(() => undefined);
  }

  private record(job: IndexJob, state: string, cancelledJson: string | null, heartbeat: string | null): JobRecord {
    const cancellation = cancelledJson ? (JSON.parse(cancelledJson) as Cancellation) : null;
    const status: JobStatus = cancellation ? 'CANCELLED' : statusOf(state);
    const progress = progressOf(job);
    return {
      id: job.id!,
      kind: job.data.kind,
      videoId: job.data.videoId,
      request: job.data.request,
      status,
      priority: job.data.priority,
      progress: status === 'SUCCEEDED' ? 1 : progress.progress,
      stage: progress.stage,
      stagesDone: progress.stagesDone,
      error: cancellation ? cancellation.error : status === 'FAILED' ? (job.failedReason ?? null) : null,
      attempts: job.attemptsStarted ?? 0,
      workerId: job.data.workerId,
      createdAt: job.data.createdAt,
      startedAt: iso(job.processedOn),
      finishedAt: cancellation ? cancellation.at : iso(job.finishedOn),
      heartbeatAt: status === 'RUNNING' || status === 'QUEUED' ? heartbeat : null,
    };
  }

  /** Every job (optionally only those BullMQ holds in the states of `statuses`), newest first. */
  private async all(statuses?: readonly JobStatus[]): Promise<{ seq: number; record: JobRecord }[]> {
    const levels = (await this.redis.zrange(this.keys.levels, 0, '-1')).map(Number);
    const [cancelled, heartbeats] = await Promise.all([this.redis.hgetall(this.keys.cancelled), this.redis.hgetall(this.keys.heartbeats)]);
    const out: { seq: number; record: JobRecord }[] = [];
    for (const level of levels) {
      for (const { types } of BULL_STATES.filter((s) => !statuses || statuses.includes(s.status) || statuses.includes('CANCELLED'))) {
        const jobs = (await this.queue(level).getJobs(types, 0, -1)) as (IndexJob | undefined)[];
        for (const job of jobs) {
          if (!job?.id) continue;
          const state = types.includes('active') ? 'active' : types.includes('completed') ? 'completed' : types.includes('failed') ? 'failed' : 'waiting';
          out.push({ seq: job.data.seq, record: this.record(job, state, cancelled[job.id] ?? null, heartbeats[job.id] ?? null) });
        }
      }
    }
    return out.sort((a, b) => b.seq - a.seq);
  }
}
