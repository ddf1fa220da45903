// The parent side of indexing in a child process (src/jobs/child-runner.ts) on a real embedded
// store, with the child replaced by a small script that speaks the same messages: the child's
// metrics reach this process's /metrics while it runs and after it exits, a stop lets it hand its
// jobs back, and a child that dies on its own fails the job it was running with the reason.
// The real child (child-runner-main.ts) runs in test/e2e/idle-memory.test.ts and crash.test.ts.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { JobRecord } from '../../src/domain.js';
import { ChildProcessJobRunner } from '../../src/jobs/child-runner.js';
import { createLogger } from '../../src/logger.js';
import { processMetrics } from '../../src/observability/metrics.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';

/** Answers metric requests with `finished{outcome="succeeded"} = 2`; what it does with the work is FAKE_CHILD_MODE's. */
const FAKE_CHILD = `
const metrics = [{ name: 'vidsearch_index_jobs_finished_total', help: 'h', type: 'counter', aggregator: 'sum', values: [{ value: 2, labels: { outcome: 'succeeded' } }] }];
process.on('message', (message) => {
  if (message.kind === 'metrics') process.send({ kind: 'metrics', id: message.id, metrics });
  else if (message.kind === 'stop') process.exit(0);
  else if (process.env.FAKE_CHILD_MODE === 'drain') process.send({ kind: 'drained', metrics }, () => process.exit(0));
  else if (process.env.FAKE_CHILD_MODE === 'crash') {
    process.send({ kind: 'job', job: JSON.parse(process.env.FAKE_CHILD_JOB) }, () => process.kill(process.pid, 'SIGKILL'));
  }
});
`;

let dir: string;
let store: Store;
let runner: ChildProcessJobRunner;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-child-runner-'));
  store = await openEmbeddedStore(path.join(dir, 'store'));
  const script = path.join(dir, 'fake-child.mjs');
  await writeFile(script, FAKE_CHILD);
  runner = new ChildProcessJobRunner({ store, config: { ...loadConfig({}), dataDir: dir }, log: createLogger('silent') }, script);
});

afterEach(async () => {
  await runner.stop();
  delete process.env.FAKE_CHILD_MODE;
  delete process.env.FAKE_CHILD_JOB;
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const enqueue = (name: string): Promise<JobRecord> => store.jobs.enqueue({ kind: 'INDEX_VIDEO', videoId: null, request: { path: `/media/${name}.mp4` } });
const FINISHED_TWICE = /^vidsearch_index_jobs_finished_total\{outcome="succeeded"\} 2$/m;
/** One poll in the test's time: a child starts at once for the queued job, never a second one. */
const ONE_POLL_MS = 600_000;

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('ChildProcessJobRunner', () => {
  it('starts no child while nothing is queued', async () => {
    await runner.start(ONE_POLL_MS);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(runner.childPid).toBeNull();
    expect(await processMetrics()).not.toMatch(/vidsearch_index_jobs_finished_total\{/);
  });

  it("reports a running child's metrics as this process's own, and a stopped child leaves the job queued", async () => {
    const job = await enqueue('a');
    await runner.start(ONE_POLL_MS);
    await until(() => runner.childPid !== null);
    await until(async () => FINISHED_TWICE.test(await processMetrics()));
    await runner.stop();
    expect(runner.childPid).toBeNull();
    expect((await store.jobs.get(job.id))?.status).toBe('QUEUED');
  });

  it("keeps an exited child's metrics", async () => {
    process.env.FAKE_CHILD_MODE = 'drain';
    await enqueue('a');
    await runner.start(ONE_POLL_MS);
    await until(() => runner.childPid !== null);
    await until(() => runner.childPid === null);
    expect(await processMetrics()).toMatch(FINISHED_TWICE);
  });

  it('fails the job a child was running when the child dies, with the reason', async () => {
    const running = await enqueue('running');
    const claimed = await store.jobs.claim('worker-test');
    expect(claimed?.id).toBe(running.id);
    await enqueue('queued');
    process.env.FAKE_CHILD_MODE = 'crash';
    process.env.FAKE_CHILD_JOB = JSON.stringify({ ...claimed, stage: 'faces' });
    await runner.start(ONE_POLL_MS);
    await until(async () => (await store.jobs.get(running.id))?.status === 'FAILED');
    expect((await store.jobs.get(running.id))?.error).toBe('the indexing process ended (SIGKILL) during stage faces');
  });
});
