// Threshold calibration on the calibration speakers of the background split (developer tool):
// each speaker with enough speech is enrolled from the first half of it (a template = mean of its
// pieces' vectors, like an actor's samples), the second half is cut into query windows of several
// speech durations, and every window is scored against every template — its own speaker's
// (genuine) and the others' (impostor). Thresholds are set per duration band for a target
// false-accept rate on the impostor trials; the same trials give FRR and the equal error rate.
import type { SpeakerSpeech } from './background-speech.js';
import { concatPcm } from './pcm.js';
import { detPoints, equalErrorRate, ratesAt } from './det.js';
import { dot, ScoreNormaliser, type CohortStats } from './score-normalisation.js';
import { VOICE_SAMPLE_RATE } from './types.js';

/** Query windows cut from the held-back half, seconds of speech. */
export const QUERY_WINDOWS_SEC = [1.5, 2, 2.5, 3, 4, 6] as const;
/** At most this many windows of one length per speaker, so long-spoken speakers do not dominate. */
const MAX_WINDOWS_PER_LENGTH = 3;
/** A speaker needs this much speech to be enrolled (half) and queried (the other half). */
const MIN_ENROLLED_SPEECH_SEC = 8;

export interface Embed {
  (speech: Float32Array): Float32Array | null;
}

export interface Trial {
  score: number;
  raw: number;
  speechSec: number;
  genuine: boolean;
}

export interface BandReport {
  belowSec: number;
  threshold: number;
  genuine: number;
  impostor: number;
  far: number;
  frr: number;
  eer: number;
  rawEer: number;
  det: { far: number; frr: number; threshold: number }[];
}

function meanDirection(vectors: readonly Float32Array[]): Float32Array {
  const mean = new Float32Array(vectors[0]!.length);
  for (const v of vectors) for (let i = 0; i < mean.length; i++) mean[i]! += v[i]!;
  const norm = Math.sqrt(dot(mean, mean)) || 1;
  return mean.map((v) => v / norm);
}

/** The speaker's template from pieces (null when none gives a vector). */
export function templateOf(embed: Embed, pieces: readonly Float32Array[]): Float32Array | null {
  const vectors = pieces.map(embed).filter((v): v is Float32Array => v !== null);
  return vectors.length ? meanDirection(vectors) : null;
}

function windowsOf(speech: Float32Array): { pcm: Float32Array; sec: number }[] {
  const out: { pcm: Float32Array; sec: number }[] = [];
  for (const sec of QUERY_WINDOWS_SEC) {
    const size = Math.round(sec * VOICE_SAMPLE_RATE);
    for (let k = 0; k < MAX_WINDOWS_PER_LENGTH && (k + 1) * size <= speech.length; k++) out.push({ pcm: speech.subarray(k * size, (k + 1) * size), sec });
  }
  return out;
}

/** Every query window against every template, normalised by the cohort. */
export function calibrationTrials(speakers: readonly SpeakerSpeech[], embed: Embed, normaliser: ScoreNormaliser): Trial[] {
  const templates: { id: string; vector: Float32Array; stats: CohortStats }[] = [];
  const queries: { id: string; vector: Float32Array; stats: CohortStats; sec: number }[] = [];
  for (const speaker of speakers) {
    const all = concatPcm(speaker.pieces);
    const enrolled = speaker.speechSec >= MIN_ENROLLED_SPEECH_SEC;
    const half = enrolled ? Math.floor(all.length / 2) : 0;
    if (enrolled) {
      const enrolPieces = [];
      for (let offset = 0; offset < half; offset += 3 * VOICE_SAMPLE_RATE) enrolPieces.push(all.subarray(offset, Math.min(half, offset + 3 * VOICE_SAMPLE_RATE)));
      const vector = templateOf(embed, enrolPieces);
      if (vector) templates.push({ id: speaker.id, vector, stats: normaliser.stats(vector) });
    }
    for (const window of windowsOf(all.subarray(half))) {
      const vector = embed(window.pcm);
      if (vector) queries.push({ id: speaker.id, vector, stats: normaliser.stats(vector), sec: window.sec });
    }
  }
  const trials: Trial[] = [];
  for (const q of queries) {
    for (const t of templates) {
      const raw = dot(q.vector, t.vector);
      trials.push({ raw, score: ScoreNormaliser.normalise(raw, q.stats, t.stats), speechSec: q.sec, genuine: q.id === t.id });
    }
  }
  return trials;
}

/**
 * The threshold z standard deviations above the impostor mean: what an impostor passes with the
 * Gaussian tail probability of z (3.09 → 0.1 %) if normalised impostor scores are Gaussian. At 0.1 % the empirical tail would need thousands of impostor trials
 * (the calibration part gives a few hundred per band), so the tail is extrapolated from the
 * mean and spread; the report gives the empirical FAR at the threshold beside it.
 */
export function gaussianThreshold(impostor: readonly number[], z: number): number {
  const mean = impostor.reduce((s, v) => s + v, 0) / impostor.length;
  const std = Math.sqrt(impostor.reduce((s, v) => s + (v - mean) ** 2, 0) / impostor.length);
  return mean + z * std;
}

/** Thresholds per duration band at `z` impostor standard deviations, with what they cost. */
export function calibrateBands(trials: readonly Trial[], bandEdgesSec: readonly number[], z: number): BandReport[] {
  const edges = [...bandEdgesSec, Infinity];
  return edges.map((belowSec, i) => {
    const from = i === 0 ? 0 : edges[i - 1]!;
    const band = trials.filter((t) => t.speechSec >= from && t.speechSec < belowSec);
    const genuine = band.filter((t) => t.genuine).map((t) => t.score);
    const impostor = band.filter((t) => !t.genuine).map((t) => t.score);
    const threshold = gaussianThreshold(impostor, z);
    return {
      belowSec,
      threshold,
      genuine: genuine.length,
      impostor: impostor.length,
      ...ratesAt(genuine, impostor, threshold),
      eer: equalErrorRate(genuine, impostor).eer,
      rawEer: equalErrorRate(band.filter((t) => t.genuine).map((t) => t.raw), band.filter((t) => !t.genuine).map((t) => t.raw)).eer,
      det: detPoints(genuine, impostor),
    };
  });
}
