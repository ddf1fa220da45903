// Detection-error trade-off of a verifier from its genuine (same speaker) and impostor trial
// scores: the threshold for a target false-accept rate, FAR/FRR at a threshold, and the equal
// error rate. Pure functions, used by the calibration (train-ubm) and by the speakers eval.

export interface ErrorRates {
  /** Impostor trials scoring ≥ threshold, as a share of impostor trials. */
  far: number;
  /** Genuine trials scoring < threshold, as a share of genuine trials. */
  frr: number;
}

export function ratesAt(genuine: readonly number[], impostor: readonly number[], threshold: number): ErrorRates {
  const far = impostor.length ? impostor.filter((s) => s >= threshold).length / impostor.length : 0;
  const frr = genuine.length ? genuine.filter((s) => s < threshold).length / genuine.length : 0;
  return { far, frr };
}

/**
 * The lowest threshold at which at most `targetFar` of the impostor trials are accepted: just
 * above the impostor score that would be one accept too many.
 */
export function thresholdForFar(impostor: readonly number[], targetFar: number): number {
  if (impostor.length === 0) throw new Error('no impostor trials to set a threshold on');
  const sorted = [...impostor].sort((a, b) => b - a);
  const allowed = Math.floor(targetFar * sorted.length + 1e-9);
  if (allowed >= sorted.length) return sorted.at(-1)!;
  const pivot = sorted[allowed]!;
  return pivot + Math.max(1e-6, Math.abs(pivot) * 1e-6);
}

/** Equal error rate: where FAR and FRR cross (the mean of both at the threshold that makes them closest). */
export function equalErrorRate(genuine: readonly number[], impostor: readonly number[]): { eer: number; threshold: number } {
  if (genuine.length === 0 || impostor.length === 0) throw new Error('the equal error rate needs genuine and impostor trials');
  const candidates = [...new Set([...genuine, ...impostor])].sort((a, b) => a - b);
  let best = { gap: Infinity, eer: 1, threshold: candidates[0]! };
  for (const threshold of candidates) {
    const { far, frr } = ratesAt(genuine, impostor, threshold);
    const gap = Math.abs(far - frr);
    if (gap < best.gap) best = { gap, eer: (far + frr) / 2, threshold };
  }
  return { eer: best.eer, threshold: best.threshold };
}

/** FRR at a few fixed FARs: the points of a DET curve, for reports. */
export function detPoints(genuine: readonly number[], impostor: readonly number[], fars: readonly number[] = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2]): { far: number; frr: number; threshold: number }[] {
  return fars.map((target) => {
    const threshold = thresholdForFar(impostor, target);
    return { ...ratesAt(genuine, impostor, threshold), threshold };
  });
}
