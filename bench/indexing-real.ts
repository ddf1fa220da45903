// Indexing speed on real footage, every stage on: a few minutes of real 720p video with sound
// (bench/real-footage.ts, cached in os.tmpdir()) indexed through the real pipeline on a temporary
// store. Prints one JSON line: realtime factor, wall and CPU seconds per media minute per stage,
// when each stage started and ended (seconds into the job: what runs after the decode, and what
// waits for what), the cores the job kept busy in each 5 s, ffmpeg runs per video by kind, the
// job's own decode counts (its "decodes" artifact), peak RSS.
//   node dist/bench/indexing-real.js [--minutes 3] [--data ../shared/data] [--serial]
// CPU is this process plus its children (ffmpeg): reaped ones from /proc/self/stat, running ones
// from their own /proc/<pid>/stat, so a long decode counts while it runs, not when it exits.
// While stages run side by side, each interval's CPU is shared equally among the stages running
// in it (cpuSplit "even"): a cheap stage beside an expensive one is charged half of both.
// --serial runs one stage at a time (stage concurrency 1): each interval then belongs to one
// stage and the per-stage CPU is that stage's own (cpuSplit "exact"; a shared decode running
// ahead for stages still waiting is charged to the stage running); its wall is not the pipeline's. ffmpeg runs are counted by pointing the config at a wrapper script that logs its
// arguments and pid; their CPU is also reported on its own (ffmpegCpuSec, and per stage while it ran).
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { DECODES_ARTIFACT, INDEX_STAGES } from '../src/indexers/pipeline.js';
import { createLogger } from '../src/logger.js';
import type { SourceStats } from '../src/media/source.js';
import { resolveMediaTools } from '../src/media/tools.js';
import { realFootage } from './real-footage.js';

const TICKS_PER_SEC = 100;
/** Width of the windows the busy-cores timeline is sampled in. */
const BUSY_WINDOW_SEC = 5;

/** utime stime cutime cstime (fields 14–17 of the line) of one process, in ticks; null once it is gone. */
function statTicks(pid: number | 'self'): [number, number, number, number] | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].map((i) => Number(fields[i])) as [number, number, number, number];
}

/** Pids the counting wrapper logged (one per ffmpeg run; exec keeps the pid). */
let childPidLog: string | null = null;

/** CPU seconds of this process, its reaped children and its children still running; and of the children alone (ffmpeg). */
function cpuSeconds(): { total: number; children: number } {
  const [utime, stime, cutime, cstime] = statTicks('self')!;
  let live = 0;
  // A child not yet reaped is not in cutime: read its own counters (a zombie still has them).
  const pids = childPidLog ? readFileSync(childPidLog, 'utf8').split('\n').filter(Boolean).map(Number) : [];
  for (const pid of pids) {
    const ticks = statTicks(pid);
    if (ticks) live += ticks[0] + ticks[1];
  }
  const children = cutime + cstime + live;
  return { total: (utime + stime + children) / TICKS_PER_SEC, children: children / TICKS_PER_SEC };
}

/** Attributes wall and CPU time to the stages running, sharing each interval among them. */
class StageClock {
  private readonly running = new Set<string>();
  private lastCpu = cpuSeconds();
  private lastWall = performance.now();
  readonly wall = new Map<string, number>();
  readonly cpu = new Map<string, number>();
  /** Of `cpu`, what ffmpeg spent (decoding) while the stage ran. */
  readonly ffmpegCpu = new Map<string, number>();
  readonly started = new Map<string, number>();
  /** When each stage started and ended (performance.now(), ms). */
  readonly spans = new Map<string, [number, number]>();

  private settle(): void {
    const cpu = cpuSeconds();
    const wall = performance.now();
    const n = this.running.size;
    for (const name of this.running) {
      this.cpu.set(name, (this.cpu.get(name) ?? 0) + (cpu.total - this.lastCpu.total) / n);
      this.ffmpegCpu.set(name, (this.ffmpegCpu.get(name) ?? 0) + (cpu.children - this.lastCpu.children) / n);
    }
    this.lastCpu = cpu;
    this.lastWall = wall;
  }
  start(name: string): void {
    this.settle();
    this.running.add(name);
    this.started.set(name, performance.now());
    this.spans.set(name, [performance.now(), Number.NaN]);
  }
  end(name: string): void {
    this.settle();
    this.running.delete(name);
    this.wall.set(name, (this.wall.get(name) ?? 0) + (performance.now() - (this.started.get(name) ?? this.lastWall)) / 1000);
    this.spans.set(name, [this.spans.get(name)?.[0] ?? this.lastWall, performance.now()]);
  }
}

/** Cores busy (process + children CPU per wall second) in each window of `windowSec`, sampled in the background. */
function sampleBusyCores(windowSec: number): { stop(): number[] } {
  const busy: number[] = [];
  let last = cpuSeconds().total;
  const timer = setInterval(() => {
    const now = cpuSeconds().total;
    busy.push(round((now - last) / windowSec, 1));
    last = now;
  }, windowSec * 1000);
  return { stop: () => (clearInterval(timer), busy) };
}

