import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import {
  DEFAULT_FUSION_WEIGHTS,
  fuseScores,
  fusionWeights,
  normaliseByBest,
  STRONG_VECTOR_SIMILARITY,
  type TextScored,
  type VectorScored,
} from '../../src/services/fusion.js';
import { seededRandom } from '../../src/seeded-random.js';

/** Reciprocal rank fusion (k = 60, as Elasticsearch and most engines ship it): what users complained about. */
function reciprocalRankFusion(text: readonly TextScored[], vector: readonly VectorScored[], k = 60): string[] {
  const scores = new Map<string, number>();
  for (const list of [text, vector]) list.forEach((item, rank) => scores.set(item.key, (scores.get(item.key) ?? 0) + 1 / (k + rank + 1)));
  return [...scores].sort((a, b) => b[1] - a[1]).map(([key]) => key);
}



describe('fusionWeights', () => {
  it('scales the weights to sum 1', () => {
    expect(fusionWeights(0.4, 0.6)).toEqual({ text: 0.4, vector: 0.6 });
    const scaled = fusionWeights(2, 3);
    expect(scaled.text).toBeCloseTo(0.4, 12);
    expect(scaled.vector).toBeCloseTo(0.6, 12);
    expect(fusionWeights(0, 1)).toEqual({ text: 0, vector: 1 });
  });

  it('refuses weights that are unusable or would let text-only hits reach a strong vector hit', () => {
    expect(() => fusionWeights(-0.1, 1)).toThrow(RangeError);
    expect(() => fusionWeights(0, 0)).toThrow(RangeError);
    expect(() => fusionWeights(Number.NaN, 1)).toThrow(RangeError);
    expect(() => fusionWeights(0.5, 0.5)).toThrow(/below the best text-only hit/);
    // 0.9 · w_vector must be more than w_text: 0.9 · 0.525 = 0.4725 < 0.475 fails, 0.9 · 0.53 = 0.477 > 0.47 passes.
    expect(() => fusionWeights(0.475, 0.525)).toThrow(RangeError);
    expect(() => fusionWeights(0.47, 0.53)).not.toThrow();
  });

  it('is what the configuration reads, with the documented defaults', () => {
    expect(loadConfig({}).search.hybridWeights).toEqual(DEFAULT_FUSION_WEIGHTS);
    expect(loadConfig({ VIDSEARCH_HYBRID_TEXT_WEIGHT: '1', VIDSEARCH_HYBRID_VECTOR_WEIGHT: '4' }).search.hybridWeights).toEqual({ text: 0.2, vector: 0.8 });
    expect(() => loadConfig({ VIDSEARCH_HYBRID_TEXT_WEIGHT: '0.7', VIDSEARCH_HYBRID_VECTOR_WEIGHT: '0.3' })).toThrow(ConfigError);
    expect(() => loadConfig({ VIDSEARCH_HYBRID_VECTOR_WEIGHT: 'lots' })).toThrow(ConfigError);
  });
});

describe('normaliseByBest', () => {
  it('divides by the best score and never goes below 0', () => {
    expect(normaliseByBest([8, 4, 2])).toEqual([1, 0.5, 0.25]);
    expect(normaliseByBest([3, -1])).toEqual([1, 0]);
    expect(normaliseByBest([0, 0])).toEqual([0, 0]);
    expect(normaliseByBest([])).toEqual([]);
  });
});

