// matchAds latency through the real service over a synthetic library (default 1M segments, 10k
// ads, tags and presence spans on every video), and the objects/scenes stage cost per minute of a
// real clip from ../shared/data (skipped with a note when absent). Prints one JSON line.
//   node dist/bench/ads.js [--segments 1000000] [--ads 10000] [--queries 1000] [--clip path.mp4]
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { OBJECT_IAB } from '../src/ads/iab-map.js';
import { SCENE_LABELS_ZH } from '../src/ads/tags.js';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { percentile } from '../src/eval/metrics.js';
import { createObjectsStage } from '../src/indexers/objects.js';
import { createScenesStage } from '../src/indexers/scenes.js';
import type { StageContext } from '../src/indexers/stage.js';
import { createLogger } from '../src/logger.js';
import type { SegmentTagRecord } from '../src/store/ads.js';
import { buildSyntheticLibrary, sentence } from './synthetic-library.js';
import { seededRandom } from '../src/seeded-random.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const defaultClip = path.resolve(here, '../../../shared/data/derived/soft_subs/tos_soft.mp4');
const { values } = parseArgs({
  options: {
    segments: { type: 'string', default: '1000000' },
    ads: { type: 'string', default: '10000' },
    queries: { type: 'string', default: '1000' },
    clip: { type: 'string', default: defaultClip },
  },
});
const segments = Number(values.segments);
const adCount = Number(values.ads);
const queries = Number(values.queries);
const OBJECTS = Object.keys(OBJECT_IAB);
const SCENES = Object.keys(SCENE_LABELS_ZH);
const ACTORS = Array.from({ length: 200 }, (_, i) => `actor_bench${i}`);
const PER_VIDEO = 100;

async function addTagsAndSpans(app: App, random: () => number): Promise<void> {
  const now = new Date().toISOString();
  for (const id of ACTORS) await app.store.actors.createActor({ id, name: id, aliases: [], createdAt: now, updatedAt: now }, []);
  const videos = Math.ceil(segments / PER_VIDEO);
  for (let v = 0; v < videos; v++) {
    const videoId = `vid_bench${String(v).padStart(7, '0')}`;
    const tags: SegmentTagRecord[] = [];
    for (let s = 0; s < Math.min(PER_VIDEO, segments - v * PER_VIDEO); s++) {
      const segmentId = `${videoId}_s${s}`;
      const pick = (list: readonly string[]) => list[Math.floor(random() * list.length)]!;
      tags.push({ videoId, segmentId, kind: 'OBJECT', label: pick(OBJECTS), score: 0.3 + random() * 0.7, source: 'MODEL', box: null });
      for (let k = 0; k < 3; k++) tags.push({ videoId, segmentId, kind: 'SCENE', label: pick(SCENES), score: 0.5 + random() * 0.5, source: 'HEURISTIC', box: null });
    }
    await app.store.tags.replaceVideoTags(videoId, ['OBJECT', 'SCENE'], tags);
    const spans = [0, 1, 2].map((k) => {
      const start = random() * PER_VIDEO * 5;
      return { id: `${videoId}_sp${k}`, videoId, actorId: ACTORS[Math.floor(random() * ACTORS.length)]!, start, end: start + 30, confidence: 0.5 + random() / 2, evidence: 'FACE' as const, sourceIds: [], bestFaceId: null };
    });
    await app.store.appearances.replaceSpans(videoId, 'FACE', spans);
    if ((v + 1) % 1000 === 0) process.stderr.write(`bench: tags for ${(v + 1) * PER_VIDEO} segments\n`);
  }
}

async function addAds(app: App, random: () => number): Promise<void> {
  for (let i = 0; i < adCount; i++) {
    const words = sentence(random).split(/\s+/).filter((w) => w.length > 2).slice(0, 3);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    await app.services.ads.upsertAd({
      id: `ad_${i}`,
      title: `Ad ${i}`,
      // Chinese sentences have no spaces: use a 2-character slice as a keyword.
      keywords: words.length > 1 ? words : [words[0]?.slice(0, 2) ?? 'coffee'],
      categories: random() < 0.5 ? [pick(Object.values(OBJECT_IAB).flat())] : [],
      actors: random() < 0.2 ? [pick(ACTORS)] : [],
      objects: random() < 0.3 ? [pick(OBJECTS)] : [],
      scenes: random() < 0.3 ? [pick(SCENES)] : [],
      excludeKeywords: random() < 0.1 ? ['police'] : [],
    });
  }
}

