// Short-time speech features: log-mel filterbanks (the usual input of neural speaker embedders)
// and MFCC with deltas and per-utterance mean/variance normalisation (the classical GMM input).
// 25 ms Hamming windows every 10 ms at 16 kHz, as in Kaldi and most speaker-recognition recipes.
import FFT from 'fft.js';
import { VOICE_SAMPLE_RATE } from './types.js';

export const FRAME_LENGTH = 400;
export const FRAME_SHIFT = 160;
const FFT_SIZE = 512;
const PRE_EMPHASIS = 0.97;

/** A matrix of `frames` rows × `dim` columns, row-major. */
export interface FeatureMatrix {
  data: Float32Array;
  frames: number;
  dim: number;
}

export function row(m: FeatureMatrix, frame: number): Float32Array {
  return m.data.subarray(frame * m.dim, (frame + 1) * m.dim);
}

const hzToMel = (hz: number): number => 1127 * Math.log(1 + hz / 700);

/** Triangular filters on the mel scale over the FFT bins, as [filter][bin] weights. */
function melFilterbank(filters: number, lowHz: number, highHz: number): Float32Array[] {
  const bins = FFT_SIZE / 2 + 1;
  const lowMel = hzToMel(lowHz);
  const step = (hzToMel(highHz) - lowMel) / (filters + 1);
  const bank: Float32Array[] = [];
  for (let f = 0; f < filters; f++) {
    const [left, centre, right] = [f, f + 1, f + 2].map((k) => lowMel + k * step) as [number, number, number];
    const weights = new Float32Array(bins);
    for (let b = 0; b < bins; b++) {
      const mel = hzToMel((b * VOICE_SAMPLE_RATE) / FFT_SIZE);
      if (mel > left && mel < right) weights[b] = mel <= centre ? (mel - left) / (centre - left) : (right - mel) / (right - centre);
    }
    bank.push(weights);
  }
  return bank;
}

const banks = new Map<number, Float32Array[]>();
function cachedBank(filters: number): Float32Array[] {
  let bank = banks.get(filters);
  if (!bank) banks.set(filters, (bank = melFilterbank(filters, 20, 7600)));
  return bank;
}

const hamming = Float32Array.from({ length: FRAME_LENGTH }, (_, i) => 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (FRAME_LENGTH - 1)));

export function frameCount(samples: number): number {
  return samples < FRAME_LENGTH ? 0 : 1 + Math.floor((samples - FRAME_LENGTH) / FRAME_SHIFT);
}

/**
 * Log mel energies per frame, plus each frame's log energy (for MFCC's first coefficient).
 * Samples are scaled to the 16-bit range first, so values match Kaldi-style fbank features.
 */
export function logMelFilterbank(pcm: Float32Array, filters: number): { fbank: FeatureMatrix; logEnergy: Float32Array } {
  const frames = frameCount(pcm.length);
  const bank = cachedBank(filters);
  const fft = new FFT(FFT_SIZE);
  const frame = new Float64Array(FFT_SIZE);
  const spectrum: number[] = fft.createComplexArray() as number[];
  const power = new Float64Array(FFT_SIZE / 2 + 1);
  const fbank = new Float32Array(frames * filters);
  const logEnergy = new Float32Array(frames);
  for (let t = 0; t < frames; t++) {
    const offset = t * FRAME_SHIFT;
    let mean = 0;
    for (let i = 0; i < FRAME_LENGTH; i++) mean += pcm[offset + i]!;
    mean /= FRAME_LENGTH;
    let energy = 0;
    // DC removal, pre-emphasis, window; the rest of the FFT buffer stays zero.
    for (let i = FRAME_LENGTH - 1; i >= 0; i--) {
      const current = (pcm[offset + i]! - mean) * 32768;
      const previous = ((i > 0 ? pcm[offset + i - 1]! : pcm[offset]!) - mean) * 32768;
      const value = (current - PRE_EMPHASIS * previous) * hamming[i]!;
      frame[i] = value;
      energy += value * value;
    }
    logEnergy[t] = Math.log(Math.max(energy, 1e-10));
    fft.realTransform(spectrum, frame);
    for (let b = 0; b <= FFT_SIZE / 2; b++) power[b] = spectrum[2 * b]! ** 2 + spectrum[2 * b + 1]! ** 2;
    for (let f = 0; f < filters; f++) {
      const weights = bank[f]!;
      let sum = 0;
      for (let b = 0; b < weights.length; b++) sum += weights[b]! * power[b]!;
      fbank[t * filters + f] = Math.log(Math.max(sum, 1e-10));
    }
  }
  return { fbank: { data: fbank, frames, dim: filters }, logEnergy };
}

