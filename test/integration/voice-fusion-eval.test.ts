// Calibrates and checks onlyWatch's face/voice fusion rule (FUSION in src/services/presence.ts)
// on ../shared/data/presence.json (dev) and the harder test/fixtures/presence-hard.json, whose
// media are generated here: the GRID montage with faces painted out in some segments (only the
// voice tells who is there) and a distractor where a voice nobody enrolled speaks over black.
// Every video is indexed once through the real pipeline; rules are then scored offline on the
// stored spans with EVAL.md's presence bins.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { f1, ratio } from '../../src/eval/metrics.js';
import { positiveBins } from '../../src/eval/presence.js';
import { computeOnlyWatch, DEFAULT_MERGE_GAP_SEC, DEFAULT_MIN_SPAN_SEC, FUSION, type FusionRule } from '../../src/services/presence.js';
import { repoRoot, sharedData, sharedDataDir } from '../helpers/shared-data.js';

interface Truth { actor: string; start: number; end: number }
interface HardVideo { path: string; source?: string; hideFaces?: [number, number][]; voiceOf?: string; durationSec?: number; truth: Truth[] }
interface Manifest { actors: { id: string; name: string; faces: string[]; voices: string[] }[]; videos: { path: string; truth: Truth[] }[]; binSec: number }

const devFile = sharedData('presence.json');
const hard = JSON.parse(readFileSync(path.join(repoRoot, 'test/fixtures/presence-hard.json'), 'utf8')) as { videos: HardVideo[]; binSec: number };
const work = mkdtempSync(path.join(os.tmpdir(), 'vidsearch-fusion-'));
let app: App;

