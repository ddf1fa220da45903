// Highlights (精彩片段): each segment's normalised signals (indexers/highlights.ts) are scored by a
// logistic model, p = σ(w·x + b); clips grow from the best segments to at least minSec (and at
// most maxSec) without overlapping. Editors mark clips good or bad; each mark is one online
// logistic-regression step (SGD with L2) on the clip's features, persisted, so the ranking of
// every video follows the editors' taste from the next call on.
import { randomUUID } from 'node:crypto';
import { BadInputError, NotFoundError } from '../errors.js';
import type { HighlightModelRecord, HighlightSignalsRecord } from '../store/ads.js';
import type { Store } from '../store/interfaces.js';

export const HIGHLIGHT_FEATURES = ['loudness', 'loudnessChange', 'speech', 'motion', 'cutRate', 'knownCloseUp'] as const;

/** The prior before any feedback: change, motion, cuts and known faces in close-up make moments. */
export const PRIOR_MODEL: Pick<HighlightModelRecord, 'weights' | 'bias'> = { weights: [0.6, 0.8, 0.2, 0.6, 0.5, 0.8], bias: 0 };
const LEARNING_RATE = 0.3;
const L2 = 0.001;
const DEFAULT_COUNT = 5;
const MAX_COUNT = 50;
const DEFAULT_MIN_SEC = 5;
const DEFAULT_MAX_SEC = 30;
const MAX_CLIP_SEC = 600;
/** A neighbour joins a clip past minSec only while it scores at least this share of the seed. */
const EXTEND_SHARE = 0.9;

export interface Highlight {
  videoId: string;
  start: number;
  end: number;
  /** 0..1: duration-weighted mean of the segments' probabilities. */
  score: number;
  segmentIds: string[];
  /** Feature name → the clip's normalised value (what the score was made of). */
  features: Record<string, number>;
}

export interface HighlightFeedbackResult {
  updates: number;
  weights: Record<string, number>;
  bias: number;
}

