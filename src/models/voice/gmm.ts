// Diagonal-covariance Gaussian mixture: EM training (k-means++ start), frame posteriors,
// and MAP adaptation of the means (Reynolds et al. 2000, "Speaker Verification Using Adapted
// Gaussian Mixture Models") — the classical GMM-UBM speaker model.
import type { FeatureMatrix } from './features.js';
import { seededRandom } from '../../seeded-random.js';

export interface GmmParameters {
  weights: number[];
  /** components × dim, row-major. */
  means: number[];
  variances: number[];
  dim: number;
}

const LOG_2PI = Math.log(2 * Math.PI);
const VARIANCE_FLOOR = 1e-3;

export class DiagonalGmm {
  readonly components: number;
  readonly dim: number;
  readonly weights: Float64Array;
  readonly means: Float64Array;
  readonly variances: Float64Array;
  private readonly precisions: Float64Array;
  private readonly logConstants: Float64Array;

  constructor(params: GmmParameters) {
    this.components = params.weights.length;
    this.dim = params.dim;
    if (params.means.length !== this.components * this.dim || params.variances.length !== this.components * this.dim) {
      throw new Error(`GMM parameters do not match ${this.components} components × ${this.dim} dims`);
    }
    this.weights = Float64Array.from(params.weights);
    this.means = Float64Array.from(params.means);
    this.variances = Float64Array.from(params.variances, (v) => Math.max(v, VARIANCE_FLOOR));
    this.precisions = this.variances.map((v) => 1 / v);
    this.logConstants = new Float64Array(this.components);
    for (let k = 0; k < this.components; k++) {
      let logDet = 0;
      for (let d = 0; d < this.dim; d++) logDet += Math.log(this.variances[k * this.dim + d]!);
      this.logConstants[k] = Math.log(Math.max(this.weights[k]!, 1e-12)) - 0.5 * (this.dim * LOG_2PI + logDet);
    }
  }

  toJSON(): GmmParameters {
    return { weights: Array.from(this.weights), means: Array.from(this.means), variances: Array.from(this.variances), dim: this.dim };
  }

  /** Component posteriors of one frame into `out`; returns the frame's log-likelihood. */
  posteriors(frame: ArrayLike<number>, out: Float64Array): number {
    let max = -Infinity;
    for (let k = 0; k < this.components; k++) {
      let sum = 0;
      const base = k * this.dim;
      for (let d = 0; d < this.dim; d++) {
        const diff = frame[d]! - this.means[base + d]!;
        sum += diff * diff * this.precisions[base + d]!;
      }
      const logp = this.logConstants[k]! - 0.5 * sum;
      out[k] = logp;
      if (logp > max) max = logp;
    }
    let total = 0;
    for (let k = 0; k < this.components; k++) total += (out[k] = Math.exp(out[k]! - max));
    for (let k = 0; k < this.components; k++) out[k]! /= total;
    return max + Math.log(total);
  }

  /** Zeroth- and first-order Baum-Welch statistics of a feature matrix. */
  statistics(features: FeatureMatrix): { counts: Float64Array; sums: Float64Array; logLikelihood: number } {
    const counts = new Float64Array(this.components);
    const sums = new Float64Array(this.components * this.dim);
    const gamma = new Float64Array(this.components);
    let logLikelihood = 0;
    for (let t = 0; t < features.frames; t++) {
      const frame = features.data.subarray(t * this.dim, (t + 1) * this.dim);
      logLikelihood += this.posteriors(frame, gamma);
      for (let k = 0; k < this.components; k++) {
        const g = gamma[k]!;
        // Posteriors this small change nothing measurable and cost most of the time.
        if (g < 1e-5) continue;
        counts[k]! += g;
        const base = k * this.dim;
        for (let d = 0; d < this.dim; d++) sums[base + d]! += g * frame[d]!;
      }
    }
    return { counts, sums, logLikelihood };
  }

  /** MAP-adapted means: each component moves towards the data by n / (n + relevance). */
  adaptMeans(features: FeatureMatrix, relevance: number): { means: Float64Array; counts: Float64Array } {
    const { counts, sums } = this.statistics(features);
    const means = Float64Array.from(this.means);
    for (let k = 0; k < this.components; k++) {
      const n = counts[k]!;
      if (n <= 0) continue;
      const alpha = n / (n + relevance);
      for (let d = 0; d < this.dim; d++) {
        const i = k * this.dim + d;
        means[i] = alpha * (sums[i]! / n) + (1 - alpha) * this.means[i]!;
      }
    }
    return { means, counts };
  }
}

function squaredDistance(a: Float32Array, b: Float64Array, offset: number, dim: number): number {
  let sum = 0;
  for (let d = 0; d < dim; d++) sum += (a[d]! - b[offset + d]!) ** 2;
  return sum;
}

export interface GmmTrainingOptions {
  components: number;
  iterations: number;
  seed: number;
}

