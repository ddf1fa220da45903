// EVAL.md task "image-search": index the videos through the pipeline, then ask the
// searchByImage service (the resolver's path) for each screenshot. A hit at rank k is right when
// its video is the expected one and `at` is within the tolerance. With `--baseline colorlayout`
// the same run also scores the ColorLayout-only (trace.moe-style) search.
import { readFile } from 'node:fs/promises';
import type { ImageMatch, ImageSearchMethod } from '../services/image-search.js';
import { percentile, ratio } from './metrics.js';
import { EvalInputError, type EvalContext, type EvalTask } from './types.js';

interface ImageSearchManifest {
  videos: { id: string; path: string }[];
  queries: { image: string; video: string; time: number; transform?: string }[];
  toleranceSec?: number;
}

function parse(manifest: Record<string, unknown>): ImageSearchManifest {
  const { videos, queries } = manifest as Partial<ImageSearchManifest>;
  if (!Array.isArray(videos) || !Array.isArray(queries)) throw new EvalInputError('image-search manifest needs "videos" and "queries" arrays');
  for (const q of queries) {
    if (typeof q?.image !== 'string' || typeof q.video !== 'string' || typeof q.time !== 'number') {
      throw new EvalInputError('each image-search query needs "image", "video" and "time"');
    }
  }
  return manifest as unknown as ImageSearchManifest;
}

/** 1-based rank of the first right hit, or null. */
export function rankOfRightHit(matches: readonly ImageMatch[], videoId: string, time: number, toleranceSec: number): number | null {
  const index = matches.findIndex((m) => m.video.id === videoId && Math.abs(m.at - time) <= toleranceSec);
  return index < 0 ? null : index + 1;
}

interface Scored {
  transform: string;
  rank: number | null;
  ms: number;
}

function summarise(results: readonly Scored[]) {
  const top = (rs: readonly Scored[], k: number) => ratio(rs.filter((r) => r.rank !== null && r.rank <= k).length, rs.length);
  const transforms = [...new Set(results.map((r) => r.transform))].sort();
  return {
    top1: top(results, 1),
    top5: top(results, 5),
    perTransform: Object.fromEntries(
      transforms.map((t) => {
        const rs = results.filter((r) => r.transform === t);
        return [t, { queries: rs.length, top1: top(rs, 1), top5: top(rs, 5) }];
      }),
    ),
  };
}

export const imageSearchTask: EvalTask = {
  task: 'image-search',
  async run(raw, ctx: EvalContext) {
    const manifest = parse(raw);
    const tolerance = manifest.toleranceSec ?? 1.0;
    const videoIdByManifestId = await ctx.indexVideos(manifest.videos);
    const methods: ImageSearchMethod[] = ctx.options.baseline === 'colorlayout' ? ['full', 'colorlayout'] : ['full'];
    const results = new Map<ImageSearchMethod, Scored[]>(methods.map((m) => [m, []]));
    for (const [i, query] of manifest.queries.entries()) {
      const expected = videoIdByManifestId.get(query.video);
      if (!expected) throw new EvalInputError(`query ${query.image} names unknown video "${query.video}"`);
      const bytes = await readFile(ctx.resolve(query.image));
      for (const method of methods) {
        const start = performance.now();
        const matches = await ctx.app.services.imageSearch.searchByImage({ image: bytes, first: 5 }, { method });
        const ms = performance.now() - start;
        results.get(method)!.push({ transform: query.transform ?? 'unknown', rank: rankOfRightHit(matches, expected, query.time, tolerance), ms });
      }
      ctx.progress(`query ${i + 1}/${manifest.queries.length}`);
    }
    const full = results.get('full')!;
    const baseline = results.get('colorlayout');
    const { top1, top5, perTransform } = summarise(full);
    return {
      queries: manifest.queries.length,
      top1,
      top5,
      p50Ms: percentile(full.map((r) => r.ms), 50),
      p95Ms: percentile(full.map((r) => r.ms), 95),
      perTransform,
      ...(baseline
        ? { baseline: { colorlayout: { ...summarise(baseline), p50Ms: percentile(baseline.map((r) => r.ms), 50), p95Ms: percentile(baseline.map((r) => r.ms), 95) } } }
        : {}),
    };
  },
};
