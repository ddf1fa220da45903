// OCR speed on this machine, as one JSON line:
//  - ms per frame: a subtitle-band crop and a whole frame of the burned-in subtitle video, read
//    one at a time, and the throughput of the work pool with 1 and 2 worker threads;
//  - the `ocr` stage on that video (fresh temporary store): frames sampled vs frames that reached
//    OCR, frames OCR'd per minute of video, and speed as a multiple of realtime.
//   node dist/bench/ocr.js [--frames 20] [--video PATH]
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { createOcrStage, OCR_DECODE_WIDTH } from '../src/indexers/ocr.js';
import { createLogger } from '../src/logger.js';
import { streamFrames } from '../src/media/frames.js';
import { contentHash, probeMedia } from '../src/media/probe.js';
import { resolveMediaTools } from '../src/media/tools.js';
import { probedVideoFields } from '../src/services/indexing.service.js';
import { createOcrPool, InProcessExecutor, OcrWorkPool } from '../src/models/ocr/pool.js';
import type { RawImage } from '../src/models/types.js';
import { openEmbeddedStore } from '../src/store/embedded/index.js';

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await work();
  return { ms: performance.now() - start, result };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { frames: { type: 'string', default: '20' }, video: { type: 'string' } } });
  const video = values.video ?? path.resolve(repoRoot(), '../shared/data/derived/burned_subs/tos_clip_zh_burned.mp4');
  if (!existsSync(video)) {
    process.stderr.write(`bench ocr: ${video} is absent (../shared/data missing?)\n`);
    process.exitCode = 2;
    return;
  }
  const media = resolveMediaTools({ ffmpegPath: null, ffprobePath: null });
  const probe = await probeMedia(media, video);
  const width = Math.min(OCR_DECODE_WIDTH, probe.width);
  const count = Number(values.frames);

  // Frames spread over the video, as the stage decodes them (grey, ≤ 960 wide).
  const frames: RawImage[] = [];
  const step = Math.max(probe.durationSec / count, 0.1);
  for await (const frame of streamFrames(media, video, { fps: 1 / step, width, pixFmt: 'gray' })) {
    frames.push({ data: new Uint8Array(frame.data), width: frame.width, height: frame.height, channels: 1 });
    if (frames.length >= count) break;
  }
  const bands = frames.map((f): RawImage => {
    const top = Math.floor(f.height * 0.7);
    return { data: f.data.subarray(top * f.width), width: f.width, height: f.height - top, channels: 1 };
  });

  const single = new OcrWorkPool([new InProcessExecutor()]);
  await single.read(frames[0]!);
  const perBand = await timed(async () => {
    for (const band of bands) await single.read(band);
  });
  const perFrame = await timed(async () => {
    for (const frame of frames) await single.read(frame);
  });

  const poolThroughput: Record<string, number> = {};
  for (const workers of [1, 2]) {
    const pool = createOcrPool(workers);
    await Promise.all(frames.slice(0, workers).map((f) => pool.read(f)));
    const run = await timed(() => Promise.all(frames.map((f) => pool.read(f))));
    poolThroughput[`workers${workers}`] = round(run.ms / frames.length);
    await pool.close();
  }

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-bench-ocr-'));
  const store = await openEmbeddedStore(dataDir);
  try {
    const now = new Date().toISOString();
    const record = {
      id: 'bench_ocr',
      path: video,
      contentHash: await contentHash(video),
      title: null,
      series: null,
      season: null,
      episode: null,
      ...probedVideoFields(probe),
      status: 'INDEXING' as const,
      error: null,
      createdAt: now,
      updatedAt: now,
    };
    await store.catalog.putVideo(record);
    const log = createLogger('warn');
    const stage = createOcrStage();
    const config = loadConfig(process.env, process.cwd());
    const run = await timed(() =>
      stage.run({ video: record, store, media, config, log, signal: new AbortController().signal, reportProgress: () => undefined }, {}),
    );
    const out = run.result;
    const minutes = probe.durationSec / 60;
    process.stdout.write(
      `${JSON.stringify({
        bench: 'ocr',
        video: path.basename(video),
        durationSec: round(probe.durationSec, 2),
        decodeWidth: width,
        loadAverage: os.loadavg().map((l) => round(l, 2)),
        msPerBandCrop: round(perBand.ms / bands.length),
        msPerFullFrame: round(perFrame.ms / frames.length),
        poolMsPerFrame: poolThroughput,
        stage: {
          framesSampled: out.framesSampled,
          framesOcr: out.framesOcr,
          keyframes: out.keyframes,
          keyframesOcr: out.keyframesOcr,
          framesOcrPerMinute: round((out.framesOcr + out.keyframesOcr) / minutes),
          subtitleCues: out.subtitleCues,
          onScreenCues: out.onScreenCues,
          wallSec: round(run.ms / 1000, 2),
          realtimeMultiple: round(probe.durationSec / (run.ms / 1000), 2),
        },
      })}\n`,
    );
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
