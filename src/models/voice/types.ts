// Shapes of the voice models: voice activity detection and speaker embeddings.
// All audio here is mono float PCM at VOICE_SAMPLE_RATE (media/ decodes and resamples to it).

export const VOICE_SAMPLE_RATE = 16_000;

/** A stretch of speech, in seconds from the start of the PCM buffer. */
export interface SpeechSegment {
  start: number;
  end: number;
}

export interface VadOptions {
  /** Speech starts when the speech probability reaches this. */
  onThreshold: number;
  /** Speech ends only when the probability falls below this (hysteresis). */
  offThreshold: number;
  /** Shorter bursts are dropped. */
  minSpeechSec: number;
  /** Pauses shorter than this do not split a segment. */
  minSilenceSec: number;
  /** Padding added to both ends of each segment (clamped to the neighbours and the buffer). */
  padSec: number;
}

export interface Vad {
  readonly modelId: string;
  /** Speech probability per window of `windowSec` seconds, in order. */
  readonly windowSec: number;
  probabilities(pcm: Float32Array, signal?: AbortSignal): Promise<Float32Array>;
  detect(pcm: Float32Array, options?: Partial<VadOptions>, signal?: AbortSignal): Promise<SpeechSegment[]>;
}

/** Mean and standard deviation of one vector's top-N cosines against the cohort. */
export interface CohortStats {
  mean: number;
  std: number;
}

/** A cohort of background speakers a vector is compared with (score-normalisation.ts's ScoreNormaliser). */
export interface CohortNormaliser {
  /** How many background speakers the cohort holds. */
  readonly cohortSize: number;
  stats(vector: Float32Array): CohortStats;
}

/**
 * How a model's voice comparisons are scored and accepted. With a cohort, scores are
 * cohort-normalised (score-normalisation.ts: impostor standard deviations); without one they are
 * raw cosines.
 */
export interface VoiceScoring {
  /** null: raw cosine scores. */
  readonly normaliser: CohortNormaliser | null;
  /** The accept threshold for a query with this much speech (short queries scatter more). */
  threshold(speechSec: number): number;
  /** Score distance above the threshold at which confidence reaches 1/(1+e⁻¹) ≈ 0.73. */
  readonly confidenceScale: number;
}

export interface SpeakerEmbedder {
  /** Recorded with every stored voice vector; vectors of two models are never compared. */
  readonly modelId: string;
  readonly dim: number;
  /** Scores, thresholds and confidences of this model's comparisons (calibrated per model). */
  readonly scoring: VoiceScoring;
  /**
   * L2-normalised embedding of speech-only PCM (the caller cuts out silence with the VAD).
   * Returns null when the audio is too short to say anything about the speaker.
   */
  embed(speechPcm: Float32Array): Promise<Float32Array | null>;
}
