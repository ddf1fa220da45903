// The faces stage's cost per minute of 720p video with a cast list (closed set over the cast, plus
// MobileFace's second opinion on small unknown tracks) against without one, on real faces: the ten
// videos of the harder presence set (bench/presence-pose-media.ts; small, blurred, turned faces,
// strangers) and presence.json's GRID montage, each scaled to 1280x720 (cached in os.tmpdir()).
// The harder set's 17 people are enrolled (faces only, as the eval does); each video's cast is the
// people labelled in it (the montage's: presence.json's truth). Every pass runs the stage on all
// videos; passes alternate none, cast, cast, none so drifting load hits both alike, after one
// untimed warm-up pass of each (model loading is a one-off per process, reported apart).
// CPU is this process's (detection, embedding, MobileFace); the frame decode runs in ffmpeg
// children and is the same request with and without a cast. The thumbnails MobileFace embeds for
// the second opinion are counted too: a cast's extra work, independent of the machine's load.
// One JSON line on stdout.
//   node dist/bench/faces-cast-cost.js [--rounds 1]
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { pino } from 'pino';
import { createApp, type App } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import type { VideoRecord } from '../src/domain.js';
import { enrolPresenceActors, parsePresenceManifest } from '../src/eval/presence.js';
import type { EvalContext } from '../src/eval/types.js';
import { createFacesStage, type FacesStageOutput } from '../src/indexers/faces.js';
import { createLogger } from '../src/logger.js';
import { probeMedia } from '../src/media/probe.js';
import { resolveMediaTools, type MediaTools } from '../src/media/tools.js';
import { secondOpinionScorerFor } from '../src/services/face-second-opinion.js';
import { buildPresencePose } from './presence-pose-media.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.basename(path.resolve(here, '..')) === 'dist' ? path.resolve(here, '../..') : path.resolve(here, '..');
const shared = path.resolve(repoRoot, '../shared/data');

interface BenchVideo {
  record: VideoRecord;
  /** Manifest actor ids; mapped to enrolled ids once the actors exist. */
  castIds: string[];
}

interface Pass {
  cpuSec: number;
  wallSec: number;
  outputs: FacesStageOutput[];
  /** Thumbnails MobileFace embedded for the second opinion: a cast's extra work, counted (load-independent). */
  opinionThumbnails: number;
}

let opinionThumbnails = 0;
/** The stage as shipped, its second opinion counting the thumbnails it is asked about. */
const facesStage = createFacesStage({
  secondOpinion: (ctx) => {
    if (!ctx.video.cast?.length) return null;
    const scorer = secondOpinionScorerFor(ctx.store.actors);
    return (thumbnails, cast) => {
      opinionThumbnails += thumbnails.length;
      return scorer(thumbnails, cast);
    };
  },
});

/** `source` scaled to 1280x720 in `cacheDir` (made once; keyed by its folder too, which for the harder set carries the fixture's hash). */
async function at720p(ffmpeg: string, source: string, cacheDir: string): Promise<string> {
  const out = path.join(cacheDir, `${path.basename(path.dirname(source))}-${path.basename(source, path.extname(source))}-720p.mp4`);
  if (!existsSync(out)) {
    await promisify(execFile)(ffmpeg, ['-v', 'error', '-y', '-i', source, '-vf', 'scale=1280:720', '-c:v', 'libx264', '-preset', 'veryfast', '-an', `${out}.tmp.mp4`]);
    await promisify(execFile)(ffmpeg, ['-v', 'error', '-y', '-i', `${out}.tmp.mp4`, '-c', 'copy', out]);
  }
  return out;
}

type ManifestVideo = { path: string; cast?: string[]; truth: { actor: string }[] };

function readVideos(manifestPath: string): ManifestVideo[] {
  return (JSON.parse(readFileSync(manifestPath, 'utf8')) as { videos: ManifestVideo[] }).videos.map((v) => ({ ...v, path: path.resolve(path.dirname(manifestPath), v.path) }));
}

async function benchVideos(media: MediaTools, castManifests: string[], cacheDir: string): Promise<BenchVideo[]> {
  const sources = castManifests.flatMap(readVideos);
  const montage = readVideos(path.join(shared, 'presence.json'))[0];
  if (montage) sources.push({ ...montage, cast: [...new Set(montage.truth.map((t) => t.actor))] });
  const videos: BenchVideo[] = [];
  for (const [k, source] of sources.entries()) {
    const file = await at720p(media.ffmpeg, source.path, cacheDir);
    const probe = await probeMedia(media, file, { timeoutMs: 20_000 });
    const now = new Date().toISOString();
    const record: VideoRecord = {
      id: `cast-cost-${k}`, path: file, contentHash: `cast-cost-${k}`, title: path.basename(file), series: null, season: null, episode: null,
      durationSec: probe.durationSec, fps: 25, width: probe.width, height: probe.height, rotation: 0, startTime: 0, hasAudio: false,
      status: 'READY', error: null, createdAt: now, updatedAt: now,
    };
    videos.push({ record, castIds: source.cast ?? [] });
  }
  return videos;
}

