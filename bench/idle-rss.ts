// `npm run bench -- idle-rss`: what a server holds once it has indexed a video and sits idle (goal
// ≤ 400 MB, issue #22): RSS of the server process and its children together, sampled while it
// indexes (the peak), once it is idle, and again after a round of text queries. Two ways in:
// `demo` (default) indexes the demo's sample before it serves; `--command serve --video <file>`
// starts `vidsearch serve` (VIDSEARCH_WORKERS from the environment) and indexes the file through
// the indexVideo mutation, idle meaning the job is done and the server is back to the processes
// it started with. `--cli <dist/src/cli.js>` measures another build (e.g. main's) the same way, so
// before/after come from one run on one machine. Not part of `npm test`.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sampleTreeRss, treeRssKb } from './process-rss.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { cli: { type: 'string', multiple: true }, 'settle-sec': { type: 'string', default: '5' }, command: { type: 'string', default: 'demo' }, video: { type: 'string' } },
});
if (values.command !== 'demo' && values.command !== 'serve') throw new Error('--command is demo or serve');
if (values.command === 'serve' && !values.video) throw new Error('--command serve needs --video <file>');
const clis = values.cli?.length ? values.cli.map((c) => path.resolve(c)) : [path.join(here, '..', 'src', 'cli.js')];
const settleMs = Number(values['settle-sec']) * 1000;

const QUERIES = ['天气', 'walk in the park', '饺子'];
const mb = (kb: number): number => Math.round(kb / 1024);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function search(url: string, text: string): Promise<void> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'query($q: String!) { searchSegments(query: $q, first: 3) { totalCount } }', variables: { q: text } }),
  });
  if (!res.ok) throw new Error(`search "${text}" answered ${res.status}`);
}

async function postGraphql<T>(url: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (!body.data || body.errors) throw new Error(`GraphQL answered ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** Indexes `video` through the server and resolves once the job is done and the server has no more processes than `processes`. */
async function indexThroughServer(url: string, video: string, pid: number, processes: number): Promise<void> {
  const queued = await postGraphql<{ indexVideo: { id: string } }>(url, 'mutation($p: String!) { indexVideo(input: { path: $p }) { id } }', { p: video });
  for (;;) {
    const { job } = await postGraphql<{ job: { status: string; error: string | null } }>(url, 'query($id: ID!) { job(id: $id) { status error } }', { id: queued.indexVideo.id });
    if (job.status === 'FAILED' || job.status === 'CANCELLED') throw new Error(`indexing ${video}: ${job.status} ${job.error ?? ''}`);
    if (job.status === 'SUCCEEDED' && (await treeRssKb(pid)).processes <= processes) return;
    await sleep(500);
  }
}

async function measure(cli: string): Promise<Record<string, unknown>> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-idle-rss-'));
  const serve = values.command === 'serve';
  const args = serve ? [cli, 'serve', '--port', '0'] : [cli, 'demo', '--port', '0'];
  const env = { ...process.env, VIDSEARCH_DATA_DIR: dataDir, ...(serve ? { VIDSEARCH_MEDIA_ROOTS: path.dirname(path.resolve(values.video!)) } : {}) };
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const peak = sampleTreeRss(child.pid!);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        const match = /GraphQL at (http:\/\/\S+)\/graphql/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      void exited.then(() => reject(new Error(`${values.command} exited before serving:\n${stderr.slice(-2000)}`)));
    });
    if (serve) {
      await sleep(settleMs);
      const serving = await treeRssKb(child.pid!);
      await indexThroughServer(url, path.resolve(values.video!), child.pid!, serving.processes);
    }
    const peakKb = await peak.stop();
    await sleep(settleMs);
    const idle = await treeRssKb(child.pid!);
    for (const q of QUERIES) await search(url, q);
    await sleep(settleMs);
    const afterQueries = await treeRssKb(child.pid!);
    return { cli, peakWhileIndexingMB: mb(peakKb), idleMB: mb(idle.currentKb), idleProcesses: idle.processes, idleAfterQueriesMB: mb(afterQueries.currentKb) };
  } finally {
    await peak.stop();
    child.kill('SIGTERM');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}

const runs = [];
for (const cli of clis) runs.push(await measure(cli));
console.log(JSON.stringify({ bench: 'idle-rss', command: values.command, workers: process.env.VIDSEARCH_WORKERS ?? 'default', goalMB: 400, runs }));
