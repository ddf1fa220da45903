// `vidsearch demo`: works on a fresh machine without ../shared. Generates a sample video (lavfi
// scenes with hard cuts and a fade, a tone track) with a bilingual zh/en .srt beside it, indexes it
// with a progress bar (in a child process, so its models leave with it), serves GraphQL and prints
// ready-to-paste queries. `--once` runs the queries and exits non-zero when an answer is missing
// (CI uses it).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createApp } from '../app.js';
import type { Config } from '../config.js';
import { ChildProcessJobRunner } from '../jobs/child-runner.js';
import type { Logger } from '../logger.js';
import { resolveMediaTools } from '../media/tools.js';
import { startServer } from '../server.js';
import { indexInChildProcess } from './index-child.js';
import { createJobProgressBar } from './progress.js';
import { onShutdown } from './shutdown.js';

const SAMPLE_SRT = `1
00:00:00,500 --> 00:00:03,200
今天天气很好
The weather is nice today

2
00:00:04,400 --> 00:00:07,400
我们去公园散步吧
Let's take a walk in the park

3
00:00:08,600 --> 00:00:11,300
小心，前面有一只猫
Careful, there is a cat ahead

4
00:00:12,500 --> 00:00:15,500
晚饭想吃饺子还是面条？
Dumplings or noodles for dinner?
`;

/** Four 4-second scenes: three hard cuts, the last scene fading in from black. */
function sampleVideoArgs(out: string): string[] {
  const size = '640x360';
  return [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25:duration=4`,
    '-f', 'lavfi', '-i', `smptebars=size=${size}:rate=25:duration=4`,
    '-f', 'lavfi', '-i', `mandelbrot=size=${size}:rate=25`,
    '-f', 'lavfi', '-i', `color=c=0x2060a0:size=${size}:rate=25:duration=4`,
    '-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=16000:duration=16',
    '-filter_complex',
    '[2:v]trim=duration=4,setpts=PTS-STARTPTS[m];' +
      '[3:v]drawbox=x=220:y=120:w=200:h=120:color=yellow@0.9:t=fill,fade=t=in:st=0:d=1[c];' +
      '[0:v][1:v][m][c]concat=n=4:v=1:a=0,format=yuv420p[v]',
    '-map', '[v]', '-map', '4:a',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '26', '-g', '50',
    '-c:a', 'aac', '-b:a', '64k', '-shortest',
    out,
  ];
}

async function run(bin: string, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${stderr.slice(-500)}`))));
  });
}

export async function ensureDemoSample(config: Config, dir: string): Promise<string> {
  const video = path.join(dir, 'vidsearch-demo.mp4');
  await mkdir(dir, { recursive: true });
  if (!existsSync(video)) {
    process.stderr.write('demo: generating a 16-second sample video with ffmpeg…\n');
    await run(resolveMediaTools(config).ffmpeg, sampleVideoArgs(video));
  }
  await writeFile(path.join(dir, 'vidsearch-demo.srt'), SAMPLE_SRT);
  return video;
}

interface DemoQuery {
  title: string;
  query: string;
  /** Must hold for the answer to count (so `demo --once` fails loudly when something broke). */
  check(data: Record<string, unknown>): boolean;
}

const edgesOf = (value: unknown): unknown[] =>
  ((value as { edges?: unknown[] } | undefined)?.edges ?? []);

const DEMO_QUERIES: DemoQuery[] = [
  {
    title: 'Videos and their segments',
    query: '{ videos(first: 5) { totalCount edges { node { id title durationSec segments(first: 10) { totalCount edges { node { start end } } } } } } }',
    check: (d) => edgesOf(d.videos).length > 0,
  },
  {
    title: 'Chinese dialogue search (天气 finds 今天天气很好)',
    query: '{ searchSegments(query: "天气", first: 3) { totalCount edges { node { score snippet cue { start end text kind } segment { start end video { title } } } } } }',
    check: (d) => edgesOf(d.searchSegments).length > 0,
  },
  {
    title: 'English dialogue search',
    query: '{ searchSegments(query: "walk in the park", first: 3) { edges { node { snippet cue { start end text } } } } }',
    check: (d) => edgesOf(d.searchSegments).length > 0,
  },
];

async function postGraphql(url: string, query: string): Promise<{ data?: Record<string, unknown>; errors?: unknown[] }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
}

export async function demoCommand(config: Config, log: Logger, opts: { once?: boolean; port?: number }): Promise<void> {
  const sampleDir = path.join(config.dataDir, 'demo');
  const demoConfig: Config = { ...config, mediaRoots: [sampleDir, ...config.mediaRoots] };
  const video = await ensureDemoSample(demoConfig, sampleDir);

  // Indexed in a child process that exits: the models indexing loads do not stay in the server.
  const bar = createJobProgressBar('indexing demo sample');
  try {
    const request = { path: video, title: 'vidsearch demo', series: 'Demo', season: 1, episode: 1 };
    const indexed = await indexInChildProcess({ config: demoConfig, request }, (job) => bar.update(job));
    bar.stop();
    process.stderr.write(`demo: indexed ${indexed.id} (${indexed.durationSec.toFixed(1)} s)\n`);
  } catch (err) {
    bar.stop();
    throw err;
  }

  const app = await createApp(demoConfig, { log });
  const port = opts.once ? (opts.port ?? 0) : (opts.port ?? config.port);
  const server = await startServer(app, { port, host: demoConfig.host });
  if (!opts.once) {
    // --once closes the server after its own queries, so it prints no curl lines nobody could run.
    process.stderr.write(`demo: GraphQL at ${server.url}/graphql, editors' console at ${server.url}/console\n\nTry:\n`);
    for (const q of DEMO_QUERIES) {
      process.stderr.write(`\n# ${q.title}\ncurl -s ${server.url}/graphql -H 'content-type: application/json' \\\n  -d '${JSON.stringify({ query: q.query })}'\n`);
    }
    process.stderr.write('\nCtrl-C (or SIGTERM) stops the server.\n');
    // Videos indexed through the demo server run in a child process too (see serve.ts).
    const indexing = new ChildProcessJobRunner(app);
    await indexing.start();
    await onShutdown(log, async () => {
      await server.close();
      await indexing.stop();
      await app.close();
    });
    return;
  }

  let failed = 0;
  try {
    for (const q of DEMO_QUERIES) {
      const answer = await postGraphql(server.url, q.query);
      const ok = !answer.errors && answer.data !== undefined && q.check(answer.data);
      if (!ok) failed += 1;
      process.stdout.write(`${JSON.stringify({ query: q.title, ok, answer })}\n`);
    }
  } finally {
    await server.close();
    await app.close();
  }
  if (failed > 0) throw new Error(`demo: ${failed} of ${DEMO_QUERIES.length} sample queries gave no answer`);
  process.stderr.write(`demo: all ${DEMO_QUERIES.length} sample queries answered\n`);
}
