// Weighted fusion of a text ranking and a vector ranking into one list (hybrid search).
//
// Why not reciprocal rank fusion: RRF only sees ranks, so an item ranked first on one side and
// absent from the other scores like the other side's first item and below anything found by both
// sides, however weakly. Users of both engines saw strong image matches buried that way. Here the
// fused score is a convex combination of scores that mean something:
//   - vector side: the calibrated similarity (0..1, a probability of being the right moment);
//   - text side: the raw relevance divided by the best relevance of this query (0..1). BM25 has
//     no fixed scale (FTS5 bm25 and Elasticsearch _score differ, and both move with corpus
//     statistics), so a saturating map would need a constant per backend and corpus; dividing by
//     the query's best keeps the text engine's order and needs none. Its cost: the best text hit
//     of a query scores 1 even when it is weak, which the weight rule below accounts for.
// final = w_text · text + w_vector · vector, a side that did not find the item counting 0.
//
// The rule that answers the complaint: w_vector · 0.9 > w_text, so an item with similarity ≥ 0.9
// outranks every item the vector side did not find, even a query's best text hit (text = 1).

export interface FusionWeights {
  text: number;
  vector: number;
}

/** A calibrated similarity this high is a strong vector hit: never ranked below text-only hits. */
export const STRONG_VECTOR_SIMILARITY = 0.9;

/**
 * 0.4 / 0.6: a strong vector hit (0.9 → 0.54) clears the best text-only hit (0.4) with margin.
 * A vector-only hit needs similarity > 0.67 to pass the best text-only hit; below that the
 * calibrated chance of being right is low enough that the text engine's best answer goes first.
 * An item both sides found goes first once its similarity reaches 0.24 (with the best text, it
 * then beats a vector-only 0.9): the moment that looks like the picture AND says the words.
 */
export const DEFAULT_FUSION_WEIGHTS: FusionWeights = { text: 0.4, vector: 0.6 };

/**
 * The weights scaled to sum 1 (so fused scores stay in 0..1); RangeError when they are negative,
 * both zero, or would let the best text-only hit reach a strong vector hit.
 */
export function fusionWeights(text: number, vector: number): FusionWeights {
  if (!Number.isFinite(text) || !Number.isFinite(vector) || text < 0 || vector < 0 || text + vector === 0) {
    throw new RangeError(`fusion weights must be finite, ≥ 0 and not both 0 (text ${text}, vector ${vector})`);
  }
  const sum = text + vector;
  const weights = { text: text / sum, vector: vector / sum };
  if (weights.vector * STRONG_VECTOR_SIMILARITY <= weights.text) {
    throw new RangeError(
      `fusion weights text ${text}, vector ${vector} would rank a vector hit of similarity ${STRONG_VECTOR_SIMILARITY} below the best text-only hit: ` +
        `the vector weight must be more than ${(1 / (1 + STRONG_VECTOR_SIMILARITY)).toFixed(3)} of the total`,
    );
  }
  return weights;
}

export interface TextScored {
  key: string;
  /** The text engine's relevance (any positive scale, higher is better). */
  score: number;
}

export interface VectorScored {
  key: string;
  /** Calibrated 0..1. */
  similarity: number;
}

export interface FusedScore {
  key: string;
  /** w_text · textScore + w_vector · vectorScore. */
  score: number;
  /** The text relevance divided by the query's best (0..1); null when the text side did not find the item. */
  textScore: number | null;
  /** The calibrated similarity; null when the vector side did not find the item. */
  vectorScore: number | null;
}

/** Each score divided by the best one (0 for all when none is positive). */
export function normaliseByBest(scores: readonly number[]): number[] {
  const best = Math.max(0, ...scores);
  return scores.map((score) => (best > 0 ? Math.max(0, score) / best : 0));
}

/**
 * Both rankings fused into one, best first. Each side lists an item at most once (the first
 * listing counts). Ties keep the text side's order, then the vector side's, so pages are stable.
 */
export function fuseScores(text: readonly TextScored[], vector: readonly VectorScored[], weights: FusionWeights): FusedScore[] {
  const fused = new Map<string, FusedScore & { order: number }>();
  const normalised = normaliseByBest(text.map((item) => item.score));
  text.forEach((item, i) => {
    if (!fused.has(item.key)) fused.set(item.key, { key: item.key, score: 0, textScore: normalised[i]!, vectorScore: null, order: fused.size });
  });
  for (const item of vector) {
    const similarity = Math.min(1, Math.max(0, item.similarity));
    const entry = fused.get(item.key);
    if (!entry) fused.set(item.key, { key: item.key, score: 0, textScore: null, vectorScore: similarity, order: fused.size });
    else if (entry.vectorScore === null) entry.vectorScore = similarity;
  }
  for (const entry of fused.values()) {
    entry.score = weights.text * (entry.textScore ?? 0) + weights.vector * (entry.vectorScore ?? 0);
  }
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .map(({ key, score, textScore, vectorScore }) => ({ key, score, textScore, vectorScore }));
}
