// Fits the identity-propagation rule (src/indexers/face-propagation.ts) on one half of the harder
// presence set (test/fixtures/presence-pose.json) and measures it: indexes the half once (faces
// stage only, no cast), then re-identifies the stored tracks in place (services/face-reidentify.ts,
// the path a cast change takes) under each rule of a grid, without and with each video's cast, and
// scores 0.5 s bins as `vidsearch eval --face-only` does. Also prints, per labelled appearance (a
// person in a shot), whether a track of that shot was named after them, by pose, blur, size and
// "tiny-crowd", without propagation and with the default rule, and every propagation candidate
// (an unknown track's best link to a confidently named actor, its lead, right or wrong by the
// fixture's placement) — what the link threshold is read off. With a cast, the default rule is
// also scored with the second recogniser's opinion (services/face-second-opinion.ts) as the
// pipeline asks it ("secondOpinion": true), the rest without it.
//   node dist/bench/propagation-fit.js --half fit [--grid]     (fit the rule: sweep the grid)
//   node dist/bench/propagation-fit.js --half report           (report: default rule vs none)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import sharp from 'sharp';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { enrolPresenceActors, emptyPresenceTally, parsePresenceManifest, presenceScores, tallyPresenceVideo, type PresenceManifest } from '../src/eval/presence.js';
import type { EvalContext } from '../src/eval/types.js';
import { DEFAULT_PROPAGATION_RULE, type PropagationRule } from '../src/indexers/face-propagation.js';
import { resolveMediaTools } from '../src/media/tools.js';
import { reidentifyVideoFaces } from '../src/services/face-reidentify.js';
import { secondOpinionScorerFor } from '../src/services/face-second-opinion.js';
import type { SecondOpinionScorer } from '../src/indexers/face-video-identity.js';
import type { VideoRecord } from '../src/domain.js';
import { cosine } from '../src/indexers/face-tracking.js';
import type { FaceTrackRecord } from '../src/store/appearances.js';
import { buildPresencePose, POSE_FIXTURE, type PoseFixture, type PoseItem } from './presence-pose-media.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.basename(path.resolve(here, '..')) === 'dist' ? path.resolve(here, '../..') : path.resolve(here, '..');
const shared = path.resolve(repoRoot, '../shared/data');

/** A rule no link can pass: identification without propagation. */
const NO_PROPAGATION: PropagationRule = { ...DEFAULT_PROPAGATION_RULE, linkSimilarity: Number.POSITIVE_INFINITY };

function grid(): PropagationRule[] {
  const rules: PropagationRule[] = [];
  for (const sourceConfidence of [0.5, 0.75, 0.9]) {
    for (let link = 0.3; link <= 0.75 + 1e-9; link += 0.05) {
      for (const linkMargin of [0, 0.05, 0.1, 0.15, 0.2]) rules.push({ sourceConfidence, linkSimilarity: Number(link.toFixed(2)), linkMargin });
    }
  }
  return rules;
}

interface Indexed {
  entry: PresenceManifest['videos'][number];
  video: VideoRecord;
  cast: string[];
}

async function score(app: App, ctx: EvalContext, manifest: PresenceManifest, indexed: readonly Indexed[], actorIdOf: Map<string, string>, rule: PropagationRule, withCast: boolean, secondOpinion: SecondOpinionScorer | null = null) {
  const tally = emptyPresenceTally(manifest);
  for (const item of indexed) {
    const video = { ...item.video, cast: withCast ? item.cast : null };
    await reidentifyVideoFaces(app.store, video, (embedding, among) => app.services.actors.scoreFace(embedding, undefined, among), { propagation: rule, secondOpinion });
    await tallyPresenceVideo(ctx, manifest, item.entry, video, actorIdOf, tally);
  }
  return presenceScores(tally.total);
}

/** Width and height of a source picture or video. */
async function sourceSize(src: string, ffprobe: string): Promise<[number, number]> {
  const file = path.join(shared, src);
  if (/\.(jpe?g|png)$/i.test(src)) {
    const meta = await sharp(file).metadata();
    return [meta.width ?? 0, meta.height ?? 0];
  }
  const out = spawnSync(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file]).stdout.toString().trim();
  const [w, h] = out.split(',').map(Number);
  return [w ?? 0, h ?? 0];
}

/**
 * Every unknown track's best link to a named actor's track, the lead over the next actor, and
 * whether that actor is who the track shows (by the fixture's placement): the propagation rule's
 * candidates, to read the link threshold off.
 */
function candidates(tracks: readonly FaceTrackRecord[], truthOf: ReadonlyMap<string, string>, label: string): string[] {
  return tracks.flatMap((track) => {
    if (track.actorId) return [];
    const best = new Map<string, number>();
    for (const t of tracks) if (t.actorId && t.confidence >= DEFAULT_PROPAGATION_RULE.sourceConfidence) best.set(t.actorId, Math.max(best.get(t.actorId) ?? -1, cosine(track.embedding, t.embedding)));
    const [first, second] = [...best].sort(([, a], [, b]) => b - a);
    if (!first) return [];
    const truth = truthOf.get(track.id) ?? 'unplaced';
    return [`${first[1].toFixed(3)} lead ${(first[1] - (second?.[1] ?? 0)).toFixed(3)} ${truth === first[0] ? 'RIGHT' : 'wrong'} ${label} shot ${track.shotIndex}`];
  });
}

function bucketsOf(item: PoseItem, video: string, sidePx: number | null): string[] {
  const pose = item.src.includes('faces_pose/') ? 'three-quarter/profile' : 'frontal';
  const blur = (item.blur ?? 0) >= 1.5 || item.mblur ? 'blurred' : 'sharp';
  const size = sidePx === null ? 'size:undetected' : sidePx < 30 ? 'size:<30' : sidePx < 45 ? 'size:30-45' : sidePx < 64 ? 'size:45-64' : 'size:>=64';
  return [pose, blur, size, ...(video.includes('tiny-crowd') ? ['tiny-crowd'] : [])];
}

