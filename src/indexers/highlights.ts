// Stage "highlights": the scenes stage's per-segment signals (+ who is on screen) → the features
// the highlight scorer weighs, each normalised within the video (z-score, clipped to ±3, /3), so
// "loud" means loud for this video. Stored per segment; scoring happens at query time with the
// weights editors' feedback has taught (services/highlights.ts), so learning never needs a re-index.
import type { AppearanceSpanRecord } from '../store/appearances.js';
import type { HighlightSignalsRecord } from '../store/ads.js';
import { HIGHLIGHT_FEATURES } from '../services/highlights.js';
import type { SegmentSignals, ScenesStageOutput } from './scenes.js';
import type { Stage } from './stage.js';

/** Cuts within this many seconds either side of a segment's middle make its cut rate. */
const CUT_RATE_HALF_WINDOW_SEC = 15;

export interface HighlightsStageOutput {
  segments: number;
  features: readonly string[];
}

function overlap(aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  return Math.max(0, Math.min(aEnd, bEnd) - Math.max(aStart, bStart));
}

/** Raw feature vector of one segment, in HIGHLIGHT_FEATURES order. */
export function rawFeatures(s: SegmentSignals, cutTimes: readonly number[], faceSpans: readonly AppearanceSpanRecord[]): number[] {
  const middle = (s.start + s.end) / 2;
  const cuts = cutTimes.filter((t) => Math.abs(t - middle) <= CUT_RATE_HALF_WINDOW_SEC).length;
  const length = Math.max(1e-6, s.end - s.start);
  const knownShare = Math.min(1, faceSpans.reduce((sum, span) => sum + overlap(span.start, span.end, s.start, s.end), 0) / length);
  // A known actor counts fully in a close-up (face ≥ 30 % of the frame height), less when smaller.
  const closeness = Math.min(1, s.faceHeight / 0.3);
  return [s.loudnessDb, s.loudnessChangeDb, s.speechFraction, s.motion, (cuts * 60) / (2 * CUT_RATE_HALF_WINDOW_SEC), knownShare * closeness];
}

/** Column-wise z-score within the video, clipped to ±3 and scaled to ±1; constant columns → 0. */
export function normaliseColumns(rows: readonly number[][]): number[][] {
  if (rows.length === 0) return [];
  const width = rows[0]!.length;
  const means = Array.from({ length: width }, (_, j) => rows.reduce((sum, r) => sum + r[j]!, 0) / rows.length);
  const stds = means.map((m, j) => Math.sqrt(rows.reduce((sum, r) => sum + (r[j]! - m) ** 2, 0) / rows.length));
  return rows.map((r) => r.map((v, j) => (stds[j]! > 1e-9 ? Math.round((Math.max(-3, Math.min(3, (v - means[j]!) / stds[j]!)) / 3) * 1e4) / 1e4 : 0)));
}

export const highlightsStage: Stage<{ scenes?: ScenesStageOutput }, HighlightsStageOutput> & { name: 'highlights' } = {
  name: 'highlights',
  weight: 0.2,
  needs: ['scenes'],
  // Scores the stored FACE and VOICE spans too.
  after: ['faces', 'voices'],
  async run(ctx, input) {
    const { store, video } = ctx;
    const signals = input.scenes?.segments ?? [];
    const [shots, spans] = await Promise.all([store.catalog.getShots(video.id), store.appearances.getSpansOfVideo(video.id)]);
    const cutTimes = shots.filter((s) => s.index > 0).map((s) => s.start);
    const faceSpans = spans.filter((s) => s.evidence === 'FACE');
    const features = normaliseColumns(signals.map((s) => rawFeatures(s, cutTimes, faceSpans)));
    const rows: HighlightSignalsRecord[] = signals.map((s, i) => ({ videoId: video.id, segmentId: s.segmentId, start: s.start, end: s.end, features: features[i]! }));
    await store.highlights.replaceVideoSignals(video.id, rows);
    return { segments: rows.length, features: HIGHLIGHT_FEATURES };
  },
};
