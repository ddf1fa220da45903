// HTTP load on loopback with autocannon against a real `vidsearch serve --workers N` child process
// over a synthetic library (segments, cues, text, appearance spans, frame descriptors — as many as
// segments by default —, ads and tags, all written through the store interfaces). Each operation
// gets one run per connection count (1 and 64 by default; same server, same library):
// searchSegments, onlyWatch, searchByImage, searchByImageMatch, matchAds. The synthetic frames have
// no stored evidence, so searchByImage (a drawn still) measures the no-match path; with
// --real-clip (default: a 10 s clip of ../shared/data, when present) the clip is indexed into the
// library once (`vidsearch index`; a kept library remembers it) and searchByImageMatch sends
// screenshots of it (frames ffmpeg grabs from the clip, 640 px JPEG), which take the match path
// (the bench reports how many of them found the clip). Prints one JSON line: per operation and
// connection count p50/p99 latency of answered requests, answered and refused (429 RATE_LIMITED:
// admission control or the rate limiter saying "come back later") per second, errors (transport
// errors, timeouts, other non-2xx and GraphQL errors; goal 0), a responsiveness probe (a cheap
// query every PROBE_EVERY_MS while the load runs), the load average around the run, the server's
// CPU ms per answer (all its processes, from /proc); per operation the ratio of answers per second
// at the most and at the fewest connections; and the RSS of every server process together (primary
// and workers; goal ≤ 1.5 GB): the peak of the sum, sampled every process-rss.ts's RSS_SAMPLE_MS,
// and the sum of each process's own peak (an upper bound).
// Between runs the bench waits until the server's admission lines are empty, so no run inherits
// the previous one's backlog. Not part of `npm test`.
//   node dist/bench/load.js [--segments 1000000] [--duration 60] [--connections 1,64] [--workers 2] [--ops searchSegments,onlyWatch] [--query-mix fixed|log]
//                           [--cpu-prof-dir DIR]   (V8 CPU profile of the server, written when it exits)
//                           [--keep-library DIR]   (build the library in DIR once and reuse it on later runs)
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { FRAME_COLLECTION, FRAME_COMPACT_COLLECTION } from '../src/indexers/frames.js';
import { MobileNetDescriptor } from '../src/models/image-descriptors/mobilenet.js';
import { compactProjectionFor } from '../src/models/image-descriptors/projection.js';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import { addLoadFixtures, buildSyntheticLibrary, QUERY_MIX, queryLog, syntheticVideoId, type LoadFixtures } from './synthetic-library.js';
import { seededRandom } from '../src/seeded-random.js';
import { sampleTreeRss, treeCpuMsByRole, treeRssKb } from './process-rss.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Tears of Steel, 10 s (four shots): real footage among the synthetic frames. */
const DEFAULT_REAL_CLIP = path.resolve(here, '../../../shared/data/video_blender/clip_01_tears_of_steel.mp4');
/** Seconds of the real clip the screenshot queries show (one per shot or so). */
const SCREENSHOT_TIMES = [1.5, 4.5, 7.5];

const OPTIONS = {
  segments: { type: 'string', default: '1000000' },
  duration: { type: 'string', default: '60' },
  connections: { type: 'string', default: '1,64' },
  workers: { type: 'string', default: String(os.availableParallelism()) },
  ops: { type: 'string', default: 'searchSegments,onlyWatch,searchByImage,searchByImageMatch,matchAds' },
  // 100 frame descriptors per video of 100 segments: as many frames as segments.
  'frames-per-video': { type: 'string', default: '100' },
  'cpu-prof-dir': { type: 'string' },
  'keep-library': { type: 'string' },
  'real-clip': { type: 'string', default: DEFAULT_REAL_CLIP },
  // fixed: QUERY_MIX's ten queries cycled (mostly answered from the ranking cache after the
  // first round); log: 4096 searches drawn from a Zipf-weighted log of 2000 distinct queries.
  'query-mix': { type: 'string', default: 'fixed' },
  help: { type: 'boolean', short: 'h' },
} as const;
const USAGE = `usage: node dist/bench/load.js [--segments 1000000] [--duration 60] [--connections 1,64] [--workers N]
         [--ops searchSegments,onlyWatch,searchByImage,matchAds] [--query-mix fixed|log] [--frames-per-video 100]
         [--cpu-prof-dir DIR]   V8 CPU profile of every server process, written when it exits
         [--keep-library DIR]   build the library in DIR once and reuse it on later runs
         [--real-clip FILE]     a clip indexed into the library, screenshots of which searchByImageMatch sends
                                (default: ../shared/data's Tears of Steel clip; '' for none)
Prints one JSON line: answers/s, latency, refusals, errors and server CPU per answer per operation
and connection count, and the server's RSS.`;

