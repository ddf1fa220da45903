// Voice activity detection with Silero VAD v5, run directly on onnxruntime-node.
// The model is recurrent: each call takes 512 new samples (16 kHz) PREFIXED by the last 64
// samples of the previous window (576 in all) plus the state tensor the previous call returned.
// Without the 64-sample context the v5 model outputs ~0 for everything.
import type * as ort from 'onnxruntime-node';
import { loadManifestSession, ort as runtime } from '../runtime.js';
import { VOICE_SAMPLE_RATE, type SpeechSegment, type Vad, type VadOptions } from './types.js';

export const SILERO_MODEL_ID = 'silero-vad-v5-16k';
const WINDOW = 512;
const CONTEXT = 64;
const STATE_SIZE = 2 * 1 * 128;

/** Silero's own defaults, with a longer minimum pause so one sentence stays one segment. */
export const DEFAULT_VAD_OPTIONS: VadOptions = {
  onThreshold: 0.5,
  offThreshold: 0.35,
  minSpeechSec: 0.25,
  minSilenceSec: 0.3,
  padSec: 0.05,
};

export class SileroVad implements Vad {
  readonly modelId = SILERO_MODEL_ID;
  readonly windowSec = WINDOW / VOICE_SAMPLE_RATE;

  /**
   * Probabilities of the sound tracks already run, by their samples: a job's voices and scenes
   * stages read the same decoded track and would otherwise each run the model over all of it.
   * Callers never change the samples they pass.
   */
  private readonly runs = new WeakMap<Float32Array, Promise<Float32Array>>();

  constructor(private readonly session: ort.InferenceSession) {}

  /** The probabilities of `pcm`, run once for every caller passing the same samples. */
  private async sharedProbabilities(pcm: Float32Array, signal?: AbortSignal): Promise<Float32Array> {
    const earlier = this.runs.get(pcm);
    if (earlier) {
      try {
        return await earlier;
      } catch {
        // The caller that started it stopped (or it failed): this caller runs it for itself.
        signal?.throwIfAborted();
      }
    }
    const run = this.probabilities(pcm, signal);
    this.runs.set(pcm, run);
    run.catch(() => {
      if (this.runs.get(pcm) === run) this.runs.delete(pcm);
    });
    return run;
  }

  async probabilities(pcm: Float32Array, signal?: AbortSignal): Promise<Float32Array> {
    const windows = Math.ceil(pcm.length / WINDOW);
    const probs = new Float32Array(windows);
    let state = new Float32Array(STATE_SIZE);
    const input = new Float32Array(CONTEXT + WINDOW);
    const sampleRate = new runtime.Tensor('int64', BigInt64Array.from([BigInt(VOICE_SAMPLE_RATE)]), []);
    const [probName, stateName] = this.session.outputNames as [string, string];
    for (let w = 0; w < windows; w++) {
      if (w % 256 === 0) signal?.throwIfAborted();
      // Shift the last 64 samples of this input to the front: the next call's context.
      input.copyWithin(0, WINDOW, WINDOW + CONTEXT);
      const chunk = pcm.subarray(w * WINDOW, (w + 1) * WINDOW);
      input.set(chunk, CONTEXT);
      if (chunk.length < WINDOW) input.fill(0, CONTEXT + chunk.length);
      const out = await this.session.run({
        input: new runtime.Tensor('float32', input, [1, CONTEXT + WINDOW]),
        state: new runtime.Tensor('float32', state, [2, 1, 128]),
        sr: sampleRate,
      });
      probs[w] = (out[probName]!.data as Float32Array)[0]!;
      state = Float32Array.from(out[stateName]!.data as Float32Array);
    }
    return probs;
  }

  async detect(pcm: Float32Array, options: Partial<VadOptions> = {}, signal?: AbortSignal): Promise<SpeechSegment[]> {
    const probs = await this.sharedProbabilities(pcm, signal);
    return segmentsFromProbabilities(probs, this.windowSec, pcm.length / VOICE_SAMPLE_RATE, { ...DEFAULT_VAD_OPTIONS, ...options });
  }
}

/**
 * Per-window speech probabilities → speech segments: hysteresis between the on and off
 * thresholds, pauses shorter than minSilenceSec bridged, bursts shorter than minSpeechSec
 * dropped, then padding that never crosses into a neighbour.
 */
export function segmentsFromProbabilities(probs: Float32Array, windowSec: number, totalSec: number, options: VadOptions): SpeechSegment[] {
  const raw: SpeechSegment[] = [];
  let start: number | null = null;
  let silenceFrom: number | null = null;
  for (let w = 0; w < probs.length; w++) {
    const p = probs[w]!;
    const t = w * windowSec;
    if (start === null) {
      if (p >= options.onThreshold) start = t;
      continue;
    }
    if (p >= options.onThreshold || (p >= options.offThreshold && silenceFrom === null)) {
      silenceFrom = null;
      continue;
    }
    if (p < options.offThreshold) {
      silenceFrom ??= t;
      if (t + windowSec - silenceFrom >= options.minSilenceSec) {
        raw.push({ start, end: silenceFrom });
        start = null;
        silenceFrom = null;
      }
    }
  }
  if (start !== null) raw.push({ start, end: silenceFrom ?? Math.min(totalSec, probs.length * windowSec) });

  const kept = raw.filter((s) => s.end - s.start >= options.minSpeechSec);
  // Neighbours share the pause between them: each side pads at most half of it.
  return kept.map((s, i) => ({
    start: Math.max(s.start - options.padSec, i === 0 ? 0 : (kept[i - 1]!.end + s.start) / 2),
    end: Math.min(s.end + options.padSec, i === kept.length - 1 ? totalSec : (s.end + kept[i + 1]!.start) / 2),
  }));
}

export async function loadSileroVad(): Promise<SileroVad> {
  return new SileroVad(await loadManifestSession(SILERO_MODEL_ID));
}
