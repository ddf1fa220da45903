// `npm run bench -- idle-rss`: what the demo server holds once it has indexed its sample and sits
// idle (goal ≤ 400 MB, issue #22): RSS of the demo process and its children together, sampled
// while it indexes (the peak), a few seconds after it serves, and again after a round of the
// demo's text queries. `--cli <dist/src/cli.js>` measures another build (e.g. main's) the same
// way, so before/after come from one run on one machine. Not part of `npm test`.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sampleTreeRss, treeRssKb } from './process-rss.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { cli: { type: 'string', multiple: true }, 'settle-sec': { type: 'string', default: '5' } } });
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

async function measure(cli: string): Promise<Record<string, unknown>> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-idle-rss-'));
  const child = spawn(process.execPath, [cli, 'demo', '--port', '0'], { env: { ...process.env, VIDSEARCH_DATA_DIR: dataDir }, stdio: ['ignore', 'ignore', 'pipe'] });
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
      void exited.then(() => reject(new Error(`demo exited before serving:\n${stderr.slice(-2000)}`)));
    });
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
console.log(JSON.stringify({ bench: 'idle-rss', command: 'demo', goalMB: 400, runs }));
