// A plain `vidsearch serve` (one process) that has indexed a video idles at its serving footprint:
// the job runs in an indexing child process (src/jobs/child-runner.ts) that loads the models
// (faces, voice, OCR, CenterNet, MobileNet) and exits once the queue is empty, taking them with it.
// Before, the server kept them: 831 MB RSS a minute after indexing this clip, 181 MB before it.
// Nothing here waits a fixed time: the test waits for the job to finish and the child to exit.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INDEX_STAGES } from '../../src/indexers/pipeline.js';
import { CLI, gql, stagesRun, startServeProcess, type ServeProcess } from '../helpers/serve-process.js';
import { sharedData } from '../helpers/shared-data.js';

/** The limit for an idle server (#22). */
const IDLE_RSS_LIMIT_MB = 400;
/** A talking head with speech: every model of the pipeline has something to work on. */
const clip = sharedData('talking_head/video_retalking/face_1.mp4');

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]) / 1024;
}

/** RSS of a child that may exit at any moment: 0 once it is gone or a zombie (no VmRSS line). */
function exitingChildRssMb(pid: number): number {
  try {
    return rssMb(pid);
  } catch {
    return 0;
  }
}

/** Direct child processes of `pid` (Linux: /proc/<pid>/task/<tid>/children). */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.runIf(clip !== null && process.platform === 'linux')('memory of an idle `vidsearch serve` after indexing', () => {
  let root: string;
  let server: ServeProcess | null = null;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm test\` (it compiles first) or \`npx tsc -p tsconfig.json\``);
    root = await mkdtemp(path.join(tmpdir(), 'vidsearch-idle-'));
    const { VIDSEARCH_API_KEYS: _keys, ...inherited } = process.env;
    server = await startServeProcess({
      ...inherited,
      VIDSEARCH_DATA_DIR: path.join(root, 'data'),
      VIDSEARCH_MEDIA_ROOTS: path.dirname(clip!),
      // The one-process server (several workers keep indexing in a process of their own).
      VIDSEARCH_WORKERS: '1',
    });
  });

  afterAll(async () => {
    if (server && server.child.exitCode === null) server.child.kill('SIGTERM');
    await server?.exited;
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('runs the job in a child that exits, and idles at ≤ 400 MB RSS with the stages in its /metrics', async () => {
    const { child, url } = server!;
    const pid = child.pid!;
    const queued = await gql<{ indexVideo: { id: string } }>(url, 'mutation($p: String!) { indexVideo(input: { path: $p }) { id } }', { p: clip });
    const job = async () => (await gql<{ job: { status: string; error: string | null } }>(url, 'query($id: ID!) { job(id: $id) { status error } }', { id: queued.indexVideo.id })).job;

    // The models live in the indexing child while the job runs; the server stays small.
    let indexingChild: number | null = null;
    let childPeakMb = 0;
    let serverPeakMb = 0;
    await until(async () => {
      const children = childrenOf(pid);
      if (children.length > 0) {
        indexingChild ??= children[0]!;
        childPeakMb = Math.max(childPeakMb, ...children.map(exitingChildRssMb));
      }
      serverPeakMb = Math.max(serverPeakMb, rssMb(pid));
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes((await job()).status);
    }, 'the job finishing');
    expect(await job()).toEqual({ status: 'SUCCEEDED', error: null });
    expect(indexingChild, 'no indexing child process was seen').not.toBeNull();

    // Idle: the child has exited and taken the models with it.
    await until(() => childrenOf(pid).length === 0, 'the indexing child exiting');
    const idleMb = rssMb(pid);
    console.info(`idle serve RSS ${idleMb.toFixed(0)} MB (peak ${serverPeakMb.toFixed(0)} MB while the child, peak ${childPeakMb.toFixed(0)} MB, indexed)`);
    expect(idleMb).toBeLessThanOrEqual(IDLE_RSS_LIMIT_MB);
    // The model-heavy stages ran (in the child), and the server's /metrics reports them.
    expect((await stagesRun(url)).sort()).toEqual(INDEX_STAGES.map((s) => s.name).sort());
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^vidsearch_index_jobs_finished_total\{outcome="succeeded"\} 1$/m);
  }, 300_000);
});
