// EVAL.md task "presence": enrol the actors (faces, and voices unless `--face-only`), index every
// video through the pipeline, ask the onlyWatch service for each actor (padSec 0, service
// defaults otherwise) and score bins of binSec against the truth.
//
// Bin rule (EVAL.md): bins are [k·binSec, (k+1)·binSec) up to the duration; a bin is positive
// when spans cover at least half of it. The last, shorter bin is judged against half of ITS OWN
// length. Micro-averaged over (video, actor, bin); a video with empty truth is a distractor.
import type { WatchSpan } from '../services/presence.js';
import { f1, ratio } from './metrics.js';
import { EvalInputError, type EvalContext, type EvalTask } from './types.js';

export interface PresenceManifest {
  actors: { id: string; name?: string; faces?: string[]; voices?: string[] }[];
  /** `cast` (optional, manifest actor ids): the video is indexed with that cast list (closed set). */
  videos: { path: string; cast?: string[]; truth: { actor: string; start: number; end: number }[] }[];
  binSec: number;
  evidence: 'any' | 'face';
}

export function parsePresenceManifest(raw: Record<string, unknown>): PresenceManifest {
  const { actors, videos } = raw as Partial<PresenceManifest>;
  if (!Array.isArray(actors) || !Array.isArray(videos)) throw new EvalInputError('presence manifest needs "actors" and "videos" arrays');
  for (const actor of actors) {
    if (typeof actor?.id !== 'string') throw new EvalInputError('each actor needs an "id"');
    for (const key of ['faces', 'voices'] as const) {
      if (actor[key] !== undefined && !(Array.isArray(actor[key]) && actor[key].every((f) => typeof f === 'string'))) {
        throw new EvalInputError(`actor ${actor.id}: "${key}" must be an array of paths`);
      }
    }
  }
  const ids = new Set(actors.map((a) => a.id));
  for (const video of videos) {
    if (typeof video?.path !== 'string' || !Array.isArray(video.truth)) throw new EvalInputError('each video needs "path" and "truth"');
    if (video.cast !== undefined && !(Array.isArray(video.cast) && video.cast.every((id) => ids.has(id)))) {
      throw new EvalInputError(`${video.path}: "cast" must be an array of manifest actor ids`);
    }
    for (const t of video.truth) {
      if (!ids.has(t?.actor) || typeof t.start !== 'number' || typeof t.end !== 'number') {
        throw new EvalInputError(`${video.path}: truth entries need a known "actor", "start" and "end"`);
      }
    }
  }
  const binSec = raw.binSec ?? 0.5;
  if (typeof binSec !== 'number' || !(binSec > 0)) throw new EvalInputError('"binSec" must be a positive number');
  const evidence = raw.evidence ?? 'any';
  if (evidence !== 'any' && evidence !== 'face') throw new EvalInputError('"evidence" must be "any" or "face"');
  return { actors, videos, binSec, evidence };
}

interface Interval {
  start: number;
  end: number;
}

/** Which bins of a video the intervals cover at least half of (the last bin: half its own length). */
export function positiveBins(intervals: readonly Interval[], durationSec: number, binSec: number): boolean[] {
  const count = Math.max(0, Math.ceil(durationSec / binSec - 1e-9));
  const bins: boolean[] = [];
  for (let k = 0; k < count; k++) {
    const start = k * binSec;
    const end = Math.min(durationSec, start + binSec);
    bins.push(coveredLength(intervals, start, end) >= (end - start) / 2 - 1e-9);
  }
  return bins;
}

/** Length of [start, end) covered by the union of the intervals. */
function coveredLength(intervals: readonly Interval[], start: number, end: number): number {
  const clipped = intervals
    .map((i) => ({ start: Math.max(start, i.start), end: Math.min(end, i.end) }))
    .filter((i) => i.end > i.start)
    .sort((a, b) => a.start - b.start);
  let total = 0;
  let reach = start;
  for (const i of clipped) {
    if (i.end <= reach) continue;
    total += i.end - Math.max(i.start, reach);
    reach = i.end;
  }
  return total;
}

export interface Tally {
  tp: number;
  fp: number;
  fn: number;
}

export const presenceScores = (t: Tally) => {
  const precision = ratio(t.tp, t.tp + t.fp);
  const recall = ratio(t.tp, t.tp + t.fn);
  return { precision, recall, f1: f1(precision, recall) };
};

