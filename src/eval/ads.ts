// EVAL.md task "ads": enrol the actors (faces and voices, one gallery file at a time), index the
// videos through the pipeline, upsert the ads through the upsertAd service path (manifest actor ids
// mapped to the enrolled ids), then ask the matchAds service for the moment (videoId + time, i.e.
// the segment containing `time`, focused on the line at that time). top1 = the expected ad first.
import type { AdInput } from '../services/ads/index.js';
import { percentile, ratio } from './metrics.js';
import { EvalInputError, type EvalContext, type EvalTask } from './types.js';

interface AdsManifest {
  actors: { id: string; name?: string; faces?: string[]; voices?: string[] }[];
  videos: { id: string; path: string }[];
  ads: (Omit<AdInput, 'id' | 'title'> & { id: string; title?: string })[];
  queries: { video: string; time: number; expected: string | null }[];
}

const stringList = (value: unknown): boolean => value === undefined || (Array.isArray(value) && value.every((v) => typeof v === 'string'));

function parse(raw: Record<string, unknown>): AdsManifest {
  const { actors = [], videos, ads, queries } = raw as Partial<AdsManifest>;
  if (!Array.isArray(actors) || !Array.isArray(videos) || !Array.isArray(ads) || !Array.isArray(queries)) {
    throw new EvalInputError('ads manifest needs "videos", "ads" and "queries" arrays (and optionally "actors")');
  }
  for (const actor of actors) {
    if (typeof actor?.id !== 'string' || !stringList(actor.faces) || !stringList(actor.voices)) throw new EvalInputError('each actor needs an "id" and path arrays');
  }
  for (const video of videos) if (typeof video?.id !== 'string' || typeof video.path !== 'string') throw new EvalInputError('each video needs "id" and "path"');
  for (const ad of ads) if (typeof ad?.id !== 'string') throw new EvalInputError('each ad needs an "id"');
  for (const q of queries) {
    if (typeof q?.video !== 'string' || typeof q.time !== 'number') throw new EvalInputError('each query needs "video" and "time"');
  }
  return { actors, videos, ads, queries };
}

export const adsTask: EvalTask = {
  task: 'ads',
  async run(raw, ctx: EvalContext) {
    const manifest = parse(raw);
    const { actors, voices, ads } = ctx.app.services;

    const actorIdOf = new Map<string, string>();
    let skippedGallery = 0;
    for (const entry of manifest.actors) {
      const actor = await actors.enrollActor({ name: entry.name ?? entry.id });
      actorIdOf.set(entry.id, actor.id);
      for (const file of entry.faces ?? []) skippedGallery += (await actors.addFaces(actor.id, { imagePaths: [ctx.resolve(file)] })).skipped.length;
      for (const file of entry.voices ?? []) skippedGallery += (await voices.addVoices(actor.id, { voicePaths: [ctx.resolve(file)] })).skipped.length;
    }

    const videoIdOf = await ctx.indexVideos(manifest.videos);

    for (const ad of manifest.ads) {
      const unknown = (ad.actors ?? []).filter((a) => !actorIdOf.has(a));
      if (unknown.length) throw new EvalInputError(`ad ${ad.id} names unknown actors ${unknown.join(', ')}`);
      await ads.upsertAd({ ...ad, title: ad.title ?? ad.id, actors: (ad.actors ?? []).map((a) => actorIdOf.get(a)!) });
    }

    const latencies: number[] = [];
    let right = 0;
    const answers: { video: string; time: number; expected: string | null; got: string | null; score: number | null }[] = [];
    for (const query of manifest.queries) {
      const videoId = videoIdOf.get(query.video);
      if (!videoId) throw new EvalInputError(`query names unknown video "${query.video}"`);
      const started = performance.now();
      const matches = await ads.matchAds({ videoId, time: query.time }, 5);
      latencies.push(performance.now() - started);
      const got = matches[0]?.ad.id ?? null;
      // An expected null means no ad fits (e.g. every candidate is excluded).
      if (got === (query.expected ?? null)) right += 1;
      answers.push({ video: query.video, time: query.time, expected: query.expected, got, score: matches[0]?.score ?? null });
      ctx.progress(`${query.video}@${query.time}: expected ${query.expected} got ${got} (${matches.map((m) => `${m.ad.id}=${m.score}`).join(', ')})`);
    }
    return {
      queries: manifest.queries.length,
      top1: ratio(right, manifest.queries.length),
      p50Ms: percentile(latencies, 50),
      skippedGallery,
      answers,
    };
  },
};