function ffmpeg(args: string[]): void {
  const run = spawnSync(app.media.ffmpeg, ['-v', 'error', '-y', ...args]);
  if (run.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${run.stderr.toString()}`);
}

/** Builds a hard-case video as its fixture entry describes. */
function generate(video: HardVideo): string {
  const out = path.join(work, video.path);
  if (video.source) {
    const hidden = (video.hideFaces ?? []).map(([a, b]) => `between(t,${a},${b})`).join('+');
    ffmpeg(['-i', path.join(sharedDataDir, video.source), '-vf', `drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='${hidden}'`, '-c:a', 'copy', out]);
  } else {
    ffmpeg(['-f', 'lavfi', '-i', `color=c=black:s=320x240:r=25:d=${video.durationSec}`, '-i', path.join(sharedDataDir, video.voiceOf!), '-shortest', '-c:v', 'libx264', '-c:a', 'aac', out]);
  }
  return out;
}

interface Indexed { videoId: string; durationSec: number; truth: Truth[] }
const indexed: Record<'dev' | 'hard', Indexed[]> = { dev: [], hard: [] };
const actorIdOf = new Map<string, string>();

function score(set: Indexed[], rule: FusionRule, binSec: number, spansOf: Map<string, Awaited<ReturnType<App['store']['appearances']['getSpansOfVideo']>>>) {
  let tp = 0, fp = 0, fn = 0;
  for (const video of set) {
    for (const [manifestId, actorId] of actorIdOf) {
      const spans = (spansOf.get(video.videoId) ?? []).filter((s) => s.actorId === actorId);
      const answer = computeOnlyWatch(spans, [actorId], { mode: 'ANY', padSec: 0, mergeGapSec: DEFAULT_MERGE_GAP_SEC, minSpanSec: DEFAULT_MIN_SPAN_SEC, durationSec: video.durationSec, fusion: rule });
      const predicted = positiveBins(answer.spans, video.durationSec, binSec);
      const truth = positiveBins(video.truth.filter((t) => t.actor === manifestId), video.durationSec, binSec);
      predicted.forEach((p, k) => {
        if (p && truth[k]) tp++;
        else if (p) fp++;
        else if (truth[k]) fn++;
      });
    }
  }
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  // No prediction and no truth gives no F1: NaN then fails every comparison below.
  return { precision, recall, f1: f1(precision, recall) ?? Number.NaN };
}

describe.skipIf(!devFile)('face/voice fusion calibrated on presence.json and the hard case', () => {
  beforeAll(async () => {
    app = await createApp({ ...loadConfig({}, work), dataDir: path.join(work, 'store'), mediaRoots: [sharedDataDir, work] }, { log: pino({ level: 'silent' }) });
    const dev = JSON.parse(readFileSync(devFile!, 'utf8')) as Manifest;
    for (const entry of dev.actors) {
      const actor = await app.services.actors.enrollActor({ name: entry.name });
      actorIdOf.set(entry.id, actor.id);
      await app.services.actors.addFaces(actor.id, { imagePaths: entry.faces.map((f) => path.join(sharedDataDir, f)) });
      await app.services.voices.addVoices(actor.id, { voicePaths: entry.voices.map((v) => path.join(sharedDataDir, v)) });
    }
    for (const video of dev.videos) {
      const record = await app.indexNow({ path: path.join(sharedDataDir, video.path) });
      indexed.dev.push({ videoId: record.id, durationSec: record.durationSec, truth: video.truth });
    }
    for (const video of hard.videos) {
      const record = await app.indexNow({ path: generate(video) });
      indexed.hard.push({ videoId: record.id, durationSec: record.durationSec, truth: video.truth });
    }
  }, 900_000);
  afterAll(async () => {
    await app?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('fusion beats face only where faces are hidden, costs nothing on dev, and FUSION is the grid optimum', async () => {
    const spansOf = new Map<string, Awaited<ReturnType<App['store']['appearances']['getSpansOfVideo']>>>();
    for (const v of [...indexed.dev, ...indexed.hard]) spansOf.set(v.videoId, await app.store.appearances.getSpansOfVideo(v.videoId));
    const faceOnly: FusionRule = { faceWeight: 1, voiceWeight: 0, threshold: 0.5 };
    const evaluate = (rule: FusionRule) => ({ rule, dev: score(indexed.dev, rule, 0.5, spansOf), hard: score(indexed.hard, rule, hard.binSec, spansOf) });
    const grid = [0, 0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5].flatMap((voiceWeight) => [0.5, 0.6, 0.7, 0.8, 0.9].map((threshold) => evaluate({ faceWeight: 1, voiceWeight, threshold })));
    const mean = (r: ReturnType<typeof evaluate>) => (r.dev.f1 + r.hard.f1) / 2;
    grid.sort((a, b) => mean(b) - mean(a));
    const chosen = evaluate(FUSION);
    const baseline = evaluate(faceOnly);
    console.info(`[voice-fusion] face only ${JSON.stringify(baseline)}`);
    console.info(`[voice-fusion] FUSION ${JSON.stringify(chosen)}`);
    const plateau = grid.filter((r) => mean(r) >= mean(grid[0]!) - 0.005).map((r) => `${r.rule.voiceWeight}/${r.rule.threshold}`);
    console.info(`[voice-fusion] best ${JSON.stringify(grid[0])}; rules within 0.005 (voiceWeight/threshold): ${plateau.join(' ')}`);
    const voiceClusters = await app.services.voiceClusters.voiceClusters(100, null, null);
    console.info(`[voice-fusion] voice clusters ${JSON.stringify(voiceClusters.edges.map((e) => ({ video: e.node.videoId, actor: e.node.actorId, origin: e.node.origin, turns: e.node.turns.length, linked: e.node.linkedShare })))}`);

    expect(chosen.hard.f1).toBeGreaterThan(baseline.hard.f1 + 0.05);
    expect(chosen.dev.f1).toBeGreaterThanOrEqual(baseline.dev.f1 - 0.01);
    expect(mean(chosen)).toBeGreaterThanOrEqual(mean(grid[0]!) - 0.005);
  }, 120_000);
});