/** The options, or usage on stdout (--help) or stderr (a bad option) and exit. */
function parseOptions() {
  try {
    const { values } = parseArgs({ options: OPTIONS });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    return values;
  } catch (err) {
    process.stderr.write(`load: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    process.exit(2);
  }
}
const values = parseOptions();
const segments = Number(values.segments);
const durationSec = Number(values.duration);
const connectionCounts = values.connections.split(',').map(Number);
const workers = Number(values.workers);
const framesPerVideo = Number(values['frames-per-video']);
const SEGMENTS_PER_VIDEO = 100;
const API_KEY = 'bench-load-key';
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };
const PROBE_EVERY_MS = 250;
/** Longest wait for the previous operation's admitted and queued requests to finish. */
const DRAIN_LIMIT_MS = 120_000;
/** Longest wait for one warm-up request (the first image search loads the CNN). */
const WARM_LIMIT_MS = 120_000;
/** Longest wait for the image-search process to load (1M frames on a machine other jobs load: over 2 min). */
const IMAGES_LOAD_LIMIT_MS = 600_000;
const cli = path.resolve(here, '../src/cli.js');

type Body = { query: string; variables: Record<string, unknown> };

/** Request bodies per operation; autocannon cycles through them on every connection. */
const IMAGE_QUERY = 'query($b: String!) { searchByImage(imageBase64: $b, first: 5) { at similarity video { id } } }';

/** A frame of `clip` at `sec` as a 640 px wide JPEG, as a screenshot of the playing video would be. */
async function screenshot(clip: string, sec: number): Promise<Buffer> {
  const args = ['-v', 'error', '-ss', String(sec), '-i', clip, '-frames:v', '1', '-vf', 'scale=640:-2', '-q:v', '3', '-f', 'image2pipe', '-vcodec', 'mjpeg', '-'];
  const { stdout } = await promisify(execFile)(ffmpegInstaller.path, args, { encoding: 'buffer', maxBuffer: 16 << 20 });
  return stdout;
}

/** Indexes `clip` into the library unless a kept library already has it; the clip's video id. */
async function indexRealClip(dataDir: string, clip: string): Promise<string> {
  const marker = path.join(dataDir, 'bench-load-real-clip.json');
  const kept = await readFile(marker, 'utf8').then((text) => JSON.parse(text) as { clip: string; videoId: string }).catch(() => null);
  if (kept?.clip === clip) return kept.videoId;
  const { stdout } = await promisify(execFile)(process.execPath, [cli, 'index', clip, '--title', 'bench real clip'], {
    env: { ...process.env, VIDSEARCH_DATA_DIR: dataDir, VIDSEARCH_MEDIA_ROOTS: path.dirname(clip), VIDSEARCH_LOG_LEVEL: 'error' },
    maxBuffer: 16 << 20,
  });
  const { id } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { id: string };
  await writeFile(marker, JSON.stringify({ clip, videoId: id }));
  return id;
}

async function bodies(casts: string[][], realClip: string | null): Promise<Record<string, Body[]>> {
  const random = seededRandom(7);
  const videos = casts.length;
  const someVideo = (): number => Math.floor(random() * videos);
  const still = await sharp({ create: { width: 320, height: 180, channels: 3, background: '#3060a0' } })
    .composite([{ input: { create: { width: 120, height: 80, channels: 3, background: '#e0c030' } }, left: 40, top: 50 }])
    .jpeg()
    .toBuffer();
  return {
    searchSegments: (values['query-mix'] === 'log' ? queryLog(seededRandom(11), 4096) : QUERY_MIX).map((q) => ({ query: 'query($q: String!) { searchSegments(query: $q, first: 20) { totalCount edges { node { score snippet segment { id start } } } } }', variables: { q } })),
    onlyWatch: Array.from({ length: 64 }, (_, i) => {
      const v = someVideo();
      const actorIds = [...new Set(Array.from({ length: 1 + (i % 3) }, () => casts[v]![Math.floor(random() * 8)]!))];
      return { query: 'query($v: ID!, $a: [ID!]!, $m: OnlyWatchMode!) { onlyWatch(videoId: $v, actorIds: $a, mode: $m) { totalSec share spans { start end } } }', variables: { v: syntheticVideoId(v), a: actorIds, m: i % 2 ? 'ALL' : 'ANY' } };
    }),
    searchByImage: [{ query: IMAGE_QUERY, variables: { b: still.toString('base64') } }],
    searchByImageMatch: realClip ? await Promise.all(SCREENSHOT_TIMES.map(async (sec) => ({ query: IMAGE_QUERY, variables: { b: (await screenshot(realClip, sec)).toString('base64') } }))) : [],
    matchAds: Array.from({ length: 64 }, () => {
      const v = someVideo();
      return { query: 'query($s: ID!) { matchAds(segmentId: $s, first: 5) { score ad { id } reasons { kind value } } }', variables: { s: `${syntheticVideoId(v)}_s${Math.floor(random() * SEGMENTS_PER_VIDEO)}` } };
    }),
  };
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** A cheap query (one video by id) every PROBE_EVERY_MS until stopped: how long a bystander waits. */
function startProbe(url: string, body: Body): { stop(): Promise<{ probes: number; p50Ms: number | null; maxMs: number | null; failed: number }> } {
  const latencies: number[] = [];
  let failed = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const res = await fetch(`${url}/graphql`, { method: 'POST', headers: HEADERS, body: JSON.stringify(body) });
        const text = await res.text();
        if (res.status !== 200 || text.includes('"errors"')) failed += 1;
        else latencies.push(performance.now() - started);
      } catch {
        failed += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const sorted = latencies.sort((a, b) => a - b);
      const round = (v: number | null): number | null => (v === null ? null : Math.round(v));
      return { probes: latencies.length + failed, p50Ms: round(percentile(sorted, 0.5)), maxMs: round(sorted.at(-1) ?? null), failed };
    },
  };
}

/** Running plus waiting expensive operations, from the server's /metrics admission gauges. */
async function admissionBacklog(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => /^vidsearch_admission_(active|waiting)\{/.test(line))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** Seconds until the server's admission lines are empty; null when they are not within DRAIN_LIMIT_MS (a hung request). */
async function drain(url: string): Promise<number | null> {
  const started = performance.now();
  while ((await admissionBacklog(url)) > 0) {
    if (performance.now() - started > DRAIN_LIMIT_MS) return null;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return Number(((performance.now() - started) / 1000).toFixed(1));
}

/** Each distinct request once, one at a time; the first GraphQL error seen, or why a request did not answer. */
async function warmUp(url: string, list: readonly Body[]): Promise<{ ok: true } | { ok: false; error: string }> {
  for (const body of list) {
    try {
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { ...HEADERS, connection: 'close' }, body: JSON.stringify(body), signal: AbortSignal.timeout(WARM_LIMIT_MS) });
      const text = await res.text();
      if (text.includes('"errors"')) return { ok: false, error: text.slice(0, 300) };
    } catch (err) {
      return { ok: false, error: `no answer within ${WARM_LIMIT_MS / 1000} s (${err instanceof Error ? err.message : String(err)})` };
    }
  }
  return { ok: true };
}

/** Seconds from now until /readyz says the image-search process has loaded (one-process servers: at once); null past IMAGES_LOAD_LIMIT_MS. */
async function imagesReady(url: string): Promise<number | null> {
  const started = performance.now();
  for (;;) {
    const ready = (await (await fetch(`${url}/readyz`)).json()) as { workers?: { imageSearch?: string } };
    if ((ready.workers?.imageSearch ?? 'ready') === 'ready') return Number(((performance.now() - started) / 1000).toFixed(1));
    if (performance.now() - started > IMAGES_LOAD_LIMIT_MS) return null;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The real clip to index: --real-clip, or the default when ../shared/data is there; null for none. */
function realClipToIndex(): string | null {
  const clip = values['real-clip'];
  if (!clip) return null;
  if (existsSync(clip)) return path.resolve(clip);
  if (clip !== DEFAULT_REAL_CLIP) throw new Error(`--real-clip ${clip}: no such file`);
  process.stderr.write(`bench: ${clip} is missing: searchByImageMatch is skipped\n`);
  return null;
}

/** How many of the image queries answer with `videoId` first. */
async function findingVideo(url: string, list: readonly Body[], videoId: string): Promise<number> {
  let found = 0;
  for (const body of list) {
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: HEADERS, body: JSON.stringify(body) });
    const answer = (await res.json()) as { data?: { searchByImage: { video: { id: string } }[] } };
    if (answer.data?.searchByImage[0]?.video.id === videoId) found += 1;
  }
  return found;
}

const loadAverage = (): number[] => os.loadavg().map((v) => Number(v.toFixed(2)));

interface Built {
  fixtures: LoadFixtures;
  librarySec: number;
  buildSec: number;
}

async function buildLibrary(dataDir: string): Promise<Built> {
  const buildStart = performance.now();
  const store = await openEmbeddedStore(dataDir);
  await buildSyntheticLibrary(store, { segments, segmentsPerVideo: SEGMENTS_PER_VIDEO, onProgress: (done) => done % 100_000 === 0 && process.stderr.write(`bench: ${done} segments written\n`) });
  const librarySec = (performance.now() - buildStart) / 1000;
  const descriptor = new MobileNetDescriptor();
  const compact = compactProjectionFor(descriptor);
  const fixtures = await addLoadFixtures(store, {
    segments,
    segmentsPerVideo: SEGMENTS_PER_VIDEO,
    framesPerVideo,
    frameCollections: {
      full: { name: FRAME_COLLECTION, dim: descriptor.dim, modelId: descriptor.modelId },
      compact: { name: FRAME_COMPACT_COLLECTION, dim: compact.dim, modelId: compact.modelId, project: (v) => compact.project(v) },
    },
  });
  await store.close();
  return { fixtures, librarySec: Number(librarySec.toFixed(1)), buildSec: Number(((performance.now() - buildStart) / 1000).toFixed(1)) };
}

/** With --keep-library: the library built by an earlier run with the same size, else a new one kept there. */
async function keptLibrary(dir: string): Promise<Built> {
  const manifest = path.join(dir, `bench-load-${segments}-${framesPerVideo}.json`);
  try {
    return JSON.parse(await readFile(manifest, 'utf8')) as Built;
  } catch {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const built = await buildLibrary(dir);
    await writeFile(manifest, JSON.stringify(built));
    return built;
  }
}

interface RunResult {
  answeredPerSec: number;
  [field: string]: unknown;
}

/** One autocannon run of `connections` connections cycling through `list`. */
async function runLoad(url: string, serverPid: number, list: readonly Body[], connections: number, probeBody: Body): Promise<RunResult> {
  const drainSec = await drain(url);
  const loadBefore = loadAverage();
  const cpuBefore = await treeCpuMsByRole(serverPid);
  const startedUs = process.hrtime.bigint() / 1000n;
  const probe = startProbe(url, probeBody);
  const result = await autocannon({
    url: `${url}/graphql`,
    connections,
    duration: durationSec,
    timeout: 30,
    headers: HEADERS,
    requests: list.map((body) => ({ method: 'POST' as const, body: JSON.stringify(body) })),
    // A GraphQL error arrives with status 200: count it as a failure too. RATE_LIMITED (429,
    // "come back later") is counted apart, as refused.
    verifyBody: (body) => typeof body === 'string' && (!body.includes('"errors"') || body.includes('"code":"RATE_LIMITED"')),
  });
  const probed = await probe.stop();
  const endedUs = process.hrtime.bigint() / 1000n;
  const cpuAfter = await treeCpuMsByRole(serverPid);
  const cpuByRole = Object.fromEntries(Object.entries(cpuAfter).map(([role, ms]) => [role, ms - (cpuBefore[role] ?? 0)]));
  const serverCpuMs = Object.values(cpuByRole).reduce((sum, ms) => sum + ms, 0);
  const refused = result.statusCodeStats?.['429']?.count ?? 0;
  const answered = (result.statusCodeStats?.['200']?.count ?? 0) - result.mismatches;
  return {
    // Latencies of 2xx answers only (autocannon leaves refusals out).
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    answeredPerSec: Number((answered / durationSec).toFixed(1)),
    answered,
    // Server CPU (every process) per answer, probes and refusals included: the per-query cost,
    // comparable across runs on a machine other work shares.
    serverCpuMsPerAnswer: answered > 0 ? Number((serverCpuMs / answered).toFixed(2)) : null,
    // The same by process (primary, http: the HTTP workers together, images, tool-launcher, …).
    serverCpuMsPerAnswerByRole: answered > 0 ? Object.fromEntries(Object.entries(cpuByRole).map(([role, ms]) => [role, Number((ms / answered).toFixed(2))])) : null,
    refusedPerSec: Number((refused / durationSec).toFixed(1)),
    refused,
    errors: result.errors + result.timeouts + (result.non2xx - refused) + result.mismatches,
    errorDetail: { transport: result.errors, timeouts: result.timeouts, non2xx: result.non2xx - refused, graphqlErrors: result.mismatches },
    probe: probed,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadAverage(),
    drainSecBefore: drainSec,
    // The run's span on the monotonic clock V8 CPU profiles use (--cpu-prof-dir): cut a profile to it.
    monotonicSpanUs: [Number(startedUs), Number(endedUs)],
  };
}

const keepDir = values['keep-library'] ? path.resolve(values['keep-library']) : null;
const dataDir = keepDir ?? (await mkdtemp(path.join(os.tmpdir(), 'vidsearch-bench-load-')));
let server: ReturnType<typeof spawn> | null = null;
try {
  const { fixtures, librarySec, buildSec } = keepDir ? await keptLibrary(keepDir) : await buildLibrary(dataDir);
  const realClip = realClipToIndex();
  const realClipVideoId = realClip ? await indexRealClip(dataDir, realClip) : null;

  const profileFlags = values['cpu-prof-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values['cpu-prof-dir'])}`] : [];
  const child = spawn(process.execPath, [...profileFlags, cli, 'serve', '--no-worker', '--port', '0', '--workers', String(workers)], {
    env: {
      ...process.env,
      VIDSEARCH_DATA_DIR: dataDir,
      VIDSEARCH_API_KEYS: `${API_KEY}:editor`,
      VIDSEARCH_HOST: '127.0.0.1',
      // The bench measures the server, not the per-key limiter (admission control stays as configured).
      VIDSEARCH_RATE_PER_SEC: '1000000',
      VIDSEARCH_RATE_BURST: '1000000',
      VIDSEARCH_LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  server = child;
  const url = await new Promise<string>((resolve, reject) => {
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      const match = /GraphQL at (http:\/\/\S+)\/graphql/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${stderr}`)));
  });

  // The image-search process loads its CNN and frame matrices at start (at 1M frames ~40–70 s);
  // image searches wait for it, so the bench does too, and reports how long it took.
  const imageSearchLoadSec = await imagesReady(url);
  const requestsByOp = await bodies(fixtures.casts, realClip);
  const probeBody: Body = { query: 'query($v: ID!) { video(id: $v) { id title } }', variables: { v: syntheticVideoId(0) } };
  const rssSampler = sampleTreeRss(child.pid!);
  const results: Record<string, unknown> = {};
  for (const op of values.ops.split(',')) {
    const list = requestsByOp[op];
    if (!list) throw new Error(`unknown operation ${op} (known: ${Object.keys(requestsByOp).join(', ')})`);
    if (list.length === 0) {
      results[op] = { skipped: 'no --real-clip' };
      continue;
    }
    const drainSec = await drain(url);
    // Each distinct request once first: model loading and caches (statements, the pages of the
    // text index each query reads, each worker's vector matrices) warm before the clock starts, so
    // a cold start does not pass for the tail of 64 concurrent connections. Every worker warms:
    // each distinct request is sent once per worker. An operation that does not answer is
    // reported as failed and the bench goes on with the next one. (warmUp opens a connection per
    // request and the primary hands connections out in turn, so consecutive copies reach each worker.)
    const warm = await warmUp(url, list.flatMap((body) => Array.from({ length: workers }, () => body)));
    if (!warm.ok && warm.error.startsWith('no answer')) {
      results[op] = { failed: warm.error, drainSecBefore: drainSec };
      process.stderr.write(`bench: ${op} ${JSON.stringify(results[op])}\n`);
      continue;
    }
    const byConnections: Record<string, RunResult> = {};
    for (const connections of connectionCounts) {
      byConnections[connections] = { ...(await runLoad(url, child.pid!, list, connections, probeBody)), ...(warm.ok ? {} : { sampleError: warm.error }) };
      process.stderr.write(`bench: ${op} × ${connections} ${JSON.stringify(byConnections[connections])}\n`);
    }
    const fewest = byConnections[Math.min(...connectionCounts)]!;
    const most = byConnections[Math.max(...connectionCounts)]!;
    const found = op === 'searchByImageMatch' && realClipVideoId ? { screenshotsFindingTheClip: `${await findingVideo(url, list, realClipVideoId)}/${list.length}` } : {};
    results[op] = { ...byConnections, ...found, scaling: fewest.answeredPerSec > 0 ? Number((most.answeredPerSec / fewest.answeredPerSec).toFixed(2)) : null };
  }
  const peakSumKb = await rssSampler.stop();
  const rss = await treeRssKb(child.pid!);
  console.log(
    JSON.stringify({
      bench: 'load',
      segments,
      videos: fixtures.casts.length,
      frameDescriptors: fixtures.casts.length * framesPerVideo,
      ads: fixtures.adCount,
      librarySec,
      buildSec,
      imageSearchLoadSec,
      workers,
      realClip: realClip ? { path: realClip, videoId: realClipVideoId } : null,
      queryMix: values['query-mix'],
      connections: connectionCounts,
      durationSecPerRun: durationSec,
      cores: os.availableParallelism(),
      results,
      serverProcesses: rss.processes,
      serverRssMb: Math.round(rss.currentKb / 1024),
      serverPeakRssMb: Math.round(peakSumKb / 1024),
      serverPeakRssUpperBoundMb: Math.round(rss.peakKb / 1024),
      // Each process's own peak (primary first, then its children: image search, HTTP workers).
      serverPeakRssMbPerProcess: rss.each.map((r) => Math.round(r.peakKb / 1024)),
      rssGoalMet: peakSumKb / 1024 <= 1536,
    }),
  );
} finally {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    server.kill('SIGTERM');
    // A graceful stop waits for requests in flight; one that hangs must not hang the bench.
    const forced = setTimeout(() => server!.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(forced);
  }
  if (!keepDir) await rm(dataDir, { recursive: true, force: true });
}
