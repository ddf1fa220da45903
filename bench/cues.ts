// Cost of the intro/outro, technical-cue, quality and visual-moderation stages per minute of
// video on this machine, as one JSON line. Generates a 720p/25 fps programme with a shot change
// every 4 s and a tone track (or takes --video), builds its shots/segments with the real stages
// (not timed), then times fingerprints, technicalCues, quality and nsfw (classifier loaded first,
// its load reported apart). Wall and CPU seconds per minute of video, and the realtime multiple.
//   node dist/bench/cues.js [--minutes 1] [--video PATH]
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { loadConfig } from '../src/config.js';
import type { VideoRecord } from '../src/domain.js';
import { createFingerprintsStage } from '../src/indexers/fingerprints.js';
import { createNsfwStage } from '../src/indexers/nsfw.js';
import { probeStage } from '../src/indexers/probe.js';
import { createQualityStage } from '../src/indexers/quality.js';
import { segmentsStage } from '../src/indexers/segments.js';
import { shotsStage } from '../src/indexers/shots.js';
import type { StageContext } from '../src/indexers/stage.js';
import { technicalCuesStage } from '../src/indexers/technical-cues.js';
import { createLogger } from '../src/logger.js';
import { contentHash } from '../src/media/probe.js';
import { resolveMediaTools } from '../src/media/tools.js';
import { loadNsfwClassifier } from '../src/models/nsfw/index.js';
import { openEmbeddedStore } from '../src/store/embedded/index.js';

const run = promisify(execFile);
const round = (v: number, digits = 2): number => Math.round(v * 10 ** digits) / 10 ** digits;

async function timed<T>(work: () => Promise<T>): Promise<{ wallSec: number; cpuSec: number; result: T }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await work();
  const used = process.cpuUsage(cpu);
  // Child ffmpeg processes are not in cpuUsage: wall time is the honest total on a busy box.
  return { wallSec: (performance.now() - start) / 1000, cpuSec: (used.user + used.system) / 1e6, result };
}

async function generate(dir: string, minutes: number, ffmpeg: string): Promise<string> {
  const seconds = Math.round(minutes * 60);
  const sources = ['testsrc2', 'mandelbrot', 'life=mold=10:ratio=0.3', 'cellauto=rule=110', 'rgbtestsrc'];
  const shots = Math.ceil(seconds / 4);
  const chains = Array.from({ length: shots }, (_, i) => {
    const [name, opts] = sources[i % sources.length]!.split('=', 2) as [string, string | undefined];
    const rest = sources[i % sources.length]!.slice(name.length + 1);
    const src = `${name}=s=1280x720:r=25${opts ? `:${rest}` : ''}`;
    return `${src},trim=duration=4,setpts=PTS-STARTPTS,format=yuv420p[v${i}]`;
  });
  chains.push(`${Array.from({ length: shots }, (_, i) => `[v${i}]`).join('')}concat=n=${shots}:v=1:a=0[vout]`);
  const file = path.join(dir, 'bench-cues.mp4');
  await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-filter_complex', chains.join(';'), '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`,
    '-map', '[vout]', '-map', '0:a', '-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-c:a', 'aac', file], { maxBuffer: 16 * 1024 * 1024 });
  return file;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '1' }, video: { type: 'string' } } });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-bench-cues-'));
  const config = loadConfig({ ...process.env, VIDSEARCH_DATA_DIR: dir });
  const media = resolveMediaTools(config);
  const log = createLogger('warn');
  const store = await openEmbeddedStore(dir);
  try {
    const file = values.video ? path.resolve(values.video) : await generate(dir, Number(values.minutes), media.ffmpeg);
    const now = new Date().toISOString();
    let video: VideoRecord = {
      id: 'bench', path: file, contentHash: await contentHash(file), title: null, series: 'bench', season: null, episode: 1, durationSec: 0, fps: 0, width: 0,
      height: 0, rotation: 0, startTime: 0, hasAudio: false, status: 'INDEXING', error: null, createdAt: now, updatedAt: now,
    };
    await store.catalog.putVideo(video);
    const ctx = (): StageContext => ({ video, store, media, config, log, signal: new AbortController().signal, reportProgress: () => undefined });
    const probe = await probeStage.run(ctx(), {});
    video = (await store.catalog.getVideo(video.id))!;
    const shots = await shotsStage.run(ctx(), { probe });
    await segmentsStage.run(ctx(), { shots });

    const fingerprints = await timed(() => createFingerprintsStage().run(ctx(), { probe }));
    const cues = await timed(() => technicalCuesStage.run(ctx(), { fingerprints: fingerprints.result }));
    const quality = await timed(() => createQualityStage().run(ctx(), {}));
    const modelLoad = await timed(() => loadNsfwClassifier());
    const nsfw = await timed(() => createNsfwStage().run(ctx(), {}));
    const minutes = probe.durationSec / 60;
    const perMinute = (sec: number): number => round(sec / minutes);
    const stages = { fingerprints, technicalCues: cues, quality, nsfw };
    const totalWall = Object.values(stages).reduce((sum, s) => sum + s.wallSec, 0);
    process.stdout.write(`${JSON.stringify({
      bench: 'cues',
      video: { file: values.video ?? 'generated', durationSec: round(probe.durationSec), width: probe.width, height: probe.height, shots: shots.shots.length },
      wallSecPerMinute: Object.fromEntries(Object.entries(stages).map(([name, s]) => [name, perMinute(s.wallSec)])),
      nodeCpuSecPerMinute: Object.fromEntries(Object.entries(stages).map(([name, s]) => [name, perMinute(s.cpuSec)])),
      totalWallSecPerMinute: perMinute(totalWall),
      realtimeMultiple: round(probe.durationSec / totalWall, 1),
      nsfwModelLoadSec: round(modelLoad.wallSec),
      nsfwFrames: nsfw.result.frames,
      nsfwMsPerFrame: nsfw.result.msPerFrame,
      qualityFrames: quality.result.frames,
      technicalCues: cues.result.cues,
    })}\n`);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
