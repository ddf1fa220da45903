// Crash safety with the real CLI as a child process (`node dist/src/cli.js serve`; `npm test`
// builds dist first): a video is indexed by three server lives in turn. The first is stopped
// with SIGTERM mid-indexing (graceful: the job goes back to the queue and the process exits), the
// second is SIGKILLed mid-indexing, the third finishes the job. The job must resume at its next
// unfinished stage each time (stages finished before are never run again, as each life's
// /metrics shows) and the store must end with exactly the segments the first life made.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INDEX_STAGES } from '../../src/indexers/pipeline.js';
import { runFfmpeg } from '../helpers/media.js';
import { CLI, gql, stagesRun, startServeProcess, waitForStderr, type ServeProcess } from '../helpers/serve-process.js';

const STAGES = INDEX_STAGES.map((s) => s.name);

interface JobView {
  status: string;
  stage: string | null;
  attempts: number;
  error: string | null;
}

interface SegmentView {
  id: string;
  start: number;
  end: number;
}

const lives: ServeProcess[] = [];

async function startLife(env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const life = await startServeProcess(env);
  lives.push(life);
  return life;
}

async function job(url: string, id: string): Promise<JobView> {
  return (await gql<{ job: JobView }>(url, 'query($id: ID!) { job(id: $id) { status stage attempts error } }', { id })).job;
}

