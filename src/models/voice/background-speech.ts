// Speech of the background speakers for training and calibration (developer tool, not the
// server): every file decoded to 16 kHz mono with ffmpeg and cut to speech with Silero VAD, then
// the speaker's files grouped into pieces of at least PIECE_MIN_SEC of speech, so corpora of
// isolated words (the spoken-digit speakers: under 1 s a file) still give usable utterances.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { BackgroundSpeaker } from './background-split.js';
import { concatPcm, concatSegments } from './pcm.js';
import type { Vad } from './types.js';
import { VOICE_SAMPLE_RATE } from './types.js';

/** An utterance as enrolment or queries see them: a few seconds of one speaker's speech. */
export const PIECE_MIN_SEC = 3;

export interface SpeakerSpeech {
  id: string;
  /** Consecutive speech pieces of ≥ PIECE_MIN_SEC (the last may be shorter), in file order. */
  pieces: Float32Array[];
  speechSec: number;
}

export function decodeAudio(ffmpeg: string, file: string): Float32Array {
  const run = spawnSync(ffmpeg, ['-v', 'error', '-i', file, '-vn', '-ac', '1', '-ar', String(VOICE_SAMPLE_RATE), '-f', 'f32le', 'pipe:1'], { maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(`ffmpeg could not decode ${file}: ${run.stderr.toString()}`);
  const bytes = run.stdout;
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

export async function speechOf(vad: Vad, pcm: Float32Array): Promise<Float32Array> {
  const segments = await vad.detect(pcm);
  return concatSegments(pcm, segments);
}

export async function loadSpeakerSpeech(root: string, speaker: BackgroundSpeaker, vad: Vad, ffmpeg: string): Promise<SpeakerSpeech> {
  const pieces: Float32Array[] = [];
  let pending: Float32Array[] = [];
  const pendingSec = (): number => pending.reduce((n, p) => n + p.length, 0) / VOICE_SAMPLE_RATE;
  for (const file of speaker.files) {
    const speech = await speechOf(vad, decodeAudio(ffmpeg, path.join(root, file)));
    if (speech.length) pending.push(speech);
    if (pendingSec() >= PIECE_MIN_SEC) {
      pieces.push(concatPcm(pending));
      pending = [];
    }
  }
  if (pending.length) pieces.push(concatPcm(pending));
  return { id: speaker.id, pieces, speechSec: pieces.reduce((n, p) => n + p.length, 0) / VOICE_SAMPLE_RATE };
}
