// The classical speaker embedder (no neural weights exist here, see README.md): MFCC+Δ+ΔΔ with
// CMVN → MAP adaptation of a universal background model's means → the normalised mean
// supervector sqrt(w_k)·(m_k − μ_k)/σ_k, whose dot product approximates the KL divergence
// between two adapted models (Campbell et al. 2006, "SVM based speaker verification using a GMM
// supervector kernel"). Vectors are L2-normalised and compared by cosine.
import { createHash } from 'node:crypto';
import { DEFAULT_MFCC, mfccWithDeltas, type MfccOptions } from './features.js';
import { DiagonalGmm, type GmmParameters } from './gmm.js';
import { cohortScoring, ScoreNormaliser, type DurationThreshold } from './score-normalisation.js';
import type { SpeakerEmbedder, VoiceScoring } from './types.js';
import ubmJson from './ubm.json' with { type: 'json' };

/** Below ~1 s of speech the adapted means are mostly the UBM's own: nothing to compare. */
export const MIN_SPEECH_FRAMES = 100;
const RELEVANCE_FACTOR = 16;
export interface UbmFile extends GmmParameters {
  mfcc: MfccOptions;
  /** Mean raw supervector of the background utterances, subtracted before normalising. */
  centre: number[];
  /** How the UBM was trained, for the record (see README.md). */
  trainedOn: string[];
  frames: number;
  /** Score-normalisation cohort: one unit vector per train-part speaker, float32 little-endian, base64. */
  cohort: string;
  cohortTopN: number;
  /** Normalised-score thresholds per speech duration, fitted on the calibration speakers. */
  thresholds: DurationThreshold[];
  confidenceScale: number;
}

export class GmmSupervectorEmbedder implements SpeakerEmbedder {
  readonly modelId: string;
  readonly dim: number;
  private readonly scale: Float64Array;

  constructor(
    private readonly ubm: DiagonalGmm,
    private readonly mfcc: MfccOptions,
    modelId: string,
    readonly scoring: VoiceScoring,
    private readonly centre: Float64Array | null = null,
  ) {
    this.modelId = modelId;
    this.dim = ubm.components * ubm.dim;
    this.scale = new Float64Array(this.dim);
    for (let k = 0; k < ubm.components; k++) {
      const w = Math.sqrt(ubm.weights[k]!);
      for (let d = 0; d < ubm.dim; d++) this.scale[k * ubm.dim + d] = w / Math.sqrt(ubm.variances[k * ubm.dim + d]!);
    }
  }

  async embed(speechPcm: Float32Array): Promise<Float32Array | null> {
    return this.embedNow(speechPcm);
  }

  /** embed() without the promise (training and calibration run it thousands of times). */
  embedNow(speechPcm: Float32Array): Float32Array | null {
    const raw = this.rawSupervector(speechPcm);
    if (!raw) return null;
    const vector = new Float32Array(this.dim);
    let norm = 0;
    for (let i = 0; i < this.dim; i++) {
      // Centring removes what every voice shares against the UBM (corpus, channel, language),
      // which otherwise puts all cosines near the same positive value.
      const v = raw[i]! - (this.centre?.[i] ?? 0);
      vector[i] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    if (norm === 0) return null;
    for (let i = 0; i < this.dim; i++) vector[i]! /= norm;
    return vector;
  }

  /** sqrt(w_k)·(m_k − μ_k)/σ_k before centring and normalisation (also used to build the centre). */
  rawSupervector(speechPcm: Float32Array): Float64Array | null {
    const features = mfccWithDeltas(speechPcm, this.mfcc);
    if (features.frames < MIN_SPEECH_FRAMES) return null;
    const { means } = this.ubm.adaptMeans(features, RELEVANCE_FACTOR);
    const raw = new Float64Array(this.dim);
    for (let i = 0; i < this.dim; i++) raw[i] = (means[i]! - this.ubm.means[i]!) * this.scale[i]!;
    return raw;
  }
}

export function decodeCohort(base64: string, dim: number): Float32Array[] {
  const bytes = Buffer.from(base64, 'base64');
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  if (all.length % dim !== 0) throw new Error(`cohort of ${all.length} values is not a whole number of ${dim}-d vectors`);
  return Array.from({ length: all.length / dim }, (_, i) => all.subarray(i * dim, (i + 1) * dim));
}

export function encodeCohort(vectors: readonly Float32Array[]): string {
  const all = new Float32Array(vectors.reduce((n, v) => n + v.length, 0));
  vectors.forEach((v, i) => all.set(v, i * v.length));
  return Buffer.from(all.buffer).toString('base64');
}

/**
 * The shipped UBM; its id is the hash of everything that shapes a vector or its normalisation
 * (UBM, centre, cohort), so a retrained model never mixes vectors or cohort statistics.
 */
export function loadShippedGmmEmbedder(): GmmSupervectorEmbedder {
  const file: UbmFile = ubmJson as UbmFile;
  const digest = createHash('sha256').update(JSON.stringify([file.weights, file.means, file.variances, file.centre, file.cohort, file.cohortTopN])).digest('hex').slice(0, 12);
  const ubm = new DiagonalGmm(file);
  const modelId = `gmm-ubm${ubm.components}-mfcc${file.dim}-snorm-${digest}`;
  const normaliser = new ScoreNormaliser(decodeCohort(file.cohort, ubm.components * ubm.dim), file.cohortTopN);
  return new GmmSupervectorEmbedder(ubm, file.mfcc ?? DEFAULT_MFCC, modelId, cohortScoring(normaliser, file.thresholds, file.confidenceScale), Float64Array.from(file.centre));
}
