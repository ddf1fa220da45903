// EVAL.md task "subtitles": index each video through the real pipeline, read back the subtitle
// and on-screen-text cues it stored, and score each truth cue against the stored spans that
// overlap it in time (recovered at CER ≤ 0.2; cer is the best overlapping span's, 1 if none).
import { distance } from 'fastest-levenshtein';
import type { CueRecord } from '../domain.js';
import { normalizeForScoring } from '../text/normalize.js';
import { mean, ratio } from './metrics.js';
import { EvalInputError, type EvalContext, type EvalTask } from './types.js';

interface SubtitlesManifest {
  videos: { path: string; cues: { start: number; end: number; text: string }[] }[];
}

const RECOVERED_CER = 0.2;
const PAGE = 100;

function parse(manifest: Record<string, unknown>): SubtitlesManifest {
  const { videos } = manifest as Partial<SubtitlesManifest>;
  if (!Array.isArray(videos)) throw new EvalInputError('subtitles manifest needs a "videos" array');
  for (const video of videos) {
    if (typeof video?.path !== 'string' || !Array.isArray(video.cues)) throw new EvalInputError('each video needs "path" and "cues"');
    for (const cue of video.cues) {
      if (typeof cue?.start !== 'number' || typeof cue.end !== 'number' || typeof cue.text !== 'string') {
        throw new EvalInputError('each cue needs numeric "start", "end" and a "text"');
      }
    }
  }
  return manifest as unknown as SubtitlesManifest;
}

/** CER of a stored span's text against a truth cue's, both normalised (newlines dropped), capped at 1. */
export function cueCer(truth: string, stored: string): number {
  const target = normalizeForScoring(truth);
  if (!target) return 0;
  return Math.min(1, distance(target, normalizeForScoring(stored)) / target.length);
}

async function storedCues(ctx: EvalContext, videoId: string): Promise<CueRecord[]> {
  const cues: CueRecord[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await ctx.app.services.videos.cues(videoId, ['SUBTITLE', 'ON_SCREEN_TEXT'], PAGE, after);
    cues.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return cues;
    after = page.pageInfo.endCursor;
  }
}

export const subtitlesTask: EvalTask = {
  task: 'subtitles',
  async run(raw, ctx) {
    const manifest = parse(raw);
    const files = manifest.videos.map((v) => ctx.resolve(v.path));
    let recovered = 0;
    const cers: number[] = [];
    for (const [i, entry] of manifest.videos.entries()) {
      ctx.progress(`indexing ${entry.path}`);
      const video = await ctx.app.indexNow({ path: files[i]! });
      const stored = await storedCues(ctx, video.id);
      for (const truth of entry.cues) {
        const overlapping = stored.filter((s) => s.start < truth.end && s.end > truth.start);
        const best = Math.min(1, ...overlapping.map((s) => cueCer(truth.text, s.text)));
        cers.push(best);
        if (best <= RECOVERED_CER) recovered++;
        else ctx.progress(`${entry.path} ${truth.start}-${truth.end}: "${truth.text}" not recovered (best CER ${best.toFixed(2)})`);
      }
    }
    return { cues: cers.length, cueRecall: ratio(recovered, cers.length), cer: mean(cers) };
  },
};