async function stageCost(app: App, clip: string): Promise<Record<string, number | string | null>> {
  if (!existsSync(clip)) {
    process.stderr.write(`bench: ${clip} is absent; stage cost skipped\n`);
    return { clip: null };
  }
  const video = await app.indexNow({ path: clip });
  const ctx: StageContext = {
    video,
    store: app.store,
    media: app.media,
    config: app.config,
    log: app.log,
    signal: new AbortController().signal,
    reportProgress: () => undefined,
  };
  const minutes = video.durationSec / 60;
  let started = performance.now();
  const objects = await createObjectsStage().run(ctx, {});
  const objectsMs = performance.now() - started;
  started = performance.now();
  await createScenesStage().run(ctx, {});
  const scenesMs = performance.now() - started;
  return {
    clip: path.basename(clip),
    clipSec: Number(video.durationSec.toFixed(1)),
    keyframes: objects.keyframes,
    objectsMsPerKeyframe: objects.msPerKeyframe,
    objectsSecPerVideoMinute: Number((objectsMs / 1000 / minutes).toFixed(2)),
    scenesSecPerVideoMinute: Number((scenesMs / 1000 / minutes).toFixed(2)),
  };
}

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-bench-ads-'));
const app = await createApp({ ...loadConfig(), dataDir, mediaRoots: ['/'] }, { log: createLogger('warn') });
try {
  const random = seededRandom(7);
  const buildStart = performance.now();
  await buildSyntheticLibrary(app.store, {
    segments,
    segmentsPerVideo: PER_VIDEO,
    onProgress: (done) => {
      if (done % 100_000 === 0) process.stderr.write(`bench: ${done} segments written\n`);
    },
  });
  await addTagsAndSpans(app, random);
  await addAds(app, random);
  const buildSec = (performance.now() - buildStart) / 1000;

  const videos = Math.ceil(segments / PER_VIDEO);
  const moment = (i: number) => {
    const v = Math.floor(random() * videos);
    const s = Math.floor(random() * Math.min(PER_VIDEO, segments - v * PER_VIDEO));
    const videoId = `vid_bench${String(v).padStart(7, '0')}`;
    return i % 2 === 0 ? { segmentId: `${videoId}_s${s}` } : { videoId, time: s * 5 + 1.7 };
  };
  for (let i = 0; i < 20; i++) await app.services.ads.matchAds(moment(i), 10);
  const latencies: number[] = [];
  let matched = 0;
  // CPU time too: on a shared, busy machine wall-clock percentiles include time spent waiting for a core.
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < queries; i++) {
    const query = moment(i);
    const start = performance.now();
    const result = await app.services.ads.matchAds(query, 10);
    latencies.push(performance.now() - start);
    matched += result.length;
  }
  const cpu = process.cpuUsage(cpuBefore);
  const stages = await stageCost(app, values.clip!);
  console.log(
    JSON.stringify({
      bench: 'matchAds',
      segments,
      ads: adCount,
      buildSec: Number(buildSec.toFixed(1)),
      queries,
      meanMatches: Number((matched / queries).toFixed(1)),
      p50Ms: Number(percentile(latencies, 50)!.toFixed(2)),
      p99Ms: Number(percentile(latencies, 99)!.toFixed(2)),
      targetP99Ms: 20,
      cpuMsPerQuery: Number(((cpu.user + cpu.system) / 1000 / queries).toFixed(2)),
      loadAverage: Number(os.loadavg()[0]!.toFixed(1)),
      stages,
    }),
  );
} finally {
  await app.close();
  await rm(dataDir, { recursive: true, force: true });
}