async function runPass(app: App, config: Config, media: MediaTools, videos: readonly BenchVideo[], withCast: boolean): Promise<Pass> {
  const log = createLogger('warn');
  const outputs: FacesStageOutput[] = [];
  const thumbnailsBefore = opinionThumbnails;
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (const { record } of videos) {
    const video = withCast ? record : { ...record, cast: null };
    await app.store.catalog.putVideo(video);
    const ctx = { video, store: app.store, media, config, log, signal: new AbortController().signal, reportProgress: () => undefined };
    outputs.push(await facesStage.run(ctx, undefined));
  }
  const used = process.cpuUsage(cpu);
  return { cpuSec: (used.user + used.system) / 1e6, wallSec: (performance.now() - start) / 1000, outputs, opinionThumbnails: opinionThumbnails - thumbnailsBefore };
}

function summary(passes: readonly Pass[], videoMinutes: number): Record<string, number> {
  const mean = (key: 'cpuSec' | 'wallSec') => passes.reduce((s, p) => s + p[key], 0) / passes.length;
  const first = passes[0]!.outputs;
  const sum = (key: 'tracks' | 'identifiedTracks' | 'unknownTracks' | 'embeddedFaces') => first.reduce((s, o) => s + o[key], 0);
  return {
    cpuSecPerVideoMinute: Number((mean('cpuSec') / videoMinutes).toFixed(2)),
    wallSecPerVideoMinute: Number((mean('wallSec') / videoMinutes).toFixed(2)),
    tracks: sum('tracks'),
    identifiedTracks: sum('identifiedTracks'),
    unknownTracks: sum('unknownTracks'),
    embeddedFaces: sum('embeddedFaces'),
    secondOpinionThumbnails: passes[0]!.opinionThumbnails,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '1' } } });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a whole number ≥ 1');
  const config = loadConfig({ ...process.env, VIDSEARCH_STAGES: 'faces' });
  const media = resolveMediaTools(config);
  const built = buildPresencePose(shared, media.ffmpeg);
  const cacheDir = path.join(os.tmpdir(), 'vidsearch-faces-cast-720p');
  mkdirSync(cacheDir, { recursive: true });
  const videos = await benchVideos(media, [built.castManifests.fit, built.castManifests.report], cacheDir);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vidsearch-faces-cast-cost-'));
  const app = await createApp({ ...config, dataDir, mediaRoots: [shared, built.dir] }, { log: pino({ level: 'silent' }) });
  try {
    const manifest = parsePresenceManifest(JSON.parse(readFileSync(built.castManifests.report, 'utf8')) as Record<string, unknown>);
    const ctx: EvalContext = { app, options: {}, resolve: (p) => path.resolve(built.dir, p), progress: () => undefined, indexVideos: async () => new Map() };
    const { actorIdOf } = await enrolPresenceActors(manifest, ctx, true);
    for (const v of videos) v.record.cast = v.castIds.map((id) => actorIdOf.get(id)!);
    const videoMinutes = videos.reduce((s, v) => s + v.record.durationSec, 0) / 60;
    // Warm-up: the face models load on the first pass, MobileFace on the first small unknown track
    // with a cast (so the cast warm-up covers every video).
    const warmNone = await runPass(app, config, media, videos.slice(0, 1), false);
    const warmCast = await runPass(app, config, media, videos, true);
    const none: Pass[] = [];
    const cast: Pass[] = [];
    const loadBefore = os.loadavg()[0];
    for (let round = 0; round < rounds; round++) {
      none.push(await runPass(app, config, media, videos, false));
      cast.push(await runPass(app, config, media, videos, true));
      cast.push(await runPass(app, config, media, videos, true));
      none.push(await runPass(app, config, media, videos, false));
    }
    const withoutCast = summary(none, videoMinutes);
    const withCast = summary(cast, videoMinutes);
    console.log(JSON.stringify({
      bench: 'faces-cast-cost', videos: videos.length, videoSec: Number((videoMinutes * 60).toFixed(1)), order: 'none, cast, cast, none per round', rounds,
      warmUpCpuSec: { noCast: Number(warmNone.cpuSec.toFixed(2)), cast: Number(warmCast.cpuSec.toFixed(2)) },
      withoutCast, withCast, castOverNoCastCpu: Number((withCast.cpuSecPerVideoMinute! / withoutCast.cpuSecPerVideoMinute!).toFixed(3)),
      perPassCpuSec: { none: none.map((p) => Number(p.cpuSec.toFixed(2))), cast: cast.map((p) => Number(p.cpuSec.toFixed(2))) },
      loadAverage1m: [Number(loadBefore.toFixed(1)), Number(os.loadavg()[0].toFixed(1))],
    }));
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
