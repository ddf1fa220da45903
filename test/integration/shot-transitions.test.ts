// Shot detection on the generated transitions set (test/helpers/transitions-set.ts): fades with
// holds of 0.1–3 s and ramps of 0.3–2 s, cuts into and out of holds and title cards, dissolves,
// wipes, final fades to black; flashes, pans and zooms as negatives. The detector's thresholds
// were chosen looking at the "fit" half only; the "heldout" half is scored, never tuned on.
// Frames are decoded exactly as the shots stage decodes them (10 fps, 96 px wide).
import { describe, expect, it } from 'vitest';
import { matchCuts } from '../../src/eval/shots.js';
import { streamFrames } from '../../src/media/frames.js';
import { detectShotBoundaries, frameFeatures, type FrameFeatures } from '../../src/indexers/shot-detection.js';
import { SHOT_ANALYSIS_WIDTH } from '../../src/indexers/shots.js';
import { testTools } from '../helpers/media.js';
import { renderTransitionVideo, transitionPieces, transitionSetSpecs } from '../helpers/transitions-set.js';

const FPS = 10;
const TOLERANCE_SEC = 0.2;

async function detect(file: string): Promise<number[]> {
  const frames: FrameFeatures[] = [];
  for await (const f of streamFrames(testTools, file, { fps: FPS, width: SHOT_ANALYSIS_WIDTH, pixFmt: 'rgb24' })) {
    frames.push(frameFeatures(f.time, f.data, f.width, f.height));
  }
  return detectShotBoundaries(frames, { fps: FPS }).map((b) => b.time);
}

interface Tally {
  tp: number;
  fp: number;
  fn: number;
}

const f1 = ({ tp, fp, fn }: Tally): number => (tp ? (2 * tp) / (2 * tp + fp + fn) : 0);

describe('shot boundaries on the generated transitions set', () => {
  const pieces = transitionPieces();

  it.skipIf(!pieces)('scores F1 ≥ 0.95 on the held-out half', async () => {
    const tallies: Record<'fit' | 'heldout', Tally> = { fit: { tp: 0, fp: 0, fn: 0 }, heldout: { tp: 0, fp: 0, fn: 0 } };
    for (const spec of transitionSetSpecs(pieces!)) {
      const video = await renderTransitionVideo(spec, pieces!);
      const predicted = await detect(video.path);
      const m = matchCuts(predicted, video.truth, TOLERANCE_SEC);
      const t = tallies[spec.half];
      t.tp += m.truePositives;
      t.fp += m.falsePositives;
      t.fn += m.falseNegatives;
      if (m.falsePositives || m.falseNegatives) {
        const hit = new Set(m.pairs.map(([p]) => p));
        const found = new Set(m.pairs.map(([, t]) => t));
        const extra = predicted.filter((p) => !hit.has(p)).map((p) => p.toFixed(2));
        const missed = video.truth.filter((t) => !found.has(t));
        console.info(`[transitions] ${spec.name} (${spec.half}): extra ${extra.join(' ') || '-'}, missed ${missed.join(' ') || '-'}`);
      }
    }
    for (const [half, t] of Object.entries(tallies)) {
      console.info(`[transitions] ${half}: boundaries ${t.tp + t.fn}, precision ${(t.tp / (t.tp + t.fp)).toFixed(3)}, recall ${(t.tp / (t.tp + t.fn)).toFixed(3)}, f1 ${f1(t).toFixed(3)}`);
    }
    expect(f1(tallies.heldout)).toBeGreaterThanOrEqual(0.95);
    expect(f1(tallies.fit)).toBeGreaterThanOrEqual(0.9);
  }, 600_000);
});
