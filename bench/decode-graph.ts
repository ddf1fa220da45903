// The CPU of the one shared picture decode, alone: the frame requests every indexing stage
// declares for the real 720p bench footage (bench/real-footage.ts) served by one MediaSource, as
// in an indexing job where every stage runs, and read to the end (no models run). Prints one JSON
// line: ffmpeg's own CPU (user+sys of the reaped child), this process's CPU (delivery: pipes,
// record assembly, spooling), wall, and the frames each output gave.
//   node dist/bench/decode-graph.js [--minutes 3] [--data ../shared/data] [--dist /work/main/dist]
// --dist runs another build's media source and stages (e.g. main's, for an A/B on one machine):
// the decode graph is whatever that build's session builds for the same requests.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import type { VideoRecord } from '../src/domain.js';
import type * as Pipeline from '../src/indexers/pipeline.js';
import type * as Source from '../src/media/source.js';
import { probeMedia } from '../src/media/probe.js';
import { resolveMediaTools } from '../src/media/tools.js';
import { realFootage } from './real-footage.js';

const TICKS_PER_SEC = 100;

/** CPU seconds of this process and of its reaped children (ffmpeg), from /proc/self/stat. */
function cpuSeconds(): { self: number; children: number } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const [utime, stime, cutime, cstime] = stat.slice(stat.lastIndexOf(')') + 2).split(' ').slice(11, 15).map(Number) as [number, number, number, number];
  return { self: (utime + stime) / TICKS_PER_SEC, children: (cutime + cstime) / TICKS_PER_SEC };
}

const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { minutes: { type: 'string', default: '3' }, data: { type: 'string', default: path.resolve('../shared/data') }, dist: { type: 'string' } },
  });
  const config = loadConfig();
  const tools = resolveMediaTools(config);
  const footage = await realFootage(tools.ffmpeg, values.data!, Math.round(Number(values.minutes) * 60));
  if (!footage) {
    process.stderr.write(`decode-graph: no videos under ${values.data}; skipped\n`);
    return;
  }
  const build = values.dist ? path.resolve(values.dist, 'src') : path.resolve(path.dirname(new URL(import.meta.url).pathname), '../src');
  const { MediaSource } = (await import(path.join(build, 'media/source.js'))) as typeof Source;
  const { INDEX_STAGES } = (await import(path.join(build, 'indexers/pipeline.js'))) as typeof Pipeline;
  const probe = await probeMedia(tools, footage.file);
  // Only what the stages' declarations read (the stored record's size).
  const video = { width: probe.width, height: probe.height, durationSec: probe.durationSec, fps: probe.fps } as VideoRecord;
  const declared = INDEX_STAGES.flatMap((s) => (s.media ? [{ stage: s.name, needs: s.media(video, config) }] : []));
  const source = new MediaSource({
    tools,
    filePath: footage.file,
    signal: new AbortController().signal,
    stageState: () => 'running',
    shotKeyframeTimes: async () => null,
    declarations: async () => declared,
  });
  const before = cpuSeconds();
  const start = performance.now();
  const frames: Record<string, number> = {};
  try {
    await Promise.all(
      declared.flatMap(({ stage, needs }) =>
        (needs.frames ?? []).map(async (request) => {
          const key = `${stage}:${request.width}${request.pixFmt === 'gray' ? 'g' : ''}@${request.keyframesOnly ? 'key' : request.fps}`;
          frames[key] = 0;
          for await (const frame of source.forStage(stage).frames(request)) if (frame.data.length) frames[key]++;
        }),
      ),
    );
  } finally {
    source.close();
  }
  const wallSec = (performance.now() - start) / 1000;
  // The decode's child is reaped once its pipes closed; give libuv a turn to collect it.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const after = cpuSeconds();
  console.log(
    JSON.stringify({
      bench: 'decode-graph',
      build: values.dist ?? 'this',
      videoSec: round(probe.durationSec, 1),
      ffmpegCpuSec: round(after.children - before.children, 1),
      nodeCpuSec: round(after.self - before.self, 1),
      wallSec: round(wallSec, 1),
      decodes: source.stats,
      frames,
    }),
  );
}

await main();
