// Eval task "moderation" (ours; ../shared/EVAL.md has no such task yet): visual brand safety per
// segment. Each video lists the time ranges that should be flagged ("flagged", empty for benign
// footage); the video is indexed through the real pipeline and its moderation view read through
// the same service the `moderation` query calls.
//   {"task":"moderation","videos":[{"path":"v.mp4","flagged":[[12.0, 15.5]]}]}
// A flagged segment is false when it overlaps no truth range; a truth range is found when a
// flagged segment overlaps it. Run with VIDSEARCH_STAGES=nsfw to index only what this needs.
import { ratio } from './metrics.js';
import { EvalInputError, type EvalTask } from './types.js';

interface ModerationManifest {
  videos: { path: string; flagged: [number, number][] }[];
}

function parse(manifest: Record<string, unknown>): ModerationManifest {
  const videos = manifest.videos;
  if (!Array.isArray(videos)) throw new EvalInputError('moderation manifest needs a "videos" array');
  for (const v of videos as { path?: unknown; flagged?: unknown }[]) {
    const ranges = v.flagged;
    const isRange = (r: unknown): boolean => Array.isArray(r) && r.length === 2 && r.every((x) => typeof x === 'number');
    if (typeof v.path !== 'string' || !Array.isArray(ranges) || !ranges.every(isRange)) {
      throw new EvalInputError('each moderation video needs "path" and "flagged": [[start, end], …] (empty for benign footage)');
    }
  }
  return manifest as unknown as ModerationManifest;
}

const overlaps = (a: [number, number], b: [number, number]): boolean => a[0] < b[1] && b[0] < a[1];

export const moderationTask: EvalTask = {
  task: 'moderation',
  async run(raw, ctx) {
    const manifest = parse(raw);
    let segments = 0;
    let falseFlags = 0;
    let benignSegments = 0;
    let truthRanges = 0;
    let found = 0;
    const perVideo: Record<string, { segments: number; flagged: number; falseFlags: number; maxVisualRisk: number }> = {};
    for (const entry of manifest.videos) {
      ctx.progress(`indexing ${entry.path}`);
      const video = await ctx.app.indexNow({ path: ctx.resolve(entry.path) });
      const all = await ctx.app.store.catalog.getSegmentsOfVideo(video.id);
      const view = await ctx.app.services.visualModeration.moderation(video.id);
      const flagged = view.segments.filter((s) => s.visualFlags.length > 0).map((s): [number, number] => [s.segment.start, s.segment.end]);
      const wrong = flagged.filter((f) => !entry.flagged.some((t) => overlaps(f, t))).length;
      segments += all.length;
      benignSegments += all.filter((s) => !entry.flagged.some((t) => overlaps([s.start, s.end], t))).length;
      falseFlags += wrong;
      truthRanges += entry.flagged.length;
      found += entry.flagged.filter((t) => flagged.some((f) => overlaps(f, t))).length;
      perVideo[entry.path] = {
        segments: all.length,
        flagged: flagged.length,
        falseFlags: wrong,
        maxVisualRisk: view.segments.reduce((max, s) => Math.max(max, s.visualRisk), 0),
      };
    }
    return { videos: manifest.videos.length, segments, falseFlags, falseFlagRate: ratio(falseFlags, benignSegments), recall: ratio(found, truthRanges), perVideo };
  },
};