const dctCache = new Map<string, Float32Array>();
/** Orthonormal DCT-II rows 1..ceps (row 0 is replaced by log energy). */
function dctMatrix(filters: number, ceps: number): Float32Array {
  const key = `${filters}x${ceps}`;
  let m = dctCache.get(key);
  if (!m) {
    m = new Float32Array(ceps * filters);
    for (let k = 1; k <= ceps; k++) {
      for (let n = 0; n < filters; n++) m[(k - 1) * filters + n] = Math.sqrt(2 / filters) * Math.cos((Math.PI * k * (n + 0.5)) / filters);
    }
    dctCache.set(key, m);
  }
  return m;
}

/** Regression deltas over ±2 frames (edge frames repeated). */
function deltas(m: FeatureMatrix): FeatureMatrix {
  const out = new Float32Array(m.data.length);
  const { frames, dim } = m;
  const at = (t: number, d: number): number => m.data[Math.min(frames - 1, Math.max(0, t)) * dim + d]!;
  for (let t = 0; t < frames; t++) {
    for (let d = 0; d < dim; d++) out[t * dim + d] = (at(t + 1, d) - at(t - 1, d) + 2 * (at(t + 2, d) - at(t - 2, d))) / 10;
  }
  return { data: out, frames, dim };
}

/** Per-utterance cepstral mean and variance normalisation, in place: removes the channel. */
export function cmvn(m: FeatureMatrix): FeatureMatrix {
  const { frames, dim, data } = m;
  if (frames < 2) return m;
  for (let d = 0; d < dim; d++) {
    let sum = 0;
    let sq = 0;
    for (let t = 0; t < frames; t++) {
      const v = data[t * dim + d]!;
      sum += v;
      sq += v * v;
    }
    const mean = sum / frames;
    const std = Math.sqrt(Math.max(sq / frames - mean * mean, 1e-8));
    for (let t = 0; t < frames; t++) data[t * dim + d] = (data[t * dim + d]! - mean) / std;
  }
  return m;
}

export interface MfccOptions {
  melFilters: number;
  /** Cepstra c1..cN; c0 is replaced by the frame's log energy. */
  cepstra: number;
}

export const DEFAULT_MFCC: MfccOptions = { melFilters: 40, cepstra: 19 };

/** MFCC (+log energy) with Δ and ΔΔ, CMVN-normalised: (cepstra + 1) × 3 columns per frame. */
export function mfccWithDeltas(pcm: Float32Array, options: MfccOptions = DEFAULT_MFCC): FeatureMatrix {
  const { fbank, logEnergy } = logMelFilterbank(pcm, options.melFilters);
  const base = options.cepstra + 1;
  const dct = dctMatrix(options.melFilters, options.cepstra);
  const static_: FeatureMatrix = { data: new Float32Array(fbank.frames * base), frames: fbank.frames, dim: base };
  for (let t = 0; t < fbank.frames; t++) {
    const logMel = row(fbank, t);
    static_.data[t * base] = logEnergy[t]!;
    for (let k = 0; k < options.cepstra; k++) {
      let sum = 0;
      for (let n = 0; n < options.melFilters; n++) sum += dct[k * options.melFilters + n]! * logMel[n]!;
      static_.data[t * base + k + 1] = sum;
    }
  }
  const d1 = deltas(static_);
  const d2 = deltas(d1);
  const dim = base * 3;
  const out = new Float32Array(fbank.frames * dim);
  for (let t = 0; t < fbank.frames; t++) {
    out.set(row(static_, t), t * dim);
    out.set(row(d1, t), t * dim + base);
    out.set(row(d2, t), t * dim + 2 * base);
  }
  return cmvn({ data: out, frames: fbank.frames, dim });
}
