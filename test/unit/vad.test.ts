import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { resolveMediaTools } from '../../src/media/tools.js';
import type * as ort from 'onnxruntime-node';
import { DEFAULT_VAD_OPTIONS, loadSileroVad, segmentsFromProbabilities, SileroVad } from '../../src/models/voice/silero-vad.js';
import { VOICE_SAMPLE_RATE } from '../../src/models/voice/types.js';
import { sharedData } from '../helpers/shared-data.js';

const W = 0.032;
const options = { onThreshold: 0.5, offThreshold: 0.35, minSpeechSec: 0.1, minSilenceSec: 0.1, padSec: 0 };
const probs = (values: number[]): Float32Array => Float32Array.from(values);

describe('segmentsFromProbabilities', () => {
  it('opens at the on-threshold and stays open between the thresholds (hysteresis)', () => {
    const segments = segmentsFromProbabilities(probs([0.1, 0.6, 0.4, 0.4, 0.6, 0.1, 0.1, 0.1, 0.1]), W, 9 * W, options);
    expect(segments).toHaveLength(1);
    expect(segments[0]!.start).toBeCloseTo(W);
    expect(segments[0]!.end).toBeCloseTo(5 * W);
  });

  it('never opens on values between the thresholds alone', () => {
    expect(segmentsFromProbabilities(probs([0.4, 0.45, 0.49, 0.4]), W, 4 * W, options)).toEqual([]);
  });

  it('bridges pauses shorter than minSilenceSec and splits on longer ones', () => {
    const bridged = segmentsFromProbabilities(probs([0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9]), W, 10 * W, { ...options, minSilenceSec: 0.1 });
    expect(bridged).toHaveLength(1);
    const split = segmentsFromProbabilities(probs([0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9]), W, 12 * W, { ...options, minSilenceSec: 0.1 });
    expect(split).toHaveLength(2);
  });

  it('drops bursts shorter than minSpeechSec and clamps padding to the neighbours and the buffer', () => {
    expect(segmentsFromProbabilities(probs([0.1, 0.9, 0.1, 0.1, 0.1, 0.1]), W, 6 * W, { ...options, minSpeechSec: 0.1 })).toEqual([]);
    const padded = segmentsFromProbabilities(probs([0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9]), W, 12 * W, { ...options, padSec: 1 });
    expect(padded[0]!.start).toBe(0);
    expect(padded[0]!.end).toBeCloseTo(padded[1]!.start);
    expect(padded[1]!.end).toBeCloseTo(12 * W);
  });
});

/** A stand-in for the model that counts its runs: probability 0.9 in every window. */
function countingSession(): { session: ort.InferenceSession; runs: () => number } {
  let runs = 0;
  const session = {
    outputNames: ['output', 'stateN'],
    run: async () => {
      runs++;
      return { output: { data: Float32Array.of(0.9) }, stateN: { data: new Float32Array(256) } };
    },
  };
  return { session: session as unknown as ort.InferenceSession, runs: () => runs };
}

describe('SileroVad runs', () => {
  it('runs the model once for callers passing the same samples (voices and scenes read one track)', async () => {
    const { session, runs } = countingSession();
    const vad = new SileroVad(session);
    const pcm = new Float32Array(VOICE_SAMPLE_RATE);
    const windows = Math.ceil(pcm.length / 512);
    const [first, second] = await Promise.all([vad.detect(pcm), vad.detect(pcm)]);
    expect(second).toEqual(first);
    expect(runs()).toBe(windows);
    // The same sound in another buffer is run again: what is shared is the decoded track itself.
    await vad.detect(new Float32Array(VOICE_SAMPLE_RATE));
    expect(runs()).toBe(2 * windows);
  });

  it('runs it again for a caller whose run was started by a caller that stopped', async () => {
    const { session } = countingSession();
    const vad = new SileroVad(session);
    const pcm = new Float32Array(VOICE_SAMPLE_RATE);
    const stopped = new AbortController();
    stopped.abort(new Error('job cancelled'));
    const [abandoned, kept] = await Promise.allSettled([vad.detect(pcm, {}, stopped.signal), vad.detect(pcm)]);
    expect(abandoned.status).toBe('rejected');
    expect(kept.status === 'fulfilled' && kept.value.length).toBe(1);
  });
});

describe('Silero VAD v5 on onnxruntime', () => {
  it('finds no speech in silence, a steady tone or white noise', async () => {
    const vad = await loadSileroVad();
    const seconds = 3;
    const silence = new Float32Array(seconds * VOICE_SAMPLE_RATE);
    const tone = Float32Array.from(silence, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / VOICE_SAMPLE_RATE));
    let state = 1;
    const noise = Float32Array.from(silence, () => ((state = (state * 16807) % 2147483647) / 2147483647 - 0.5) * 0.2);
    for (const pcm of [silence, tone, noise]) expect(await vad.detect(pcm)).toEqual([]);
    expect((await vad.probabilities(new Float32Array(100))).length).toBe(1);
  });

  it('finds the speech in a LibriSpeech utterance framed by added silence', async () => {
    const file = sharedData('speech_speakers/librispeech_test-other/367/367-130732-0000.flac');
    if (!file) return;
    const run = spawnSync(resolveMediaTools({ ffmpegPath: null, ffprobePath: null }).ffmpeg, ['-v', 'error', '-i', file, '-ac', '1', '-ar', '16000', '-f', 'f32le', 'pipe:1'], { maxBuffer: 1 << 26 });
    const speech = new Float32Array(run.stdout.buffer.slice(run.stdout.byteOffset, run.stdout.byteOffset + run.stdout.length));
    const lead = 2 * VOICE_SAMPLE_RATE;
    const pcm = new Float32Array(lead + speech.length + lead);
    pcm.set(speech, lead);
    const vad = await loadSileroVad();
    const probabilities = await vad.probabilities(pcm);
    // Context-prefixed windows: the model is confident on real speech (it outputs ~0 without the context).
    expect(Math.max(...probabilities)).toBeGreaterThan(0.9);
    const segments = await vad.detect(pcm);
    expect(segments.length).toBeGreaterThan(0);
    expect(segments[0]!.start).toBeGreaterThan(1.8);
    expect(segments.at(-1)!.end).toBeLessThan((lead + speech.length) / VOICE_SAMPLE_RATE + 0.5);
    const speechSec = segments.reduce((s, x) => s + x.end - x.start, 0);
    expect(speechSec).toBeGreaterThan(0.6 * (speech.length / VOICE_SAMPLE_RATE));
    expect(DEFAULT_VAD_OPTIONS.offThreshold).toBeLessThan(DEFAULT_VAD_OPTIONS.onThreshold);
  });
});
