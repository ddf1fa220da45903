// EVAL.md task "image-search": index the videos through the pipeline, then ask the
// searchByImage service (the resolver's path) for each screenshot. A hit at rank k is right when
// its video is the expected one and `at` is within the tolerance. With `--baseline colorlayout`
// the same run also scores the ColorLayout-only (trace.moe-style) search.
//
// Besides an image file, a query may name { video, time, transform } only: the picture is then
// built by construction from the video's frame (image-queries.ts, cached in os.tmpdir()). Queries
// may carry `half` ("fit" / "report"): thresholds are fitted on one half and reported on the
// other, so the metrics are also given per half. Top-1 misses are split by failure mode: the
// wrong video, or the right video at the wrong moment. `--per-query <file>` writes one JSON line
// per query (the top answer's confidences and whether it was right) for calibration fits.
import { readFile, writeFile } from 'node:fs/promises';
import type { ImageMatch, ImageSearchMethod, PhaseTimings } from '../services/image-search/index.js';
import { generatedQuery, isQueryTransform } from './image-queries.js';
import { percentile, ratio } from './metrics.js';
import { EvalInputError, type EvalContext, type EvalTask } from './types.js';

interface ManifestQuery {
  image?: string;
  video: string;
  time: number;
  transform?: string;
  half?: string;
}

interface ImageSearchManifest {
  videos: { id: string; path: string }[];
  queries: ManifestQuery[];
  toleranceSec?: number;
}

function parse(manifest: Record<string, unknown>): ImageSearchManifest {
  const { videos, queries } = manifest as Partial<ImageSearchManifest>;
  if (!Array.isArray(videos) || !Array.isArray(queries)) throw new EvalInputError('image-search manifest needs "videos" and "queries" arrays');
  for (const q of queries) {
    if (typeof q?.video !== 'string' || typeof q.time !== 'number') throw new EvalInputError('each image-search query needs "video" and "time"');
    if (typeof q.image !== 'string' && !(typeof q.transform === 'string' && isQueryTransform(q.transform))) {
      throw new EvalInputError('each image-search query needs "image", or a known "transform" to build it from the video');
    }
  }
  return manifest as unknown as ImageSearchManifest;
}

/** 1-based rank of the first right hit, or null. */
export function rankOfRightHit(matches: readonly ImageMatch[], videoId: string, time: number, toleranceSec: number): number | null {
  const index = matches.findIndex((m) => m.video.id === videoId && Math.abs(m.at - time) <= toleranceSec);
  return index < 0 ? null : index + 1;
}

export type FailureMode = 'right' | 'wrongMoment' | 'wrongVideo' | 'noAnswer';

/** What the top answer got wrong, if anything. */
export function failureMode(matches: readonly ImageMatch[], videoId: string, time: number, toleranceSec: number): FailureMode {
  const top = matches[0];
  if (!top) return 'noAnswer';
  if (top.video.id !== videoId) return 'wrongVideo';
  return Math.abs(top.at - time) <= toleranceSec ? 'right' : 'wrongMoment';
}

interface Scored {
  transform: string;
  half: string | null;
  rank: number | null;
  mode: FailureMode;
  ms: number;
}

function summary(rs: readonly Scored[]) {
  const top = (k: number) => ratio(rs.filter((r) => r.rank !== null && r.rank <= k).length, rs.length);
  const count = (mode: FailureMode) => rs.filter((r) => r.mode === mode).length;
  return {
    queries: rs.length,
    top1: top(1),
    top5: top(5),
    rightVideo: ratio(rs.filter((r) => r.mode === 'right' || r.mode === 'wrongMoment').length, rs.length),
    failureModes: { wrongMoment: count('wrongMoment'), wrongVideo: count('wrongVideo'), noAnswer: count('noAnswer') },
  };
}