/** Per labelled appearance: found (a track of its shot inside its rectangle named after it) by bucket. */
async function appearanceRecall(app: App, indexed: readonly Indexed[], fixture: PoseFixture, actorIdOf: Map<string, string>, ffprobe: string): Promise<{ buckets: Record<string, string>; candidates: string[] }> {
  const counts = new Map<string, { found: number; total: number }>();
  const rows: string[] = [];
  for (const { video } of indexed) {
    const spec = fixture.videos.find((v) => video.path.endsWith(`${v.name}.mp4`))!;
    const tracks = await app.store.appearances.getTracksOfVideo(video.id);
    const faces = await app.store.appearances.getFacesOfTracks(tracks.map((t) => t.id));
    const truthOf = new Map<string, string>();
    let start = 0;
    for (const s of spec.shots) {
      for (const item of s.items) {
        const [w, h] = await sourceSize(item.src, ffprobe);
        const width = w * item.scale;
        const height = h * item.scale;
        // Faces of this shot whose centre lies in the item's (drifting) rectangle.
        const inside = faces.filter((f) => {
          if (f.time < start || f.time >= start + s.dur) return false;
          const x = item.x + (item.vx ?? 0) * (f.time - start);
          const cx = f.box.x + f.box.width / 2;
          const cy = f.box.y + f.box.height / 2;
          return cx >= x && cx <= x + width && cy >= item.y && cy <= item.y + height;
        });
        const side = inside.length ? inside.map((f) => Math.min(f.box.width, f.box.height)).sort((a, b) => a - b)[Math.floor(inside.length / 2)]! : null;
        const trackIds = new Set(inside.map((f) => f.trackId));
        for (const id of trackIds) truthOf.set(id, item.actor ? actorIdOf.get(item.actor)! : 'stranger');
        if (!item.actor) continue;
        const found = tracks.some((t) => trackIds.has(t.id) && t.actorId === actorIdOf.get(item.actor!));
        for (const bucket of ['all', ...bucketsOf(item, spec.name, side)]) {
          const c = counts.get(bucket) ?? { found: 0, total: 0 };
          c.found += found ? 1 : 0;
          c.total += 1;
          counts.set(bucket, c);
        }
      }
      start += s.dur;
    }
    rows.push(...candidates(tracks, truthOf, spec.name));
  }
  return { buckets: Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, c]) => [k, `${c.found}/${c.total}`])), candidates: rows.sort() };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { half: { type: 'string', default: 'fit' }, grid: { type: 'boolean', default: false } } });
  const half = values.half === 'report' ? 'report' : 'fit';
  const base = loadConfig({ ...process.env, VIDSEARCH_STAGES: 'faces' });
  const tools = resolveMediaTools(base);
  const built = buildPresencePose(shared, tools.ffmpeg);
  const manifestPath = built.manifests[half];
  const manifest = parsePresenceManifest(JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>);
  const castManifest = parsePresenceManifest(JSON.parse(readFileSync(built.castManifests[half], 'utf8')) as Record<string, unknown>);
  const fixture = JSON.parse(readFileSync(POSE_FIXTURE, 'utf8')) as PoseFixture;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vidsearch-propagation-'));
  const app = await createApp({ ...base, dataDir, mediaRoots: [shared, built.dir] }, { log: pino({ level: 'silent' }) });
  const ctx: EvalContext = {
    app,
    options: {},
    resolve: (p) => path.resolve(path.dirname(manifestPath), p),
    progress: (m) => process.stderr.write(`[propagation-fit] ${m}\n`),
    indexVideos: async () => new Map(),
  };
  try {
    const { actorIdOf } = await enrolPresenceActors(manifest, ctx, true);
    const indexed: Indexed[] = [];
    const started = process.cpuUsage();
    for (const [k, entry] of manifest.videos.entries()) {
      const video = await app.indexNow({ path: ctx.resolve(entry.path) });
      indexed.push({ entry, video, cast: castManifest.videos[k]!.cast!.map((id) => actorIdOf.get(id)!) });
    }
    const cpu = process.cpuUsage(started);
    const mediaSec = indexed.reduce((s, i) => s + i.video.durationSec, 0);
    console.log(JSON.stringify({ half, indexCpuSecPerMediaMinute: ((cpu.user + cpu.system) / 1e6 / mediaSec) * 60 }));
    const rules = values.grid ? [NO_PROPAGATION, ...grid()] : [NO_PROPAGATION, DEFAULT_PROPAGATION_RULE];
    for (const withCast of [false, true]) {
      for (const rule of rules) {
        const result = await score(app, ctx, manifest, indexed, actorIdOf, rule, withCast);
        console.log(JSON.stringify({ half, cast: withCast, rule, ...result }));
      }
      for (const rule of [NO_PROPAGATION, DEFAULT_PROPAGATION_RULE]) {
        await score(app, ctx, manifest, indexed, actorIdOf, rule, withCast);
        console.log(JSON.stringify({ half, cast: withCast, rule, appearances: await appearanceRecall(app, indexed, fixture, actorIdOf, tools.ffprobe) }));
      }
      if (withCast) {
        const opinion = secondOpinionScorerFor(app.store.actors);
        const result = await score(app, ctx, manifest, indexed, actorIdOf, DEFAULT_PROPAGATION_RULE, true, opinion);
        console.log(JSON.stringify({ half, cast: true, secondOpinion: true, ...result, appearances: await appearanceRecall(app, indexed, fixture, actorIdOf, tools.ffprobe) }));
      }
    }
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