describe('fuseScores', () => {
  const weights = DEFAULT_FUSION_WEIGHTS;

  it('combines normalised text and calibrated similarity; a missing side counts 0', () => {
    const fused = fuseScores(
      [
        { key: 'both', score: 10 },
        { key: 'text', score: 5 },
      ],
      [
        { key: 'vector', similarity: 0.5 },
        { key: 'both', similarity: 0.8 },
      ],
      weights,
    );
    expect(fused.map((f) => f.key)).toEqual(['both', 'vector', 'text']);
    const [both, vector, text] = fused;
    expect(both!.score).toBeCloseTo(0.4 * 1 + 0.6 * 0.8, 12);
    expect(both).toMatchObject({ textScore: 1, vectorScore: 0.8 });
    expect(vector).toMatchObject({ textScore: null, vectorScore: 0.5, score: 0.3 });
    expect(text!.score).toBeCloseTo(0.4 * 0.5, 12);
    expect(text).toMatchObject({ textScore: 0.5, vectorScore: null });
  });

  it('lists each key once (its first listing per side counts) and clamps similarity to 0..1', () => {
    const fused = fuseScores(
      [
        { key: 'a', score: 2 },
        { key: 'a', score: 9 },
      ],
      [
        { key: 'b', similarity: 1.7 },
        { key: 'b', similarity: 0.1 },
      ],
      weights,
    );
    expect(fused).toHaveLength(2);
    expect(fused.find((f) => f.key === 'b')!.vectorScore).toBe(1);
    // 'a' keeps its first score, 2, against the side's best, 9.
    expect(fused.find((f) => f.key === 'a')!.textScore).toBeCloseTo(2 / 9, 12);
  });

  it('breaks ties by the text order, then the vector order (stable pages)', () => {
    const fused = fuseScores(
      [
        { key: 't1', score: 1 },
        { key: 't2', score: 1 },
      ],
      [
        { key: 'v1', similarity: 0.2 },
        { key: 'v2', similarity: 0.2 },
      ],
      { text: 0.6, vector: 0.4 },
    );
    expect(fused.map((f) => f.key)).toEqual(['t1', 't2', 'v1', 'v2']);
  });

  it('keeps a strong vector hit on top where reciprocal rank fusion buries it under weak text hits', () => {
    // A picture query whose text part is weak: 30 weak text hits, the first ten of which the
    // picture search also returned with low similarity; one segment the picture clearly is.
    const text = Array.from({ length: 30 }, (_, i) => ({ key: `weak${i}`, score: 3 - i * 0.05 }));
    const vector: VectorScored[] = [
      { key: 'strong', similarity: 0.95 },
      ...Array.from({ length: 10 }, (_, i) => ({ key: `weak${i}`, similarity: 0.2 - i * 0.01 })),
    ];
    const rrf = reciprocalRankFusion(text, vector);
    expect(rrf.indexOf('strong')).toBeGreaterThanOrEqual(10); // below every weak hit found twice
    const ours = fuseScores(text, vector, DEFAULT_FUSION_WEIGHTS);
    expect(ours[0]!.key).toBe('strong');
    expect(ours[0]!.score).toBeCloseTo(0.6 * 0.95, 12);
  });

  it('never ranks a hit of similarity ≥ 0.9 below a segment only the text found, whatever the text scores', () => {
    const random = seededRandom(8);
    for (let trial = 0; trial < 500; trial++) {
      const text = Array.from({ length: 1 + Math.floor(random() * 40) }, (_, i) => ({ key: `t${i}`, score: random() * 50 }));
      const strong = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, i) => ({
        key: `s${i}`,
        similarity: STRONG_VECTOR_SIMILARITY + random() * (1 - STRONG_VECTOR_SIMILARITY),
      }));
      const weak = Array.from({ length: Math.floor(random() * 5) }, (_, i) => ({ key: `w${i}`, similarity: random() * 0.9 }));
      const weights = trial % 2 === 0 ? DEFAULT_FUSION_WEIGHTS : fusionWeights(0.47, 0.53); // the defaults and the tightest allowed
      const ranked = fuseScores(text, [...strong, ...weak], weights).map((f) => f.key);
      const lastStrong = Math.max(...strong.map((s) => ranked.indexOf(s.key)));
      const firstTextOnly = Math.min(...text.map((t) => ranked.indexOf(t.key)));
      expect(lastStrong, `trial ${trial}`).toBeLessThan(firstTextOnly);
    }
  });
});