function summarise(results: readonly Scored[]) {
  const by = (key: (r: Scored) => string | null) => {
    const names = [...new Set(results.map(key).filter((k): k is string => k !== null))].sort();
    return Object.fromEntries(names.map((name) => [name, summary(results.filter((r) => key(r) === name))]));
  };
  const halves = by((r) => r.half);
  return {
    ...summary(results),
    p50Ms: percentile(results.map((r) => r.ms), 50),
    p95Ms: percentile(results.map((r) => r.ms), 95),
    perTransform: by((r) => r.transform),
    ...(Object.keys(halves).length > 0 ? { perHalf: halves, perHalfTransform: Object.fromEntries(Object.keys(halves).map((h) => [h, by((r) => (r.half === h ? r.transform : null))])) } : {}),
  };
}

async function queryBytes(query: ManifestQuery, videoPath: string, ctx: EvalContext): Promise<Buffer> {
  if (typeof query.image === 'string') return readFile(ctx.resolve(query.image));
  return generatedQuery(ctx.app.media, ctx.resolve(videoPath), query.time, query.transform as Parameters<typeof generatedQuery>[3]);
}

export const imageSearchTask: EvalTask = {
  task: 'image-search',
  async run(raw, ctx: EvalContext) {
    const manifest = parse(raw);
    const tolerance = manifest.toleranceSec ?? 1.0;
    const videoIdByManifestId = await ctx.indexVideos(manifest.videos);
    const pathById = new Map(manifest.videos.map((v) => [v.id, v.path]));
    const methods: ImageSearchMethod[] = ctx.options.baseline === 'colorlayout' ? ['full', 'colorlayout'] : ['full'];
    const results = new Map<ImageSearchMethod, Scored[]>(methods.map((m) => [m, []]));
    const rows: string[] = [];
    for (const [i, query] of manifest.queries.entries()) {
      const expected = videoIdByManifestId.get(query.video);
      if (!expected) throw new EvalInputError(`query ${query.image ?? i} names unknown video "${query.video}"`);
      const bytes = await queryBytes(query, pathById.get(query.video)!, ctx);
      for (const method of methods) {
        const start = performance.now();
        const phases: PhaseTimings = {};
        const matches = await ctx.app.services.imageSearch.searchByImage({ image: bytes, first: 5 }, { method, phases });
        const ms = performance.now() - start;
        const mode = failureMode(matches, expected, query.time, tolerance);
        results.get(method)!.push({ transform: query.transform ?? 'unknown', half: query.half ?? null, rank: rankOfRightHit(matches, expected, query.time, tolerance), mode, ms });
        const top = matches[0];
        if (method === 'full') {
          rows.push(
            JSON.stringify({
              query: query.image ?? `${query.video}@${query.time}/${query.transform}`,
              half: query.half ?? null,
              transform: query.transform ?? null,
              mode,
              similarity: top?.similarity ?? null,
              timeConfidence: top?.timeConfidence ?? null,
              inliers: top?.inliers ?? null,
              errorSec: top && top.video.id === expected ? Math.round((top.at - query.time) * 100) / 100 : null,
              inStretch: top ? top.video.id === expected && query.time >= top.from - tolerance && query.time <= top.to + tolerance : false,
              // For refitting timeConfidence from these rows (calibration.ts).
              stretchSec: top ? Math.round((top.to - top.from) * 100) / 100 : null,
              momentMargin: top?.momentMargin ?? null,
              // Where the query's time went (ms per phase), for the cost of a change.
              phases,
            }),
          );
        }
      }
      ctx.progress(`query ${i + 1}/${manifest.queries.length}`);
    }
    if (typeof ctx.options['per-query'] === 'string') await writeFile(ctx.options['per-query'], rows.map((r) => `${r}\n`).join(''));
    const baseline = results.get('colorlayout');
    return {
      ...summarise(results.get('full')!),
      ...(baseline ? { baseline: { colorlayout: summarise(baseline) } } : {}),
    };
  },
};
