// Developer tool, not part of the server: trains the universal background model shipped as
// ubm.json from background speech (see README.md for what was used and why).
//   node dist/src/models/voice/train-ubm.js <out.json> <audio files…>
// Each file is decoded to 16 kHz mono, cut to speech with Silero VAD, turned into MFCCs; the
// pooled frames train the GMM and 3-second chunks of the same speech give the centring mean.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { resolveMediaTools } from '../../media/tools.js';
import { DEFAULT_MFCC, mfccWithDeltas, type FeatureMatrix } from './features.js';
import { GmmSupervectorEmbedder, type UbmFile } from './gmm-embedder.js';
import { trainGmm } from './gmm.js';
import { loadSileroVad } from './silero-vad.js';
import { VOICE_SAMPLE_RATE } from './types.js';

const COMPONENTS = 64;
const EM_ITERATIONS = 10;
const SEED = 7;
const CENTRE_CHUNK_SEC = 3;

function decode(ffmpeg: string, file: string): Float32Array {
  const run = spawnSync(ffmpeg, ['-v', 'error', '-i', file, '-vn', '-ac', '1', '-ar', String(VOICE_SAMPLE_RATE), '-f', 'f32le', 'pipe:1'], { maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(`ffmpeg could not decode ${file}: ${run.stderr.toString()}`);
  const bytes = run.stdout;
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function main(outFile: string, files: string[]): Promise<void> {
  const { ffmpeg } = resolveMediaTools({ ffmpegPath: process.env.VIDSEARCH_FFMPEG ?? null, ffprobePath: null });
  const vad = await loadSileroVad();
  const speech: Float32Array[] = [];
  for (const file of files) {
    const pcm = decode(ffmpeg, file);
    const segments = await vad.detect(pcm);
    speech.push(concat(segments.map((s) => pcm.subarray(Math.round(s.start * VOICE_SAMPLE_RATE), Math.round(s.end * VOICE_SAMPLE_RATE)))));
  }
  const features: FeatureMatrix[] = speech.map((s) => mfccWithDeltas(s, DEFAULT_MFCC));
  const dim = features[0]!.dim;
  const frames = features.reduce((n, f) => n + f.frames, 0);
  const ubm = trainGmm({ data: concat(features.map((f) => f.data)), frames, dim }, { components: COMPONENTS, iterations: EM_ITERATIONS, seed: SEED });

  const plain = new GmmSupervectorEmbedder(ubm, DEFAULT_MFCC, 'uncentred');
  const centre = new Float64Array(plain.dim);
  let chunks = 0;
  const chunk = CENTRE_CHUNK_SEC * VOICE_SAMPLE_RATE;
  for (const s of speech) {
    for (let offset = 0; offset + chunk <= s.length; offset += chunk) {
      const raw = plain.rawSupervector(s.subarray(offset, offset + chunk));
      if (!raw) continue;
      chunks++;
      for (let i = 0; i < raw.length; i++) centre[i]! += raw[i]!;
    }
  }
  const round = (v: number): number => Number(v.toPrecision(6));
  const params = ubm.toJSON();
  const file: UbmFile = {
    weights: params.weights.map(round),
    means: params.means.map(round),
    variances: params.variances.map(round),
    dim,
    mfcc: DEFAULT_MFCC,
    centre: Array.from(centre, (v) => round(v / Math.max(chunks, 1))),
    trainedOn: files.map((f) => path.basename(f)),
    frames,
  };
  writeFileSync(outFile, JSON.stringify(file));
  process.stderr.write(`UBM: ${COMPONENTS} components × ${dim} dims from ${frames} speech frames of ${files.length} files; centre from ${chunks} chunks → ${outFile}\n`);
}

const [outFile, ...files] = process.argv.slice(2);
if (!outFile || files.length === 0) {
  process.stderr.write('usage: train-ubm <out.json> <audio files…>\n');
  process.exit(2);
}
await main(outFile, files);
