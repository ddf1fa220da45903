// Adaptive symmetric score normalisation (AS-norm; Matějka et al. 2017, "Analysis of score
// normalization in multilingual speaker recognition"). A raw cosine means different things for
// different voices: some voices sit close to many others, and short queries scatter. Each side of
// a trial is compared with a cohort of background speakers nobody enrols; its top-N cohort
// cosines give the mean and spread of the scores an impostor of that side would get, and
//   S = ½·((s − μ_query)/σ_query + (s − μ_template)/σ_template)
// says by how many impostor standard deviations the trial beats them. One threshold on S then
// means about the same false-accept rate for every enrolled voice.
import type { CohortNormaliser, CohortStats, VoiceScoring } from './types.js';

export type { CohortStats };

/** A floor on σ: a vector whose top cohort cosines are all equal would otherwise divide by ~0. */
const MIN_STD = 1e-3;

export class ScoreNormaliser implements CohortNormaliser {
  /**
   * @param cohort unit vectors of background speakers (one per speaker), never enrolled or queried
   * @param topN how many of the closest cohort speakers form a vector's impostor statistics
   */
  constructor(
    private readonly cohort: readonly Float32Array[],
    readonly topN: number,
  ) {
    if (cohort.length < 2) throw new Error(`a cohort needs at least 2 speakers, got ${cohort.length}`);
    if (!(topN >= 2 && topN <= cohort.length)) throw new Error(`topN ${topN} must lie in 2..${cohort.length}`);
  }

  get cohortSize(): number {
    return this.cohort.length;
  }

  stats(vector: Float32Array): CohortStats {
    const cosines = this.cohort.map((c) => dot(vector, c)).sort((a, b) => b - a).slice(0, this.topN);
    const mean = cosines.reduce((s, v) => s + v, 0) / cosines.length;
    const variance = cosines.reduce((s, v) => s + (v - mean) ** 2, 0) / cosines.length;
    return { mean, std: Math.max(Math.sqrt(variance), MIN_STD) };
  }

  /** The symmetric normalised score of a raw cosine between two vectors with these statistics. */
  static normalise(raw: number, query: CohortStats, template: CohortStats): number {
    return 0.5 * ((raw - query.mean) / query.std + (raw - template.mean) / template.std);
  }
}

export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** A threshold per duration band: the first band whose `belowSec` exceeds the speech applies. */
export interface DurationThreshold {
  belowSec: number;
  threshold: number;
}

export function thresholdFor(bands: readonly DurationThreshold[], speechSec: number): number {
  const band = bands.find((b) => speechSec < b.belowSec) ?? bands.at(-1);
  if (!band) throw new Error('no thresholds');
  return band.threshold;
}

export function cohortScoring(normaliser: ScoreNormaliser, bands: readonly DurationThreshold[], confidenceScale: number): VoiceScoring {
  return { normaliser, threshold: (speechSec) => thresholdFor(bands, speechSec), confidenceScale };
}

export function rawCosineScoring(threshold: number, confidenceScale: number): VoiceScoring {
  return { normaliser: null, threshold: () => threshold, confidenceScale };
}

/** Cohort statistics of a vector under this scoring (null when scores are raw cosines). */
export function statsOf(scoring: VoiceScoring, vector: Float32Array): CohortStats | null {
  return scoring.normaliser ? scoring.normaliser.stats(vector) : null;
}

/** The score of a trial: the raw cosine, normalised when both sides have cohort statistics. */
export function trialScore(raw: number, query: CohortStats | null, template: CohortStats | null): number {
  return query && template ? ScoreNormaliser.normalise(raw, query, template) : raw;
}

/** 0..1, 0.5 at the threshold for this much speech. */
export function confidenceOf(scoring: VoiceScoring, score: number, speechSec: number): number {
  return 1 / (1 + Math.exp(-(score - scoring.threshold(speechSec)) / scoring.confidenceScale));
}
