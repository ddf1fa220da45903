// Developer tool, not part of the server: builds the shipped speaker model (ubm.json) from the
// background speech, and writes the split and what was trained on beside it
// (background-split.json). See README.md for the provenance and the measured numbers.
//   npm run build && node dist/src/models/voice/train-ubm.js ../shared/data/speech_background
// 1. Split the background speakers (background-split.ts): train / calibration / strangers.
// 2. UBM and centring vector from the train speakers' speech only.
// 3. Cohort: one vector per train speaker (mean of its pieces' vectors).
// 4. Thresholds per speech duration from the calibration speakers (calibration.ts).
// The stranger part is not read here at all. Deterministic: same data, same file.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveMediaTools } from '../../media/tools.js';
import { loadSpeakerSpeech, type SpeakerSpeech } from './background-speech.js';
import { concatPcm } from './pcm.js';
import { listBackgroundSpeakers, splitBackgroundSpeakers, type BackgroundSplit } from './background-split.js';
import { calibrateBands, calibrationTrials, templateOf, type BandReport } from './calibration.js';
import { DEFAULT_MFCC, mfccWithDeltas } from './features.js';
import { encodeCohort, GmmSupervectorEmbedder, type UbmFile } from './gmm-embedder.js';
import { trainGmm, type DiagonalGmm } from './gmm.js';
import { rawCosineScoring, ScoreNormaliser } from './score-normalisation.js';
import { loadSileroVad } from './silero-vad.js';
import { VOICE_SAMPLE_RATE } from './types.js';

const COMPONENTS = 64;
const EM_ITERATIONS = 10;
const SEED = 7;
const CENTRE_CHUNK_SEC = 3;
/**
 * Adaptive S-norm: statistics over a vector's 5 closest cohort speakers. Compared on the
 * calibration trials with 3, 8 and 12: 5 had the lowest equal error rates (short 6.3 %, long 2.8 %).
 */
const COHORT_TOP_N = 5;
/**
 * Per-trial false-accept rate the thresholds are set for: 0.1 %, so that a stranger queried
 * against a gallery of 20 enrolled voices is accepted about 2 % of the time (a 1 % per-trial rate
 * let 1 stranger query in 5 through on a held-out check). z = the standard normal's upper 0.1 % point.
 */
const TARGET_FAR = 0.001;
const TARGET_Z = 3.09;
/** Queries with less speech than this get their own threshold. */
const SHORT_SPEECH_SEC = 3;
/**
 * Confidence = logistic((score − threshold) / scale) in normalised-score units: a voice 0.5 above
 * its threshold reads 0.62, about the 0.625 a voice heard alone needs in only-watch fusion
 * (services/presence.ts FUSION: 0.8·v ≥ 0.5), so a voice-only span needs a little margin.
 */
const CONFIDENCE_SCALE = 1;

/** Training only embeds: the scoring is what it is about to calibrate. */
const UNSCORED = rawCosineScoring(0, 1);

const here = path.dirname(fileURLToPath(import.meta.url));
const SOURCE_DIR = path.resolve(here, '../../../../src/models/voice');

function trainUbm(speakers: readonly SpeakerSpeech[]): { ubm: DiagonalGmm; frames: number } {
  const features = speakers.flatMap((s) => s.pieces).map((piece) => mfccWithDeltas(piece, DEFAULT_MFCC));
  const dim = features[0]!.dim;
  const frames = features.reduce((n, f) => n + f.frames, 0);
  const ubm = trainGmm({ data: concatPcm(features.map((f) => f.data)), frames, dim }, { components: COMPONENTS, iterations: EM_ITERATIONS, seed: SEED });
  return { ubm, frames };
}

/** Mean raw supervector of 3-s chunks of the train speech: what every voice shares against the UBM. */
function centreOf(ubm: DiagonalGmm, speakers: readonly SpeakerSpeech[]): Float64Array {
  const plain = new GmmSupervectorEmbedder(ubm, DEFAULT_MFCC, 'uncentred', UNSCORED);
  const centre = new Float64Array(plain.dim);
  const chunk = CENTRE_CHUNK_SEC * VOICE_SAMPLE_RATE;
  let chunks = 0;
  for (const speech of speakers.map((s) => concatPcm(s.pieces))) {
    for (let offset = 0; offset + chunk <= speech.length; offset += chunk) {
      const raw = plain.rawSupervector(speech.subarray(offset, offset + chunk));
      if (!raw) continue;
      chunks++;
      for (let i = 0; i < raw.length; i++) centre[i]! += raw[i]!;
    }
  }
  return centre.map((v) => v / Math.max(chunks, 1));
}

