// EVAL.md task "search": dialogue search over soft subtitles / OCR'd text through the
// searchSegments service. A hit is right when its video matches and the expected time lies in
// [start − tolerance, end + tolerance] of the matched cue (or of the segment without a cue).
import type { SegmentHit } from '../services/search.service.js';
import { mean, percentile, ratio } from './metrics.js';
import { EvalInputError, type EvalContext, type EvalTask } from './types.js';

interface SearchManifest {
  videos: { id: string; path: string }[];
  queries: { text: string; video: string; time: number }[];
  toleranceSec?: number;
}

function parse(manifest: Record<string, unknown>): SearchManifest {
  const { videos, queries } = manifest as Partial<SearchManifest>;
  if (!Array.isArray(videos) || !Array.isArray(queries)) throw new EvalInputError('search manifest needs "videos" and "queries" arrays');
  return manifest as unknown as SearchManifest;
}

export function hitIsRight(hit: SegmentHit, expectedVideoId: string, time: number, toleranceSec: number): boolean {
  if (hit.video.id !== expectedVideoId) return false;
  const span = hit.cue ?? hit.segment;
  return time >= span.start - toleranceSec && time <= span.end + toleranceSec;
}

export const searchTask: EvalTask = {
  task: 'search',
  async run(raw, ctx: EvalContext) {
    const manifest = parse(raw);
    const tolerance = manifest.toleranceSec ?? 1.0;
    const videoIdByManifestId = await ctx.indexVideos(manifest.videos);

    const latencies: number[] = [];
    const ranks: (number | null)[] = [];
    for (const query of manifest.queries) {
      const expected = videoIdByManifestId.get(query.video);
      if (!expected) throw new EvalInputError(`query "${query.text}" names unknown video "${query.video}"`);
      const start = performance.now();
      const page = await ctx.app.services.search.searchSegments(query.text, null, 5, null);
      latencies.push(performance.now() - start);
      const rank = page.edges.findIndex((edge) => hitIsRight(edge.node, expected, query.time, tolerance));
      ranks.push(rank < 0 ? null : rank + 1);
    }
    return {
      queries: manifest.queries.length,
      top1: ratio(ranks.filter((r) => r === 1).length, ranks.length),
      top5: ratio(ranks.filter((r) => r !== null && r <= 5).length, ranks.length),
      p50Ms: percentile(latencies, 50),
      meanMs: mean(latencies),
    };
  },
};
