// JobQueue on the embedded SQLite database. Every state change is one UPDATE guarded by the
// expected current status, so two workers (threads or processes sharing the file) never both win.
import { randomBytes } from 'node:crypto';
import type { JobRecord, JobStatus, Page, PageArgs } from '../../domain.js';
import type { EnqueueRequest, JobProgress, JobQueue } from '../interfaces.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { IN_JSON_LIST, jsonList, type SqliteDatabase } from './db.js';

const JOB_STATUSES: readonly JobStatus[] = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
export const BACKLOG_DROP_ERROR = 'dropped: backlog full';

interface JobRow {
  seq: number;
  id: string;
  kind: JobRecord['kind'];
  video_id: string | null;
  request: string;
  status: JobStatus;
  priority: number;
  progress: number;
  stage: string | null;
  stages_done: string;
  error: string | null;
  attempts: number;
  worker_id: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
}

function toJob(row: JobRow): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    videoId: row.video_id,
    request: JSON.parse(row.request) as JobRecord['request'],
    status: row.status,
    priority: row.priority,
    progress: row.progress,
    stage: row.stage,
    stagesDone: JSON.parse(row.stages_done) as string[],
    error: row.error,
    attempts: row.attempts,
    workerId: row.worker_id,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    heartbeatAt: row.heartbeat_at,
  };
}

function now(): string {
  return new Date().toISOString();
}

export class EmbeddedJobQueue implements JobQueue {
  constructor(private readonly db: SqliteDatabase) {}

  async enqueue(req: EnqueueRequest): Promise<JobRecord> {
    const row = this.db
      .prepare(
        `INSERT INTO jobs (id, kind, video_id, request, status, priority, progress, stage, stages_done, error, attempts, created_at)
         VALUES (?, ?, ?, ?, 'QUEUED', ?, 0, NULL, '[]', NULL, 0, ?) RETURNING *`,
      )
      .get(`job_${randomBytes(9).toString('base64url')}`, req.kind, req.videoId, JSON.stringify(req.request), req.priority ?? 0, now()) as JobRow;
    return toJob(row);
  }

  async get(id: string): Promise<JobRecord | null> {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  async getMany(ids: readonly string[]): Promise<(JobRecord | null)[]> {
    if (ids.length === 0) return [];
    const rows = this.db.prepare(`SELECT * FROM jobs WHERE id IN ${IN_JSON_LIST}`).all(jsonList(ids)) as JobRow[];
    const byId = new Map(rows.map((row) => [row.id, toJob(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Newest first. */
  async list(status: JobStatus | null, page: PageArgs): Promise<Page<JobRecord>> {
    const statusSql = status ? 'status = ?' : '1';
    const statusParams = status ? [status] : [];
    const totalCount = (this.db.prepare(`SELECT count(*) AS n FROM jobs WHERE ${statusSql}`).get(...statusParams) as { n: number }).n;
    const afterSeq = page.after ? Number(decodeCursor(page.after, { s: 'number' }).s) : Number.MAX_SAFE_INTEGER;
    const rows = this.db
      .prepare(`SELECT * FROM jobs WHERE ${statusSql} AND seq < ? ORDER BY seq DESC LIMIT ?`)
      .all(...statusParams, afterSeq, page.first + 1) as JobRow[];
    const items = rows.slice(0, page.first);
    const last = items.at(-1);
    return {
      items: items.map(toJob),
      endCursor: last ? encodeCursor({ s: last.seq }) : (page.after ?? null),
      hasNextPage: rows.length > page.first,
      totalCount,
    };
  }

  async activeForVideo(videoId: string): Promise<JobRecord | null> {
    const row = this.db
      .prepare("SELECT * FROM jobs WHERE video_id = ? AND status IN ('QUEUED', 'RUNNING') ORDER BY seq DESC LIMIT 1")
      .get(videoId) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  async claim(workerId: string): Promise<JobRecord | null> {
    const at = now();
    // One statement: the sub-select and the update run under the same write lock.
    const row = this.db
      .prepare(
        `UPDATE jobs SET status = 'RUNNING', worker_id = ?, started_at = ?, heartbeat_at = ?, finished_at = NULL, attempts = attempts + 1
         WHERE seq = (SELECT seq FROM jobs WHERE status = 'QUEUED' ORDER BY priority DESC, seq DESC LIMIT 1)
         RETURNING *`,
      )
      .get(workerId, at, at) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  async progress(id: string, progress: JobProgress): Promise<void> {
    this.db
      .prepare(
        `UPDATE jobs SET stage = ?, progress = ?, stages_done = coalesce(?, stages_done) WHERE id = ? AND status = 'RUNNING'`,
      )
      .run(progress.stage, progress.progress, progress.stagesDone ? JSON.stringify(progress.stagesDone) : null, id);
  }

  async heartbeat(id: string, workerId: string): Promise<void> {
    this.db.prepare("UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND worker_id = ? AND status = 'RUNNING'").run(now(), id, workerId);
  }

  async setVideo(id: string, videoId: string): Promise<void> {
    this.db.prepare('UPDATE jobs SET video_id = ? WHERE id = ?').run(videoId, id);
  }

  /** Finished states are final: completing or failing a cancelled job changes nothing. */
  async complete(id: string): Promise<void> {
    this.db
      .prepare("UPDATE jobs SET status = 'SUCCEEDED', progress = 1, finished_at = ? WHERE id = ? AND status IN ('QUEUED', 'RUNNING')")
      .run(now(), id);
  }

  async fail(id: string, error: string): Promise<void> {
    this.db
      .prepare("UPDATE jobs SET status = 'FAILED', error = ?, finished_at = ? WHERE id = ? AND status IN ('QUEUED', 'RUNNING')")
      .run(error, now(), id);
  }

  async requeue(id: string): Promise<void> {
    this.db
      .prepare("UPDATE jobs SET status = 'QUEUED', worker_id = NULL, heartbeat_at = NULL WHERE id = ? AND status = 'RUNNING'")
      .run(id);
  }

  async cancel(id: string): Promise<JobRecord | null> {
    this.db
      .prepare("UPDATE jobs SET status = 'CANCELLED', finished_at = ? WHERE id = ? AND status IN ('QUEUED', 'RUNNING')")
      .run(now(), id);
    return this.get(id);
  }

  async requeueStale(staleMs: number): Promise<number> {
    const cutoff = new Date(Date.now() - staleMs).toISOString();
    return this.db
      .prepare(
        `UPDATE jobs SET status = 'QUEUED', worker_id = NULL, heartbeat_at = NULL
         WHERE status = 'RUNNING' AND coalesce(heartbeat_at, started_at, created_at) < ?`,
      )
      .run(cutoff).changes;
  }

  async dropOldestBeyond(maxBacklog: number): Promise<number> {
    return this.db
      .prepare(
        `UPDATE jobs SET status = 'CANCELLED', error = ?, finished_at = ?
         WHERE seq IN (SELECT seq FROM jobs WHERE status = 'QUEUED' ORDER BY seq DESC LIMIT -1 OFFSET ?)`,
      )
      .run(BACKLOG_DROP_ERROR, now(), Math.max(0, maxBacklog)).changes;
  }

  async countByStatus(): Promise<Record<JobStatus, number>> {
    const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
    const rows = this.db.prepare('SELECT status, count(*) AS n FROM jobs GROUP BY status').all() as { status: JobStatus; n: number }[];
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }
}