function describeSplit(split: BackgroundSplit, root: string): object {
  return {
    rule: 'speakers of each corpus folder ordered by sha256("<corpus>/<speaker>"), corpora in name order, dealt in turn to train, calibration, train, strangers (src/models/voice/background-split.ts)',
    source: path.relative(path.resolve(SOURCE_DIR, '../../..'), root),
    parts: Object.fromEntries(Object.entries(split).map(([part, speakers]) => [part, speakers.map((s) => s.id)])),
  };
}

function report(bands: readonly BandReport[]): void {
  for (const b of bands) {
    process.stderr.write(
      `speech < ${b.belowSec} s: threshold ${b.threshold.toFixed(3)}, FAR ${b.far.toFixed(4)} FRR ${b.frr.toFixed(4)} over ${b.impostor} impostor / ${b.genuine} genuine trials; EER ${b.eer.toFixed(4)} (raw cosine ${b.rawEer.toFixed(4)})\n` +
        b.det.map((p) => `  DET FAR ${p.far.toFixed(4)} FRR ${p.frr.toFixed(4)} at ${p.threshold.toFixed(3)}`).join('\n') +
        '\n',
    );
  }
}

async function main(root: string): Promise<void> {
  const { ffmpeg } = resolveMediaTools({ ffmpegPath: process.env.VIDSEARCH_FFMPEG ?? null, ffprobePath: null });
  const vad = await loadSileroVad();
  const split = splitBackgroundSpeakers(listBackgroundSpeakers(root));
  const load = (part: 'train' | 'calibration') => Promise.all(split[part].map((s) => loadSpeakerSpeech(root, s, vad, ffmpeg)));
  const train = await load('train');
  const calibration = await load('calibration');

  const { ubm, frames } = trainUbm(train);
  const centre = centreOf(ubm, train);
  const uncalibrated = new GmmSupervectorEmbedder(ubm, DEFAULT_MFCC, 'calibrating', UNSCORED, centre);
  const embed = (speech: Float32Array) => uncalibrated.embedNow(speech);
  const cohort = train.map((s) => templateOf(embed, s.pieces)).filter((v): v is Float32Array => v !== null);
  const normaliser = new ScoreNormaliser(cohort, COHORT_TOP_N);
  const bands = calibrateBands(calibrationTrials(calibration, embed, normaliser), [SHORT_SPEECH_SEC], TARGET_Z);
  report(bands);

  const round = (v: number): number => Number(v.toPrecision(6));
  const params = ubm.toJSON();
  const thresholds = bands.map((b) => ({ belowSec: b.belowSec === Infinity ? 1e9 : b.belowSec, threshold: round(b.threshold) }));
  const file: UbmFile = {
    weights: params.weights.map(round),
    means: params.means.map(round),
    variances: params.variances.map(round),
    dim: params.dim,
    mfcc: DEFAULT_MFCC,
    centre: Array.from(centre, round),
    trainedOn: split.train.flatMap((s) => s.files),
    frames,
    cohort: encodeCohort(cohort),
    cohortTopN: COHORT_TOP_N,
    thresholds,
    confidenceScale: CONFIDENCE_SCALE,
  };
  writeFileSync(path.join(SOURCE_DIR, 'ubm.json'), JSON.stringify(file));
  writeFileSync(
    path.join(SOURCE_DIR, 'background-split.json'),
    JSON.stringify({ ...describeSplit(split, root), trainingFiles: file.trainedOn, targetFar: TARGET_FAR, calibration: bands.map((b) => ({ ...b, belowSec: b.belowSec === Infinity ? null : b.belowSec })) }, null, 1) + '\n',
  );
  process.stderr.write(`UBM: ${COMPONENTS} components from ${frames} speech frames of ${train.length} speakers; cohort ${cohort.length}; → ${SOURCE_DIR}\n`);
}

const [root] = process.argv.slice(2);
if (!root) {
  process.stderr.write('usage: train-ubm <speech_background folder>\n');
  process.exit(2);
}
await main(path.resolve(root));
