// Small scoring helpers shared by the eval tasks. A metric with nothing to average is null,
// never NaN (EVAL.md).

export function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

export function f1(precision: number | null, recall: number | null): number | null {
  if (precision === null || recall === null) return null;
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; null when empty. */
export function percentile(samples: readonly number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function mean(samples: readonly number[]): number | null {
  return samples.length === 0 ? null : samples.reduce((a, b) => a + b, 0) / samples.length;
}

/** Rounds every number in a metrics object for printing; NaN/Infinity become null. */
export function roundMetrics(value: unknown, digits = 4): unknown {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    const scale = 10 ** digits;
    return Math.round(value * scale) / scale;
  }
  if (Array.isArray(value)) return value.map((v) => roundMetrics(v, digits));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundMetrics(v, digits)]));
  }
  return value;
}

/**
 * Identification scoring shared by the faces and speakers tasks: each query's expected identity
 * (null = stranger) against the answer (null = "unknown").
 */
export function identificationMetrics(results: readonly { expected: string | null; answer: string | null }[]): {
  queries: number;
  rank1: number | null;
  knownAccuracy: number | null;
  unknownRejection: number | null;
} {
  const known = results.filter((r) => r.expected !== null);
  const strangers = results.filter((r) => r.expected === null);
  const right = (r: { expected: string | null; answer: string | null }): boolean => r.expected === r.answer;
  return {
    queries: results.length,
    rank1: ratio(results.filter(right).length, results.length),
    knownAccuracy: ratio(known.filter(right).length, known.length),
    unknownRejection: ratio(strangers.filter(right).length, strangers.length),
  };
}
