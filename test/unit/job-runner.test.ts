// The job runner on a real embedded store with the pipeline replaced by a controllable fake:
// success, failure with a reason, cancellation between stages, graceful hand-back on shutdown,
// and newest-first order.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { JobRecord } from '../../src/domain.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { createLogger } from '../../src/logger.js';
import { resolveMediaTools } from '../../src/media/tools.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';

type PipelineHooks = { signal: AbortSignal; onProgress(p: { stage: string; progress: number; stagesDone: string[] }): Promise<void> };
const pipeline = vi.hoisted(() => ({ impl: null as null | ((job: JobRecord, hooks: PipelineHooks) => Promise<void>) }));
vi.mock('../../src/indexers/pipeline.js', () => ({
  runIndexPipeline: (_deps: unknown, job: JobRecord, hooks: PipelineHooks) => pipeline.impl!(job, hooks),
}));

let dir: string;
let store: Store;
let config: Config;

function runner(): JobRunner {
  return new JobRunner({ store, media: resolveMediaTools(config), config, log: createLogger('silent') });
}

async function enqueue(name: string): Promise<JobRecord> {
  return store.jobs.enqueue({ kind: 'INDEX_VIDEO', videoId: null, request: { path: `/media/${name}.mp4` } });
}

/** Resolves when `signal` aborts (a stage that notices cancellation between steps). */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error(String(signal.reason))), { once: true }));
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-runner-'));
  store = await openEmbeddedStore(dir);
  const base = loadConfig({});
  config = { ...base, dataDir: dir, indexing: { ...base.indexing, staleJobMs: 1000 } };
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('JobRunner', () => {
  it('runs a job to SUCCEEDED and records stage progress', async () => {
    pipeline.impl = async (_job, hooks) => {
      await hooks.onProgress({ stage: 'shots', progress: 0.5, stagesDone: ['probe'] });
    };
    const job = await enqueue('a');
    await runner().runUntilIdle();
    const done = await store.jobs.get(job.id);
    expect(done?.status).toBe('SUCCEEDED');
    expect(done?.stagesDone).toContain('probe');
    expect(done?.finishedAt).not.toBeNull();
  });

  it('fails the job with the pipeline’s reason and keeps running other jobs', async () => {
    pipeline.impl = async (job) => {
      if (job.request.path.includes('broken')) throw new Error('moov atom not found');
    };
    const broken = await enqueue('broken');
    const fine = await enqueue('fine');
    await runner().runUntilIdle();
    expect(await store.jobs.get(broken.id)).toMatchObject({ status: 'FAILED', error: expect.stringContaining('moov atom') });
    expect((await store.jobs.get(fine.id))?.status).toBe('SUCCEEDED');
  });

  it('claims the newest queued job first', async () => {
    const order: string[] = [];
    pipeline.impl = async (job) => {
      order.push(job.request.path);
    };
    await enqueue('old');
    await new Promise((r) => setTimeout(r, 5));
    await enqueue('new');
    await runner().runUntilIdle();
    expect(order).toEqual(['/media/new.mp4', '/media/old.mp4']);
  });

  it('stops a running job when it is cancelled through the queue', async () => {
    pipeline.impl = (_job, hooks) => untilAborted(hooks.signal);
    const job = await enqueue('long');
    const r = runner();
    const running = r.runUntilIdle();
    await vi.waitFor(async () => expect((await store.jobs.get(job.id))?.status).toBe('RUNNING'));
    await store.jobs.cancel(job.id);
    await running;
    expect((await store.jobs.get(job.id))?.status).toBe('CANCELLED');
  });

  it('hands a running job back to the queue on graceful shutdown, keeping finished stages', async () => {
    pipeline.impl = async (_job, hooks) => {
      await hooks.onProgress({ stage: 'faces', progress: 0.4, stagesDone: ['probe', 'shots'] });
      await untilAborted(hooks.signal);
    };
    const job = await enqueue('long');
    const r = runner();
    await r.start(20);
    await vi.waitFor(async () => expect((await store.jobs.get(job.id))?.stagesDone).toEqual(['probe', 'shots']));
    await r.stop();
    const after = await store.jobs.get(job.id);
    expect(after?.status).toBe('QUEUED');
    expect(after?.stagesDone).toEqual(['probe', 'shots']);
  });
});
