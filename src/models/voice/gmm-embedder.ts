// The classical speaker embedder (no neural weights exist here, see README.md): MFCC+Δ+ΔΔ with
// CMVN → MAP adaptation of a universal background model's means → the normalised mean
// supervector sqrt(w_k)·(m_k − μ_k)/σ_k, whose dot product approximates the KL divergence
// between two adapted models (Campbell et al. 2006, "SVM based speaker verification using a GMM
// supervector kernel"). Vectors are L2-normalised and compared by cosine.
import { createHash } from 'node:crypto';
import { DEFAULT_MFCC, mfccWithDeltas, type MfccOptions } from './features.js';
import { DiagonalGmm, type GmmParameters } from './gmm.js';
import type { SpeakerEmbedder } from './types.js';
import ubmJson from './ubm.json' with { type: 'json' };

/** Below ~1 s of speech the adapted means are mostly the UBM's own: nothing to compare. */
export const MIN_SPEECH_FRAMES = 100;
const RELEVANCE_FACTOR = 16;
/**
 * Same-speaker cosine of the shipped UBM, chosen on ../shared/data/speakers.json (5 enrolled
 * LibriSpeech speakers, 3 enrolment files each, template = mean of the file vectors; 35 known and
 * 4 stranger queries): known queries score 0.173–0.543 against their own speaker (one 1688 query
 * is closer to another speaker, at 0.099), strangers reach 0.106–0.164 against their best match.
 * 0.168 splits the gap. Optimistic: the UBM has heard those 5 speakers (README.md), and the gap is
 * narrow, so expect more strangers accepted on other corpora. Re-calibrate when the UBM changes.
 */
export const GMM_MATCH_THRESHOLD = 0.168;

export interface UbmFile extends GmmParameters {
  mfcc: MfccOptions;
  /** Mean raw supervector of the background utterances, subtracted before normalising. */
  centre: number[];
  /** How the UBM was trained, for the record (see README.md). */
  trainedOn: string[];
  frames: number;
}

export class GmmSupervectorEmbedder implements SpeakerEmbedder {
  readonly modelId: string;
  readonly dim: number;
  readonly matchThreshold = GMM_MATCH_THRESHOLD;
  private readonly scale: Float64Array;

  constructor(
    private readonly ubm: DiagonalGmm,
    private readonly mfcc: MfccOptions,
    modelId: string,
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

/** The shipped UBM; its id is the hash of its parameters, so a retrained UBM never mixes vectors. */
export function loadShippedGmmEmbedder(): GmmSupervectorEmbedder {
  const file: UbmFile = ubmJson;
  const digest = createHash('sha256').update(JSON.stringify([file.weights, file.means, file.variances, file.centre])).digest('hex').slice(0, 12);
  const ubm = new DiagonalGmm(file);
  const modelId = `gmm-ubm${ubm.components}-mfcc${file.dim}-${digest}`;
  return new GmmSupervectorEmbedder(ubm, file.mfcc ?? DEFAULT_MFCC, modelId, Float64Array.from(file.centre));
}
