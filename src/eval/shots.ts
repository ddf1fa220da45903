// EVAL.md task "shots": index each video through the real pipeline, read its stored shots and
// score the shot starts (all but the first) as cut times against the truth: one-to-one matching
// within the tolerance, greedy nearest pair first.
import { f1, ratio } from './metrics.js';
import { EvalInputError, type EvalTask } from './types.js';

interface ShotsManifest {
  videos: { path: string; cuts: number[] }[];
  toleranceSec?: number;
}

function parse(manifest: Record<string, unknown>): ShotsManifest {
  const videos = manifest.videos;
  if (!Array.isArray(videos)) throw new EvalInputError('shots manifest needs a "videos" array');
  for (const v of videos as { path?: unknown; cuts?: unknown }[]) {
    if (typeof v.path !== 'string' || !Array.isArray(v.cuts) || !v.cuts.every((c) => typeof c === 'number')) {
      throw new EvalInputError('each shots video needs "path" and numeric "cuts"');
    }
  }
  return manifest as unknown as ShotsManifest;
}

export interface CutMatch {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  /** Matched (predicted, truth) pairs. */
  pairs: [number, number][];
}

/** One-to-one matching of predicted to true cut times within `toleranceSec`, nearest pairs first. */
export function matchCuts(predicted: readonly number[], truth: readonly number[], toleranceSec: number): CutMatch {
  const candidates: { gap: number; p: number; t: number }[] = [];
  predicted.forEach((p, pi) =>
    truth.forEach((t, ti) => {
      const gap = Math.abs(p - t);
      // A hair of slack: 3.2 − 3.0 is 0.2000000000000002 in floating point.
      if (gap <= toleranceSec + 1e-9) candidates.push({ gap, p: pi, t: ti });
    }),
  );
  candidates.sort((a, b) => a.gap - b.gap);
  const usedPredicted = new Set<number>();
  const usedTruth = new Set<number>();
  const pairs: [number, number][] = [];
  for (const c of candidates) {
    if (usedPredicted.has(c.p) || usedTruth.has(c.t)) continue;
    usedPredicted.add(c.p);
    usedTruth.add(c.t);
    pairs.push([predicted[c.p]!, truth[c.t]!]);
  }
  return {
    truePositives: pairs.length,
    falsePositives: predicted.length - pairs.length,
    falseNegatives: truth.length - pairs.length,
    pairs,
  };
}

export const shotsTask: EvalTask = {
  task: 'shots',
  async run(raw, ctx) {
    const manifest = parse(raw);
    const tolerance = manifest.toleranceSec ?? 0.2;
    let tp = 0;
    let fp = 0;
    let fn = 0;
    const perVideo: Record<string, { precision: number | null; recall: number | null; predicted: number }> = {};
    for (const entry of manifest.videos) {
      ctx.progress(`indexing ${entry.path}`);
      const video = await ctx.app.indexNow({ path: ctx.resolve(entry.path) });
      const shots = await ctx.app.store.catalog.getShots(video.id);
      const cuts = shots.filter((s) => s.index > 0).map((s) => s.start);
      const m = matchCuts(cuts, entry.cuts, tolerance);
      tp += m.truePositives;
      fp += m.falsePositives;
      fn += m.falseNegatives;
      perVideo[entry.path] = { precision: ratio(m.truePositives, cuts.length), recall: ratio(m.truePositives, entry.cuts.length), predicted: cuts.length };
    }
    const precision = ratio(tp, tp + fp);
    const recall = ratio(tp, tp + fn);
    return { precision, recall, f1: f1(precision, recall), videos: manifest.videos.length, perVideo };
  },
};