/** Enrols the manifest's actors (voices too unless faceOnly); returns manifest id → actor id and the gallery files skipped. */
export async function enrolPresenceActors(manifest: PresenceManifest, ctx: EvalContext, faceOnly: boolean): Promise<{ actorIdOf: Map<string, string>; skippedGallery: number }> {
  const { actors, voices } = ctx.app.services;
  // Enrolment: one gallery file at a time; files the system cannot use are skipped and counted.
  const actorIdOf = new Map<string, string>();
  let skippedGallery = 0;
  for (const entry of manifest.actors) {
    const actor = await actors.enrollActor({ name: entry.name ?? entry.id });
    actorIdOf.set(entry.id, actor.id);
    for (const file of entry.faces ?? []) {
      const { skipped } = await actors.addFaces(actor.id, { imagePaths: [ctx.resolve(file)] });
      for (const skip of skipped) ctx.progress(`actor ${entry.id}: skipped ${skip.source}: ${skip.reason}`);
      skippedGallery += skipped.length;
    }
    if (faceOnly) continue;
    for (const file of entry.voices ?? []) {
      const { skipped } = await voices.addVoices(actor.id, { voicePaths: [ctx.resolve(file)] });
      for (const skip of skipped) ctx.progress(`actor ${entry.id}: skipped ${skip.source}: ${skip.reason}`);
      skippedGallery += skipped.length;
    }
  }
  ctx.progress(`enrolled ${manifest.actors.length} actors (${skippedGallery} gallery files skipped${faceOnly ? ', faces only' : ''})`);
  return { actorIdOf, skippedGallery };
}

export interface PresenceTally {
  total: Tally;
  perActor: Map<string, Tally>;
  bins: number;
}

export function emptyPresenceTally(manifest: PresenceManifest): PresenceTally {
  return { total: { tp: 0, fp: 0, fn: 0 }, perActor: new Map(manifest.actors.map((a) => [a.id, { tp: 0, fp: 0, fn: 0 }])), bins: 0 };
}

/** Asks onlyWatch for every manifest actor in one indexed video and adds its bins to the tally. */
export async function tallyPresenceVideo(
  ctx: EvalContext,
  manifest: PresenceManifest,
  entry: PresenceManifest['videos'][number],
  video: { id: string; durationSec: number },
  actorIdOf: ReadonlyMap<string, string>,
  tally: PresenceTally,
): Promise<void> {
  for (const actor of manifest.actors) {
    const answer = await ctx.app.services.presence.onlyWatch({ videoId: video.id, actorIds: [actorIdOf.get(actor.id)!], padSec: 0 });
    const scored = answer.spans.filter((s: WatchSpan) => manifest.evidence === 'any' || s.evidence !== 'VOICE');
    const predicted = positiveBins(scored, video.durationSec, manifest.binSec);
    const truth = positiveBins(entry.truth.filter((t) => t.actor === actor.id), video.durationSec, manifest.binSec);
    const own = tally.perActor.get(actor.id)!;
    predicted.forEach((p, k) => {
      const t = truth[k]!;
      const key: keyof Tally | null = p && t ? 'tp' : p ? 'fp' : t ? 'fn' : null;
      if (key) {
        own[key]++;
        tally.total[key]++;
      }
    });
    tally.bins += predicted.length;
  }
}

export const presenceTask: EvalTask = {
  task: 'presence',
  async run(raw, ctx: EvalContext) {
    const manifest = parsePresenceManifest(raw);
    const faceOnly = ctx.options['face-only'] === true;
    const { actorIdOf, skippedGallery } = await enrolPresenceActors(manifest, ctx, faceOnly);
    const tally = emptyPresenceTally(manifest);
    let indexSec = 0;
    let mediaSec = 0;
    for (const entry of manifest.videos) {
      const started = performance.now();
      // EVAL.md: a video without "cast" is indexed without one (open set).
      const cast = entry.cast?.map((id) => actorIdOf.get(id)!);
      const video = await ctx.app.indexNow({ path: ctx.resolve(entry.path), ...(cast ? { cast } : {}) });
      indexSec += (performance.now() - started) / 1000;
      mediaSec += video.durationSec;
      await tallyPresenceVideo(ctx, manifest, entry, video, actorIdOf, tally);
      ctx.progress(`${entry.path}: indexed in ${indexSec.toFixed(1)} s so far`);
    }
    return {
      ...presenceScores(tally.total),
      bins: tally.bins,
      perActor: Object.fromEntries([...tally.perActor].map(([id, t]) => [id, presenceScores(t)])),
      evidence: manifest.evidence,
      faceOnly,
      skippedGallery,
      indexSecPerMediaMinute: mediaSec > 0 ? (indexSec / mediaSec) * 60 : null,
    };
  },
};
