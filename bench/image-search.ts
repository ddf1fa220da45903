// Image search costs, as one JSON line:
//  - indexing: the `frames` stage on the dev videos of ../shared/data (ms per video second →
//    compute seconds per hour of video; kept frames and on-disk index bytes per hour);
//  - query: searchByImage on the dev screenshots (upload decode, CNN variants, vector search,
//    ORB verification) with the dev videos plus SYNTHETIC_FRAMES random frames in the index;
//  - scan: the store's exact VectorIndex scan at 1M frames for a reduced first-stage dimension
//    (what a PCA/int8 first stage would have to scan), p50/p99.
//   node dist/bench/image-search.js      IMAGE_BENCH_SYNTHETIC=100000 IMAGE_BENCH_SCAN=1000000:128
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import type { VideoRecord } from '../src/domain.js';
import { createFramesStage, FRAME_COLLECTION } from '../src/indexers/frames.js';
import { probeMedia } from '../src/media/probe.js';
import { resolveMediaTools } from '../src/media/tools.js';
import { OrbMatcher } from '../src/models/image-descriptors/local-features.js';
import { MobileNetDescriptor } from '../src/models/image-descriptors/mobilenet.js';
import { createImageSearchService, ffmpegFrameSource } from '../src/services/image-search.js';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import type { VectorPoint } from '../src/store/interfaces.js';
import { rng } from './synthetic-library.js';

// Benches run from the repo root (npm run bench); the shared media sit beside it.
const dataDir = path.resolve(process.cwd(), '../shared/data');
const SYNTHETIC = Number(process.env.IMAGE_BENCH_SYNTHETIC ?? 100_000);
const [SCAN_N, SCAN_DIM] = (process.env.IMAGE_BENCH_SCAN ?? '1000000:128').split(':').map(Number) as [number, number];
const BATCH = 5_000;

const random = rng(11);
const log = pino({ level: 'silent' });

function percentiles(samples: number[]): { p50Ms: number; p99Ms: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return { p50Ms: Math.round(at(50) * 10) / 10, p99Ms: Math.round(at(99) * 10) / 10 };
}

function unitVector(dim: number): Float32Array {
  const v = Float32Array.from({ length: dim }, () => random() - 0.5);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    total += entry.isDirectory() ? await dirBytes(file) : (await stat(file)).size;
  }
  return total;
}

async function addSynthetic(store: Awaited<ReturnType<typeof openEmbeddedStore>>, collection: string, n: number, dim: number): Promise<void> {
  for (let start = 0; start < n; start += BATCH) {
    const points: VectorPoint[] = [];
    for (let i = start; i < Math.min(n, start + BATCH); i++) {
      points.push({ id: `synthetic:${i}`, vector: unitVector(dim), payload: { videoId: `synthetic-${i % 1000}`, time: (i / 1000) * 0.5, from: 0, to: 0 } });
    }
    await store.vectors.upsert(collection, points);
  }
}

const manifest = JSON.parse(await readFile(path.join(dataDir, 'image-search-hard.json'), 'utf8')) as {
  videos: { id: string; path: string }[];
  queries: { image: string }[];
};
const dev = JSON.parse(await readFile(path.join(dataDir, 'image-search.json'), 'utf8')) as { queries: { image: string }[] };
const media = resolveMediaTools({ ffmpegPath: null, ffprobePath: null });
const descriptor = new MobileNetDescriptor();
const dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-image-bench-'));
const store = await openEmbeddedStore(dir);
try {
  // Indexing cost on real videos.
  const before = await dirBytes(dir);
  let videoSec = 0;
  let kept = 0;
  let indexMs = 0;
  for (const entry of manifest.videos) {
    const file = path.join(dataDir, entry.path);
    const probe = await probeMedia(media, file);
    const now = new Date().toISOString();
    const video: VideoRecord = {
      ...{ id: entry.id, path: file, contentHash: entry.id, title: entry.id, series: null, season: null, episode: null },
      ...{ durationSec: probe.durationSec, fps: probe.fps, width: probe.width, height: probe.height, rotation: 0, startTime: probe.startTime },
      ...{ hasAudio: probe.hasAudio, status: 'READY', error: null, createdAt: now, updatedAt: now },
    };
    await store.catalog.putVideo(video);
    const start = performance.now();
    const out = await createFramesStage({ descriptor }).run(
      { video, store, media, config: loadConfig({}), log, signal: new AbortController().signal, reportProgress: () => undefined },
      {},
    );
    indexMs += performance.now() - start;
    videoSec += probe.durationSec;
    kept += out.kept;
  }
  const indexBytes = (await dirBytes(dir)) - before;
  const perHour = 3600 / videoSec;

  // Queries over the real videos plus synthetic frames.
  await addSynthetic(store, FRAME_COLLECTION, SYNTHETIC, descriptor.dim);
  const service = createImageSearchService({ store, log, descriptor, matcher: new OrbMatcher(), ...ffmpegFrameSource(media) });
  const images = [...dev.queries, ...manifest.queries].map((q) => path.join(dataDir, q.image));
  await service.searchByImage({ image: await readFile(images[0]!) }); // warm-up: model load, matrix load
  const total: number[] = [];
  for (const image of images) {
    const bytes = await readFile(image);
    const start = performance.now();
    await service.searchByImage({ image: bytes, first: 5 });
    total.push(performance.now() - start);
  }

  // Exact first-stage scan at 1M frames, reduced dimension.
  const scanCollection = 'bench-frames-reduced';
  await store.vectors.ensureCollection({ name: scanCollection, dim: SCAN_DIM, metric: 'cosine', modelId: 'bench' });
  await addSynthetic(store, scanCollection, SCAN_N, SCAN_DIM);
  await store.vectors.search(scanCollection, unitVector(SCAN_DIM), 40);
  const scans: number[] = [];
  for (let i = 0; i < 50; i++) {
    const start = performance.now();
    await store.vectors.search(scanCollection, unitVector(SCAN_DIM), 40);
    scans.push(performance.now() - start);
  }

  process.stdout.write(
    `${JSON.stringify({
      bench: 'image-search',
      indexing: {
        videoSec: Math.round(videoSec * 10) / 10,
        msPerVideoSec: Math.round(indexMs / videoSec),
        computeSecPerHour: Math.round(((indexMs / 1000) * perHour) / 10) * 10,
        keptFramesPerHour: Math.round(kept * perHour),
        indexMBPerHour: Math.round(((indexBytes * perHour) / 1e6) * 10) / 10,
        descriptor: descriptor.modelId,
        dim: descriptor.dim,
      },
      query: { indexFrames: kept + SYNTHETIC, syntheticFrames: SYNTHETIC, queries: total.length, ...percentiles(total) },
      scan: { frames: SCAN_N, dim: SCAN_DIM, ...percentiles(scans) },
    })}\n`,
  );
} finally {
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
