// Foundation indexing speed: generates a 720p video (default 10 minutes, with a cut every few
// seconds and a subtitle track), indexes it through the real pipeline on a temporary store, and
// prints JSON with the speed as a multiple of realtime.
//   node dist/bench/indexing.js [--minutes 10] [--stages foundation|all|faces,ocr,…]
// `foundation` runs only the essential stages (probe, shots, segments, subtitles, text).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { resolveMediaTools } from '../src/media/tools.js';

const SCENE_SEC = 6;
const SOURCES = ['testsrc2', 'smptebars', 'mandelbrot', 'rgbtestsrc', 'cellauto'];

function srt(durationSec: number): string {
  const lines: string[] = [];
  for (let i = 0, t = 1; t + 2 < durationSec; i++, t += 4) {
    const ts = (s: number): string => new Date(s * 1000).toISOString().slice(11, 23).replace('.', ',');
    lines.push(`${i + 1}\n${ts(t)} --> ${ts(t + 2.5)}\n第${i + 1}句台词，今天天气很好\nLine ${i + 1}: the weather is nice\n`);
  }
  return lines.join('\n');
}

/**
 * A 30-second loop of five distinct scenes (one lavfi source each, bounded by its own duration),
 * repeated with stream copy up to the wanted length: cheap to make, a cut every SCENE_SEC.
 */
async function generate(ffmpeg: string, out: string, durationSec: number): Promise<void> {
  const loopSec = SCENE_SEC * SOURCES.length;
  const inputs = SOURCES.flatMap((src) => ['-f', 'lavfi', '-i', `${src}=size=1280x720:rate=25`]);
  const scenes = SOURCES.map((_, i) => `[${i}:v]trim=duration=${SCENE_SEC},setpts=PTS-STARTPTS,hue=h=${i * 67}[s${i}]`);
  const filter = `${scenes.join(';')};${SOURCES.map((_, i) => `[s${i}]`).join('')}concat=n=${SOURCES.length}:v=1:a=0,format=yuv420p[v]`;
  const loop = out.replace(/\.mp4$/, '.loop.mp4');
  await ffmpegRun(ffmpeg, [
    ...inputs, '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${loopSec}`,
    '-filter_complex', filter, '-map', '[v]', '-map', `${SOURCES.length}:a`,
    '-t', String(loopSec), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '250', '-c:a', 'aac', loop,
  ]);
  await ffmpegRun(ffmpeg, ['-stream_loop', String(Math.ceil(durationSec / loopSec) - 1), '-i', loop, '-t', String(durationSec), '-c', 'copy', out]);
}

async function ffmpegRun(ffmpeg: string, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(stderr.slice(-400)))));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { minutes: { type: 'string', default: '10' }, stages: { type: 'string', default: 'foundation' } },
  });
  const durationSec = Number(values.minutes) * 60;
  const enrichmentStages = values.stages === 'all' ? null : values.stages === 'foundation' ? [] : values.stages!.split(',');
  const work = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-bench-index-'));
  try {
    const base = loadConfig();
    const config = {
      ...base,
      dataDir: path.join(work, 'store'),
      mediaRoots: [work],
      indexing: { ...base.indexing, enrichmentStages },
    };
    const video = path.join(work, 'bench720p.mp4');
    const genStart = performance.now();
    await generate(resolveMediaTools(config).ffmpeg, video, durationSec);
    await writeFile(path.join(work, 'bench720p.srt'), srt(durationSec));
    const generateSec = (performance.now() - genStart) / 1000;

    const app = await createApp(config, { log: createLogger('warn') });
    try {
      const start = performance.now();
      const indexed = await app.indexNow({ path: video });
      const elapsedSec = (performance.now() - start) / 1000;
      const segments = await app.store.catalog.getSegmentsOfVideo(indexed.id);
      const shots = await app.store.catalog.getShots(indexed.id);
      console.log(
        JSON.stringify({
          bench: 'indexing',
          stages: values.stages,
          input: `generated 1280x720 25fps h264, ${durationSec}s, scene every ${SCENE_SEC}s, srt`,
          videoSec: indexed.durationSec,
          generateSec: Number(generateSec.toFixed(1)),
          indexSec: Number(elapsedSec.toFixed(2)),
          realtimeMultiple: Number((indexed.durationSec / elapsedSec).toFixed(1)),
          shots: shots.length,
          expectedShots: Math.ceil(durationSec / SCENE_SEC),
          segments: segments.length,
        }),
      );
    } finally {
      await app.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