export interface HighlightsService {
  highlights(videoId: string, first?: number | null, minSec?: number | null, maxSec?: number | null): Promise<Highlight[]>;
  markHighlight(videoId: string, start: number, end: number, good: boolean): Promise<HighlightFeedbackResult>;
  model(): Promise<HighlightFeedbackResult>;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

function probability(model: Pick<HighlightModelRecord, 'weights' | 'bias'>, features: readonly number[]): number {
  return sigmoid(features.reduce((sum, x, j) => sum + x * (model.weights[j] ?? 0), model.bias));
}

/** One SGD step of L2-regularised logistic regression towards `label`. */
export function learnStep(model: HighlightModelRecord, features: readonly number[], good: boolean): HighlightModelRecord {
  const error = (good ? 1 : 0) - probability(model, features);
  return {
    weights: model.weights.map((w, j) => w + LEARNING_RATE * (error * (features[j] ?? 0) - L2 * w)),
    bias: model.bias + LEARNING_RATE * error,
    updates: model.updates + 1,
    updatedAt: new Date().toISOString(),
  };
}

function clipFeatures(rows: readonly HighlightSignalsRecord[], start: number, end: number): number[] {
  const total = HIGHLIGHT_FEATURES.map(() => 0);
  let weight = 0;
  for (const r of rows) {
    const w = Math.max(0, Math.min(end, r.end) - Math.max(start, r.start));
    if (w <= 0) continue;
    r.features.forEach((x, j) => (total[j]! += x * w));
    weight += w;
  }
  return weight > 0 ? total.map((x) => x / weight) : total;
}

function named(values: readonly number[]): Record<string, number> {
  return Object.fromEntries(HIGHLIGHT_FEATURES.map((name, j) => [name, Math.round((values[j] ?? 0) * 1e4) / 1e4]));
}

/** Best non-overlapping clips: seeds in score order, grown to minSec, then while neighbours keep up. */
export function pickHighlights(rows: readonly HighlightSignalsRecord[], scores: readonly number[], count: number, minSec: number, maxSec: number): Highlight[] {
  const used = new Array<boolean>(rows.length).fill(false);
  const order = rows.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const clips: Highlight[] = [];
  const length = (from: number, to: number): number => rows[to]!.end - rows[from]!.start;
  for (const seed of order) {
    if (clips.length >= count) break;
    if (used[seed]) continue;
    let from = seed;
    let to = seed;
    for (;;) {
      const left = from > 0 && !used[from - 1] && rows[from]!.start - rows[from - 1]!.end < 0.05 ? from - 1 : null;
      const right = to + 1 < rows.length && !used[to + 1] && rows[to + 1]!.start - rows[to]!.end < 0.05 ? to + 1 : null;
      const candidates = [left, right].filter((c): c is number => c !== null && length(Math.min(from, c), Math.max(to, c)) <= maxSec);
      if (!candidates.length) break;
      const next = candidates.sort((a, b) => scores[b]! - scores[a]!)[0]!;
      if (length(from, to) >= minSec && scores[next]! < EXTEND_SHARE * scores[seed]!) break;
      from = Math.min(from, next);
      to = Math.max(to, next);
    }
    if (length(from, to) < minSec && rows.length > 1 && length(0, rows.length - 1) >= minSec) {
      // Hemmed in by earlier clips and too short to stand alone.
      continue;
    }
    for (let i = from; i <= to; i++) used[i] = true;
    const start = rows[from]!.start;
    const end = Math.min(rows[to]!.end, start + maxSec);
    let weighted = 0;
    for (let i = from; i <= to; i++) weighted += scores[i]! * Math.max(0, Math.min(end, rows[i]!.end) - rows[i]!.start);
    clips.push({
      videoId: rows[seed]!.videoId,
      start,
      end,
      score: Math.round((weighted / Math.max(1e-6, end - start)) * 1e4) / 1e4,
      segmentIds: rows.slice(from, to + 1).map((r) => r.segmentId),
      features: named(clipFeatures(rows, start, end)),
    });
  }
  return clips.sort((a, b) => b.score - a.score || a.start - b.start);
}

function positive(name: string, value: number | null | undefined, fallback: number, max: number): number {
  if (value === null || value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0 || value > max) throw new BadInputError(`${name} must be a number in (0, ${max}]`, { [name]: value });
  return value;
}

export function createHighlightsService(deps: { store: Store }): HighlightsService {
  const { store } = deps;

  async function currentModel(): Promise<HighlightModelRecord> {
    return (await store.highlights.getModel()) ?? { ...PRIOR_MODEL, updates: 0, updatedAt: new Date(0).toISOString() };
  }

  const describe = (m: HighlightModelRecord): HighlightFeedbackResult => ({ updates: m.updates, weights: named(m.weights), bias: Math.round(m.bias * 1e4) / 1e4 });

  return {
    async highlights(videoId, first, minSec, maxSec) {
      const count = first === null || first === undefined ? DEFAULT_COUNT : first;
      if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) throw new BadInputError(`first must be a whole number from 1 to ${MAX_COUNT}`, { first });
      const min = positive('minSec', minSec, DEFAULT_MIN_SEC, MAX_CLIP_SEC);
      const max = positive('maxSec', maxSec, Math.max(DEFAULT_MAX_SEC, min), MAX_CLIP_SEC);
      if (min > max) throw new BadInputError('minSec must not exceed maxSec', { minSec: min, maxSec: max });
      if (!(await store.catalog.getVideo(videoId))) throw new NotFoundError('video', videoId);
      const [rows, model] = await Promise.all([store.highlights.getSignalsOfVideo(videoId), currentModel()]);
      return pickHighlights(rows, rows.map((r) => probability(model, r.features)), count, min, max);
    },

    async markHighlight(videoId, start, end, good) {
      if (!Number.isFinite(start) || !Number.isFinite(end) || start < 0 || end <= start) throw new BadInputError('need 0 ≤ start < end', { start, end });
      if (!(await store.catalog.getVideo(videoId))) throw new NotFoundError('video', videoId);
      const rows = await store.highlights.getSignalsOfVideo(videoId);
      if (!rows.some((r) => r.end > start && r.start < end)) throw new BadInputError('no indexed segment overlaps that clip', { start, end });
      const features = clipFeatures(rows, start, end);
      const model = learnStep(await currentModel(), features, good);
      await store.highlights.addFeedback({ id: randomUUID(), videoId, start, end, good, features, createdAt: model.updatedAt }, model);
      return describe(model);
    },

    async model() {
      return describe(await currentModel());
    },
  };
}
