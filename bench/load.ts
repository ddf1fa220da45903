// HTTP load on loopback with autocannon against a real `vidsearch serve` child process over a
// synthetic library (segments, cues, text, appearance spans, frame descriptors, ads and tags, all
// written through the store interfaces). Each operation gets its own run: searchSegments,
// onlyWatch, searchByImage, matchAds. Prints one JSON line: per operation p50/p99 latency,
// requests per second and errors (transport errors, timeouts, non-2xx and GraphQL errors; goal 0),
// plus the server's peak RSS (goal ≤ 1.5 GB). Not part of `npm test`.
//   node dist/bench/load.js [--segments 1000000] [--duration 60] [--connections 64] [--ops searchSegments,onlyWatch]
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { FRAME_COLLECTION } from '../src/indexers/frames.js';
import { MobileNetDescriptor } from '../src/models/image-descriptors/mobilenet.js';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import { addLoadFixtures, buildSyntheticLibrary, QUERY_MIX, rng, syntheticVideoId } from './synthetic-library.js';

const { values } = parseArgs({
  options: {
    segments: { type: 'string', default: '1000000' },
    duration: { type: 'string', default: '60' },
    connections: { type: 'string', default: '64' },
    ops: { type: 'string', default: 'searchSegments,onlyWatch,searchByImage,matchAds' },
    'frames-per-video': { type: 'string', default: '10' },
  },
});
const segments = Number(values.segments);
const durationSec = Number(values.duration);
const connections = Number(values.connections);
const framesPerVideo = Number(values['frames-per-video']);
const SEGMENTS_PER_VIDEO = 100;
const API_KEY = 'bench-load-key';
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli.js');

type Body = { query: string; variables: Record<string, unknown> };

/** Request bodies per operation; autocannon cycles through them on every connection. */
async function bodies(casts: string[][]): Promise<Record<string, Body[]>> {
  const random = rng(7);
  const videos = casts.length;
  const someVideo = (): number => Math.floor(random() * videos);
  const still = await sharp({ create: { width: 320, height: 180, channels: 3, background: '#3060a0' } })
    .composite([{ input: { create: { width: 120, height: 80, channels: 3, background: '#e0c030' } }, left: 40, top: 50 }])
    .jpeg()
    .toBuffer();
  return {
    searchSegments: QUERY_MIX.map((q) => ({ query: 'query($q: String!) { searchSegments(query: $q, first: 20) { totalCount edges { node { score snippet segment { id start } } } } }', variables: { q } })),
    onlyWatch: Array.from({ length: 64 }, (_, i) => {
      const v = someVideo();
      const actorIds = [...new Set(Array.from({ length: 1 + (i % 3) }, () => casts[v]![Math.floor(random() * 8)]!))];
      return { query: 'query($v: ID!, $a: [ID!]!, $m: OnlyWatchMode!) { onlyWatch(videoId: $v, actorIds: $a, mode: $m) { totalSec share spans { start end } } }', variables: { v: syntheticVideoId(v), a: actorIds, m: i % 2 ? 'ALL' : 'ANY' } };
    }),
    searchByImage: [{ query: 'query($b: String!) { searchByImage(imageBase64: $b, first: 5) { at similarity video { id } } }', variables: { b: still.toString('base64') } }],
    matchAds: Array.from({ length: 64 }, () => {
      const v = someVideo();
      return { query: 'query($s: ID!) { matchAds(segmentId: $s, first: 5) { score ad { id } reasons { kind value } } }', variables: { s: `${syntheticVideoId(v)}_s${Math.floor(random() * SEGMENTS_PER_VIDEO)}` } };
    }),
  };
}

async function rssKb(pid: number): Promise<{ currentKb: number; peakKb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { currentKb: field('VmRSS'), peakKb: field('VmHWM') };
}

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-bench-load-'));
let server: ReturnType<typeof spawn> | null = null;
try {
  const buildStart = performance.now();
  const store = await openEmbeddedStore(dataDir);
  await buildSyntheticLibrary(store, { segments, segmentsPerVideo: SEGMENTS_PER_VIDEO, onProgress: (done) => done % 100_000 === 0 && process.stderr.write(`bench: ${done} segments written\n`) });
  const descriptor = new MobileNetDescriptor();
  const fixtures = await addLoadFixtures(store, { segments, segmentsPerVideo: SEGMENTS_PER_VIDEO, framesPerVideo, frameCollection: { name: FRAME_COLLECTION, dim: descriptor.dim, modelId: descriptor.modelId } });
  await store.close();
  const buildSec = (performance.now() - buildStart) / 1000;

  const child = spawn(process.execPath, [cli, 'serve', '--no-worker', '--port', '0'], {
    env: {
      ...process.env,
      VIDSEARCH_DATA_DIR: dataDir,
      VIDSEARCH_API_KEYS: `${API_KEY}:editor`,
      VIDSEARCH_HOST: '127.0.0.1',
      // The bench measures the server, not the per-key limiter.
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

  const requestsByOp = await bodies(fixtures.casts);
  const results: Record<string, unknown> = {};
  for (const op of values.ops.split(',')) {
    const list = requestsByOp[op];
    if (!list) throw new Error(`unknown operation ${op} (known: ${Object.keys(requestsByOp).join(', ')})`);
    // One request first: model loading and caches warm before the clock starts.
    const warm = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` }, body: JSON.stringify(list[0]) });
    const warmBody = await warm.text();
    const result = await autocannon({
      url: `${url}/graphql`,
      connections,
      duration: durationSec,
      timeout: 30,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      requests: list.map((body) => ({ method: 'POST' as const, body: JSON.stringify(body) })),
      // A GraphQL error arrives with status 200: count it as a failure too.
      verifyBody: (body) => typeof body === 'string' && !body.includes('"errors"'),
    });
    results[op] = {
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      requestsPerSec: result.requests.average,
      requests: result.requests.total,
      errors: result.errors + result.timeouts + result.non2xx + result.mismatches,
      errorDetail: { transport: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, graphqlErrors: result.mismatches },
      ...(warmBody.includes('"errors"') ? { sampleError: warmBody.slice(0, 300) } : {}),
    };
  }
  const rss = await rssKb(child.pid!);
  console.log(
    JSON.stringify({
      bench: 'load',
      segments,
      videos: fixtures.casts.length,
      frameDescriptors: fixtures.casts.length * framesPerVideo,
      ads: fixtures.adCount,
      buildSec: Number(buildSec.toFixed(1)),
      connections,
      durationSecPerOp: durationSec,
      results,
      serverRssMb: Math.round(rss.currentKb / 1024),
      serverPeakRssMb: Math.round(rss.peakKb / 1024),
      rssGoalMet: rss.peakKb / 1024 <= 1536,
    }),
  );
} finally {
  server?.kill('SIGTERM');
  if (server && server.exitCode === null) await new Promise((resolve) => server!.once('exit', resolve));
  await rm(dataDir, { recursive: true, force: true });
}