/** Wraps every stage's run so the clock sees it start and end (works for any scheduling). */
function instrumentStages(clock: StageClock): void {
  for (const stage of INDEX_STAGES) {
    const run = stage.run.bind(stage);
    (stage as { run: typeof stage.run }).run = async (ctx, input) => {
      clock.start(stage.name);
      try {
        return await run(ctx, input);
      } finally {
        clock.end(stage.name);
      }
    };
  }
}

/** A shell wrapper that logs each ffmpeg command line and pid, then becomes the real ffmpeg. */
async function countingFfmpeg(dir: string, ffmpeg: string): Promise<{ bin: string; log: string; pids: string }> {
  const bin = path.join(dir, 'ffmpeg-counting.sh');
  const log = path.join(dir, 'ffmpeg-runs.log');
  const pids = path.join(dir, 'ffmpeg-pids.log');
  await writeFile(bin, `#!/bin/sh\necho "$*" >> '${log}'\necho "$$" >> '${pids}'\nexec '${ffmpeg}' "$@"\n`);
  await chmod(bin, 0o755);
  await writeFile(log, '');
  await writeFile(pids, '');
  return { bin, log, pids };
}

/** ffmpeg runs by what they decode. */
export function classifyRuns(lines: readonly string[]): Record<string, number> {
  const kinds: Record<string, number> = { videoStreams: 0, keyframeScans: 0, singleFrames: 0, audio: 0, other: 0 };
  for (const line of lines) {
    const maps = line.match(/-map \S+/g) ?? [];
    if (/-frames:v 1\b/.test(line)) kinds.singleFrames! += 1;
    else if (/-skip_frame nokey/.test(line)) kinds.keyframeScans! += 1;
    else if (maps.some((m) => m.includes(':v')) || /\[0:v/.test(line)) kinds.videoStreams! += 1;
    else if (maps.some((m) => m.includes(':a')) || /\[0:a/.test(line)) kinds.audio! += 1;
    else kinds.other! += 1;
    // A run that also emits audio (one decode for both) counts for audio too.
    if (maps.some((m) => m.includes(':v')) && maps.some((m) => m.includes(':a'))) kinds.audio! += 1;
  }
  return kinds;
}

const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '3' }, data: { type: 'string', default: path.resolve('../shared/data') }, serial: { type: 'boolean', default: false } } });
  const wantedSec = Math.round(Number(values.minutes) * 60);
  const base = loadConfig();
  const footage = await realFootage(resolveMediaTools(base).ffmpeg, values.data!, wantedSec);
  if (!footage) {
    process.stderr.write(`indexing-real: no videos under ${values.data}; skipped\n`);
    return;
  }
  const work = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-bench-real-'));
  try {
    const counting = await countingFfmpeg(work, resolveMediaTools(base).ffmpeg);
    childPidLog = counting.pids;
    const config = {
      ...base,
      dataDir: path.join(work, 'store'),
      mediaRoots: [path.dirname(footage.file)],
      ffmpegPath: counting.bin,
      indexing: { ...base.indexing, enrichmentStages: null, ...(values.serial ? { stageConcurrency: 1 } : {}) },
    };
    const clock = new StageClock();
    instrumentStages(clock);
    const app = await createApp(config, { log: createLogger('warn') });
    try {
      const load = os.loadavg()[0]!;
      const cpuStart = cpuSeconds();
      const start = performance.now();
      const busy = sampleBusyCores(BUSY_WINDOW_SEC);
      const indexed = await app.indexNow({ path: footage.file });
      const wallSec = (performance.now() - start) / 1000;
      const busyCores = busy.stop();
      const cpuEnd = cpuSeconds();
      const cpuSec = cpuEnd.total - cpuStart.total;
      const minutes = indexed.durationSec / 60;
      const perMinute = (m: Map<string, number>): Record<string, number> =>
        Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(v / minutes)]));
      const runs = (await readFile(counting.log, 'utf8')).split('\n').filter(Boolean);
      const decodes = await app.store.catalog.getArtifact<SourceStats>(indexed.id, DECODES_ARTIFACT);
      console.log(
        JSON.stringify({
          bench: 'indexing-real',
          input: `${footage.clips.length} real clips from ../shared/data, 1280x720 25fps h264+aac, ${Math.round(indexed.durationSec)}s`,
          videoSec: round(indexed.durationSec, 1),
          wallSec: round(wallSec, 1),
          cpuSec: round(cpuSec, 1),
          realtimeFactor: round(indexed.durationSec / wallSec),
          wallSecPerMediaMin: perMinute(clock.wall),
          cpuSecPerMediaMin: perMinute(clock.cpu),
          stageSpansSec: Object.fromEntries([...clock.spans].map(([name, span]) => [name, span.map((ms) => round((ms - start) / 1000, 1))])),
          busyCoresPer5s: busyCores,
          ffmpegCpuSec: round(cpuEnd.children - cpuStart.children, 1),
          ffmpegCpuSecPerMediaMin: perMinute(clock.ffmpegCpu),
          cpuSplit: values.serial ? 'exact' : 'even',
          ffmpegRuns: { total: runs.length, ...classifyRuns(runs) },
          decodes,
          peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
          cores: os.availableParallelism(),
          loadAvgAtStart: round(load),
          loadAvgAtEnd: round(os.loadavg()[0]!),
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