/** A reader of row t (one frame's features) of a feature matrix. */
function frameRows(features: FeatureMatrix): (t: number) => Float32Array {
  const { dim } = features;
  return (t) => features.data.subarray(t * dim, (t + 1) * dim);
}

/** EM on diagonal covariances from a k-means++ start. */
export function trainGmm(features: FeatureMatrix, options: GmmTrainingOptions): DiagonalGmm {
  const { frames, dim } = features;
  const K = options.components;
  if (frames < K * 4) throw new Error(`${frames} frames are too few to train ${K} components`);
  const random = seededRandom(options.seed);

  // k-means++ seeding, then a few Lloyd iterations.
  const centres = kMeansPlusPlus(features, K, random);
  lloydIterations(features, centres, K, random);

  let gmm = new DiagonalGmm({
    weights: new Array<number>(K).fill(1 / K),
    means: Array.from(centres),
    variances: new Array<number>(K * dim).fill(1),
    dim,
  });
  const gamma = new Float64Array(K);
  for (let iter = 0; iter < options.iterations; iter++) gmm = emStep(gmm, features, K, gamma);
  return gmm;
}

/** K centres picked among the frames, each with odds by its squared distance to the nearest centre already picked. */
function kMeansPlusPlus(features: FeatureMatrix, K: number, random: () => number): Float64Array {
  const { frames, dim } = features;
  const frameAt = frameRows(features);
  const centres = new Float64Array(K * dim);
  centres.set(frameAt(Math.floor(random() * frames)), 0);
  const nearest = new Float64Array(frames).fill(Infinity);
  for (let k = 1; k < K; k++) {
    let total = 0;
    for (let t = 0; t < frames; t++) {
      nearest[t] = Math.min(nearest[t]!, squaredDistance(frameAt(t), centres, (k - 1) * dim, dim));
      total += nearest[t]!;
    }
    let pick = random() * total;
    let chosen = frames - 1;
    for (let t = 0; t < frames; t++) {
      pick -= nearest[t]!;
      if (pick <= 0) {
        chosen = t;
        break;
      }
    }
    centres.set(frameAt(chosen), k * dim);
  }
  return centres;
}

/** Moves the centres (in place) to the mean of the frames nearest each. */
function lloydIterations(features: FeatureMatrix, centres: Float64Array, K: number, random: () => number): void {
  const { frames, dim } = features;
  const frameAt = frameRows(features);
  const assignment = new Int32Array(frames);
  for (let iter = 0; iter < 5; iter++) {
    for (let t = 0; t < frames; t++) {
      let best = 0;
      let bestDistance = Infinity;
      for (let k = 0; k < K; k++) {
        const dist = squaredDistance(frameAt(t), centres, k * dim, dim);
        if (dist < bestDistance) [best, bestDistance] = [k, dist];
      }
      assignment[t] = best;
    }
    const counts = new Float64Array(K);
    centres.fill(0);
    for (let t = 0; t < frames; t++) {
      const k = assignment[t]!;
      counts[k]!++;
      const frame = frameAt(t);
      for (let d = 0; d < dim; d++) centres[k * dim + d]! += frame[d]!;
    }
    for (let k = 0; k < K; k++) {
      // An empty cluster restarts on a random frame.
      if (counts[k] === 0) centres.set(frameAt(Math.floor(random() * frames)), k * dim);
      else for (let d = 0; d < dim; d++) centres[k * dim + d]! /= counts[k]!;
    }
  }
}

/** One EM iteration: posteriors of every frame under `gmm`, then weights, means and floored variances from them. */
function emStep(gmm: DiagonalGmm, features: FeatureMatrix, K: number, gamma: Float64Array): DiagonalGmm {
  const { frames, dim } = features;
  const frameAt = frameRows(features);
  const n = new Float64Array(K);
  const s1 = new Float64Array(K * dim);
  const s2 = new Float64Array(K * dim);
  for (let t = 0; t < frames; t++) {
    const frame = frameAt(t);
    gmm.posteriors(frame, gamma);
    for (let k = 0; k < K; k++) {
      const g = gamma[k]!;
      if (g < 1e-6) continue;
      n[k]! += g;
      for (let d = 0; d < dim; d++) {
        const v = frame[d]!;
        s1[k * dim + d]! += g * v;
        s2[k * dim + d]! += g * v * v;
      }
    }
  }
  const weights: number[] = [];
  const means: number[] = [];
  const variances: number[] = [];
  for (let k = 0; k < K; k++) {
    const nk = Math.max(n[k]!, 1e-3);
    weights.push(nk / frames);
    for (let d = 0; d < dim; d++) {
      const mean = s1[k * dim + d]! / nk;
      means.push(mean);
      variances.push(Math.max(s2[k * dim + d]! / nk - mean * mean, VARIANCE_FLOOR));
    }
  }
  return new DiagonalGmm({ weights, means, variances, dim });
}