/** Polls the job until `done` (or `ready`, asked of the server) says so, or it ends; the last view. */
async function waitForJob(url: string, id: string, done: (j: JobView) => boolean, timeoutMs = 240_000, ready?: () => Promise<boolean>): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await job(url, id);
    if (done(current) || ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(current.status)) return current;
    if (ready && (await ready())) return current;
    if (Date.now() > deadline) throw new Error(`job still ${JSON.stringify(current)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls until every one of `stages` is done in this server life's metrics (or the job ends). */
function waitForStages(url: string, id: string, stages: readonly string[]): Promise<JobView> {
  return waitForJob(url, id, () => false, 240_000, async () => {
    const done = await stagesRun(url);
    return stages.every((s) => done.includes(s));
  });
}

async function segments(url: string, videoId: string): Promise<SegmentView[]> {
  const data = await gql<{ video: { segments: { totalCount: number; edges: { node: SegmentView }[] } } }>(
    url,
    'query($id: ID!) { video(id: $id) { segments(first: 100) { totalCount edges { node { id start end } } } } }',
    { id: videoId },
  );
  expect(data.video.segments.edges.length).toBe(data.video.segments.totalCount);
  return data.video.segments.edges.map((e) => e.node);
}

const stageIndex = (stage: string | null): number => (stage ? STAGES.indexOf(stage) : -1);

describe('crash and shutdown safety of `vidsearch serve`', () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  let videoPath: string;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm test\` (it compiles first) or \`npx tsc -p tsconfig.json\``);
    root = await mkdtemp(path.join(tmpdir(), 'vidsearch-crash-'));
    // Long enough that each life is caught mid-indexing (about a minute of work on a 2-core box).
    // Six 10 s shots of different synthetic pictures, joined by cuts, with a tone.
    videoPath = path.join(root, 'episode.mp4');
    const shots = ['testsrc2', 'smptebars', 'rgbtestsrc', 'mandelbrot', 'testsrc', 'cellauto'];
    await runFfmpeg([
      ...shots.flatMap((source) => ['-f', 'lavfi', '-i', `${source}=s=320x180:r=25,trim=duration=10`]),
      '-f', 'lavfi', '-i', 'sine=frequency=440:duration=60',
      '-filter_complex', `${shots.map((_, i) => `[${i}:v]format=yuv420p,setsar=1[v${i}]`).join(';')};${shots.map((_, i) => `[v${i}]`).join('')}concat=n=${shots.length}:v=1:a=0[v]`,
      '-map', '[v]', '-map', `${shots.length}:a`, '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', '-t', '60', videoPath,
    ]);
    const { VIDSEARCH_API_KEYS: _keys, ...inherited } = process.env;
    env = {
      ...inherited,
      VIDSEARCH_DATA_DIR: path.join(root, 'data'),
      VIDSEARCH_MEDIA_ROOTS: root,
      // A killed worker's job is taken back after 1 s without a heartbeat (default 30 s).
      VIDSEARCH_STALE_JOB_MS: '1000',
      VIDSEARCH_LOG_LEVEL: 'info',
      // One serving process whose indexing child dies with it, so SIGKILL kills the indexing
      // mid-stage (with several workers the indexing process would outlive its primary and stop
      // gracefully; test/e2e/cluster.test.ts covers that server).
      VIDSEARCH_WORKERS: '1',
    };
  });

  afterAll(async () => {
    for (const life of lives) if (life.child.exitCode === null && life.child.signalCode === null) life.child.kill('SIGKILL');
    await Promise.all(lives.map((l) => l.exited));
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('survives SIGTERM and SIGKILL mid-indexing: resumes at the next stage, no lost or doubled segments', async () => {
    // Life 1: no API keys → localhost only, said at start.
    const first = await startLife(env);
    expect(new URL(first.url).hostname).toBe('127.0.0.1');
    await waitForStderr(first, /no VIDSEARCH_API_KEYS configured: listening on localhost only/);
    expect(await (await fetch(`${first.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);

    const queued = await gql<{ indexVideo: { id: string; video: { id: string } } }>(first.url, 'mutation($p: String!) { indexVideo(input: { path: $p }) { id video { id } } }', { p: videoPath });
    const jobId = queued.indexVideo.id;
    const videoId = queued.indexVideo.video.id;
    const segmentsAt = stageIndex('segments');
    // Stages run side by side, so the job's current stage says little about which are done: wait
    // for the segments stage itself to be done in this life's metrics.
    const inFirst = await waitForStages(first.url, jobId, ['segments']);
    expect(inFirst.status, 'the first life finished before it could be stopped: make the video longer').toBe('RUNNING');
    const madeSegments = await segments(first.url, videoId);
    expect(madeSegments.length).toBeGreaterThanOrEqual(6);
    const doneInFirst = await stagesRun(first.url);

    first.child.kill('SIGTERM');
    expect(await first.exited, first.stderr()).toEqual({ code: 0, signal: null });
    expect(first.stderr()).toMatch(/job handed back to the queue \(shutdown\)/);

    // Life 2: picks the handed-back job up at once and skips what life 1 finished.
    const second = await startLife(env);
    const afterTerm = await job(second.url, jobId);
    expect(['QUEUED', 'RUNNING']).toContain(afterTerm.status);
    // Killed once it has finished a stage of its own (mid-indexing: later stages are still to run).
    const inSecond = await waitForJob(second.url, jobId, () => false, 240_000, async () => (await stagesRun(second.url)).length > 0);
    expect(inSecond.status, 'the second life finished before it could be killed').toBe('RUNNING');
    const ranInSecond = await stagesRun(second.url);
    expect(ranInSecond.filter((s) => stageIndex(s) <= segmentsAt || doneInFirst.includes(s))).toEqual([]);
    second.child.kill('SIGKILL');
    expect((await second.exited).signal).toBe('SIGKILL');

    // Life 3: the killed worker's heartbeat is stale after 1 s; the job is re-queued and resumed.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const third = await startLife(env);
    await waitForStderr(third, /re-queued jobs of a worker that stopped/);
    const finished = await waitForJob(third.url, jobId, () => false);
    expect(finished).toMatchObject({ status: 'SUCCEEDED', error: null, attempts: 3 });
    // Stages that finished in an earlier life never ran again.
    const ranInThird = await stagesRun(third.url);
    const finishedBeforeKill = [...doneInFirst, ...ranInSecond];
    expect(ranInThird.filter((s) => finishedBeforeKill.includes(s))).toEqual([]);
    expect(ranInThird).toContain(STAGES.at(-1));

    // Exactly the segments life 1 made: none lost, none doubled, still tiling the video.
    const final = await segments(third.url, videoId);
    expect(final).toEqual(madeSegments);
    expect(new Set(final.map((s) => s.id)).size).toBe(final.length);
    for (let i = 1; i < final.length; i += 1) expect(final[i]!.start).toBeCloseTo(final[i - 1]!.end, 3);
    expect(final.at(-1)!.end).toBeCloseTo(60, 0);
    const video = await gql<{ video: { status: string } }>(third.url, 'query($id: ID!) { video(id: $id) { status } }', { id: videoId });
    expect(video.video.status).toBe('READY');
    const metrics = await (await fetch(`${third.url}/metrics`)).text();
    expect(metrics).toMatch(/^vidsearch_index_jobs_finished_total\{outcome="succeeded"\} 1$/m);
    expect(metrics).toMatch(/^vidsearch_jobs\{status="SUCCEEDED"\} 1$/m);

    third.child.kill('SIGTERM');
    expect((await third.exited).code).toBe(0);
  }, 600_000);
});
