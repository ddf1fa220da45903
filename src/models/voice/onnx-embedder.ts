// A user-supplied neural speaker embedder: VIDSEARCH_MODEL_DIR/speaker-embedder.onnx taking
// Kaldi-style log-mel filterbanks [1, frames, 80] (mean-normalised per utterance, the input of
// WeSpeaker / 3D-Speaker / ECAPA exports) and returning one vector as its first output.
// An optional speaker-embedder.json {"threshold": 0.5} sets its same-speaker cosine.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { loadOnnxSession, ort as runtime, sha256File } from '../runtime.js';
import { frameCount, logMelFilterbank } from './features.js';
import { MIN_SPEECH_FRAMES } from './gmm-embedder.js';
import { rawCosineScoring } from './score-normalisation.js';
import { VOICE_SAMPLE_RATE, type SpeakerEmbedder, type VoiceScoring } from './types.js';

export const USER_SPEAKER_EMBEDDER_FILE = 'speaker-embedder.onnx';
export const USER_SPEAKER_EMBEDDER_CONFIG = 'speaker-embedder.json';
export const FBANK_BINS = 80;
/** Typical same-speaker cosine of published ECAPA/ResNet embedders when the user gives none. */
export const DEFAULT_USER_THRESHOLD = 0.5;

export class UserSpeakerModelError extends Error {
  override name = 'UserSpeakerModelError';
}

/**
 * Raw cosines without a cohort: confidence goes from 0.5 at the threshold to ~0.88 at 0.03 above
 * it (published embedders separate voices by cosine gaps of ~0.1–0.3).
 */
export const USER_CONFIDENCE_SCALE = 0.015;

export class OnnxSpeakerEmbedder implements SpeakerEmbedder {
  private readonly inputName: string;
  private readonly outputName: string;
  readonly scoring: VoiceScoring;

  constructor(
    private readonly session: ort.InferenceSession,
    readonly modelId: string,
    readonly dim: number,
    threshold: number,
  ) {
    this.inputName = session.inputNames[0]!;
    this.outputName = session.outputNames[0]!;
    this.scoring = rawCosineScoring(threshold, USER_CONFIDENCE_SCALE);
  }

  async embed(speechPcm: Float32Array): Promise<Float32Array | null> {
    if (frameCount(speechPcm.length) < MIN_SPEECH_FRAMES) return null;
    const out = await this.session.run({ [this.inputName]: fbankTensor(speechPcm) });
    const vector = Float32Array.from(out[this.outputName]!.data as Float32Array);
    if (vector.length !== this.dim) throw new UserSpeakerModelError(`${this.modelId} returned ${vector.length} values, expected ${this.dim}`);
    let norm = 0;
    for (const v of vector) norm += v * v;
    if (!(norm > 0) || !Number.isFinite(norm)) return null;
    norm = Math.sqrt(norm);
    for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
    return vector;
  }
}

/** [1, frames, 80] log-mel energies with each bin's utterance mean removed. */
export function fbankTensor(pcm: Float32Array): ort.Tensor {
  const { fbank } = logMelFilterbank(pcm, FBANK_BINS);
  const { data, frames } = fbank;
  for (let b = 0; b < FBANK_BINS; b++) {
    let sum = 0;
    for (let t = 0; t < frames; t++) sum += data[t * FBANK_BINS + b]!;
    const mean = sum / Math.max(frames, 1);
    for (let t = 0; t < frames; t++) data[t * FBANK_BINS + b]! -= mean;
  }
  return new runtime.Tensor('float32', data, [1, frames, FBANK_BINS]);
}

/** The user's embedder from the model dir, or null when there is none. Its id carries the file's hash. */
export async function loadUserSpeakerEmbedder(modelDir: string | null): Promise<OnnxSpeakerEmbedder | null> {
  const file = modelDir ? path.join(modelDir, USER_SPEAKER_EMBEDDER_FILE) : null;
  if (!file || !existsSync(file)) return null;
  const hash = await sha256File(file);
  const session = await loadOnnxSession(file, hash);
  // Exported graphs often leave the output size symbolic: read it from one run on 2 s of silence.
  const probe = await session.run({ [session.inputNames[0]!]: fbankTensor(new Float32Array(2 * VOICE_SAMPLE_RATE)) });
  const dim = probe[session.outputNames[0]!]!.data.length;
  if (dim < 2) throw new UserSpeakerModelError(`${file} returns ${dim} value(s); a speaker embedder returns a vector`);
  return new OnnxSpeakerEmbedder(session, `user-speaker:${hash.slice(0, 16)}`, dim, await readThreshold(path.join(modelDir!, USER_SPEAKER_EMBEDDER_CONFIG)));
}

async function readThreshold(configFile: string): Promise<number> {
  if (!existsSync(configFile)) return DEFAULT_USER_THRESHOLD;
  let threshold: unknown;
  try {
    threshold = (JSON.parse(await readFile(configFile, 'utf8')) as { threshold?: unknown }).threshold;
  } catch (err) {
    throw new UserSpeakerModelError(`${configFile} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (threshold === undefined) return DEFAULT_USER_THRESHOLD;
  if (typeof threshold !== 'number' || !(threshold > -1 && threshold < 1)) throw new UserSpeakerModelError(`${configFile}: "threshold" must be a cosine between -1 and 1`);
  return threshold;
}
