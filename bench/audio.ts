// Audio stage cost on this machine, per minute of audio: ffmpeg decode to 16 kHz mono, Silero VAD,
// and the speaker embedder on the speech it found (one embedding per speech segment, as the voices
// stage does for speaker turns). Uses the LibriSpeech files in ../shared/data/speech_speakers,
// repeated up to --minutes (a synthetic signal when the data is absent). Prints one JSON line.
//   node dist/bench/audio.js [--minutes 2] [--model-dir DIR]
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { extractAudioPcm } from '../src/media/frames.js';
import { resolveMediaTools } from '../src/media/tools.js';
import { loadVoiceModels, VOICE_SAMPLE_RATE } from '../src/models/voice/index.js';

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

function speechFiles(): string[] {
  const dir = path.resolve(repoRoot(), '../shared/data/speech_speakers/librispeech_test-other');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .flatMap((speaker) => readdirSync(path.join(dir, speaker)).map((f) => path.join(dir, speaker, f)))
    .sort();
}

/** Amplitude-modulated harmonics: voice-like enough to exercise every step when no speech is shipped. */
function synthetic(seconds: number): Float32Array {
  return Float32Array.from({ length: seconds * VOICE_SAMPLE_RATE }, (_, i) => {
    const t = i / VOICE_SAMPLE_RATE;
    return 0.2 * Math.max(0, Math.sin(2 * Math.PI * 3 * t)) * (Math.sin(2 * Math.PI * 140 * t) + 0.5 * Math.sin(2 * Math.PI * 280 * t));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '2' }, 'model-dir': { type: 'string' } } });
  const targetSec = Number(values.minutes) * 60;
  const tools = resolveMediaTools({ ffmpegPath: process.env.VIDSEARCH_FFMPEG ?? null, ffprobePath: process.env.VIDSEARCH_FFPROBE ?? null });
  const loadStart = performance.now();
  const { vad, embedder } = await loadVoiceModels({ modelDir: values['model-dir'] ?? null });
  const loadMs = performance.now() - loadStart;

  const files = speechFiles();
  const chunks: Float32Array[] = [];
  let decodedSec = 0;
  let decodeMs = 0;
  for (let i = 0; files.length > 0 && decodedSec < targetSec; i++) {
    const start = performance.now();
    const pcm = await extractAudioPcm(tools, files[i % files.length]!, { sampleRate: VOICE_SAMPLE_RATE, channels: 1 });
    decodeMs += performance.now() - start;
    chunks.push(pcm);
    decodedSec += pcm.length / VOICE_SAMPLE_RATE;
  }
  if (chunks.length === 0) chunks.push(synthetic(targetSec));
  const pcm = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    pcm.set(chunk, offset);
    offset += chunk.length;
  }
  const audioSec = pcm.length / VOICE_SAMPLE_RATE;

  const vadStart = performance.now();
  const segments = await vad.detect(pcm);
  const vadMs = performance.now() - vadStart;

  const embedStart = performance.now();
  let embeddings = 0;
  let speechSec = 0;
  for (const segment of segments) {
    const speech = pcm.subarray(Math.round(segment.start * VOICE_SAMPLE_RATE), Math.round(segment.end * VOICE_SAMPLE_RATE));
    speechSec += speech.length / VOICE_SAMPLE_RATE;
    if (await embedder.embed(speech)) embeddings++;
  }
  const embedMs = performance.now() - embedStart;

  const perMinute = (ms: number): number => Math.round((ms / audioSec) * 60);
  const totalMs = (files.length ? decodeMs : 0) + vadMs + embedMs;
  console.log(
    JSON.stringify({
      bench: 'audio',
      source: files.length ? 'LibriSpeech test-other files from ../shared/data, concatenated' : 'synthetic signal (../shared/data absent)',
      audioSec: Math.round(audioSec * 10) / 10,
      speechSec: Math.round(speechSec * 10) / 10,
      segments: segments.length,
      embeddings,
      vadModel: vad.modelId,
      speakerModel: embedder.modelId,
      modelLoadMs: Math.round(loadMs),
      decodeMsPerAudioMin: files.length ? perMinute(decodeMs) : null,
      vadMsPerAudioMin: perMinute(vadMs),
      embedMsPerAudioMin: perMinute(embedMs),
      totalMsPerAudioMin: perMinute(totalMs),
      /** Fraction of real time on one core (0.02 = 2 % of the audio's duration). */
      realtimeFactor: Math.round((totalMs / 1000 / audioSec) * 10_000) / 10_000,
    }),
  );
}

await main();
