// Loudness and a 32-bit energy-band hash per 0.1 s of audio (Haitsma–Kalker: sign of the
// band-energy difference's change over time, 33 log-spaced bands 300–3000 Hz), robust to re-encoding.
import FFT from 'fft.js';
import { AUDIO_RATE, AUDIO_STEP_SEC, round } from './sampling.js';

const AUDIO_HOP = AUDIO_RATE * AUDIO_STEP_SEC;
const AUDIO_FRAME = 2048;
const BAND_COUNT = 33;
const BAND_LOW_HZ = 300;
const BAND_HIGH_HZ = 3000;
/** Below this loudness (dBFS) a 0.1 s window is silent: its hash is 0 and never matches. */
const SILENT_DB = -55;

const BAND_EDGES = (() => {
  const edges: number[] = [];
  for (let b = 0; b <= BAND_COUNT; b++) {
    const hz = BAND_LOW_HZ * (BAND_HIGH_HZ / BAND_LOW_HZ) ** (b / BAND_COUNT);
    edges.push(Math.round((hz * AUDIO_FRAME) / AUDIO_RATE));
  }
  return edges;
})();

/** Loudness and band-energy hashes per 0.1 s of 8 kHz mono PCM, fed in chunks of any size. */
export class AudioFingerprinter {
  readonly db: number[] = [];
  readonly hashes: number[] = [];
  private pending = new Float32Array(0);
  private previousBands: Float64Array | null = null;
  private readonly fft = new FFT(AUDIO_FRAME);
  private readonly input = new Array<number>(AUDIO_FRAME).fill(0);
  private readonly spectrum = this.fft.createComplexArray() as number[];
  private readonly window = Float64Array.from({ length: AUDIO_FRAME }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (AUDIO_FRAME - 1)));

  push(chunk: Float32Array): void {
    const joined = new Float32Array(this.pending.length + chunk.length);
    joined.set(this.pending);
    joined.set(chunk, this.pending.length);
    let offset = 0;
    // Window k starts at sample k·hop: its loudness is that of [k·hop, (k+1)·hop), its hash
    // looks a little ahead (the FFT frame is longer than the hop).
    while (offset + AUDIO_FRAME <= joined.length) {
      this.analyse(joined, offset);
      offset += AUDIO_HOP;
    }
    this.pending = joined.slice(offset);
  }

  /** Flushes the tail (zero-padded) so every 0.1 s of sound has a window. */
  finish(totalSamples: number): void {
    const expected = Math.floor(totalSamples / AUDIO_HOP);
    while (this.db.length < expected) {
      const padded = new Float32Array(AUDIO_FRAME);
      padded.set(this.pending.subarray(0, AUDIO_FRAME));
      this.analyse(padded, 0);
      this.pending = this.pending.subarray(Math.min(this.pending.length, AUDIO_HOP));
    }
  }

  private analyse(samples: Float32Array, offset: number): void {
    let energy = 0;
    for (let i = 0; i < AUDIO_HOP; i++) {
      const s = samples[offset + i] ?? 0;
      energy += s * s;
    }
    const rms = Math.sqrt(energy / AUDIO_HOP);
    const db = rms > 1e-6 ? 20 * Math.log10(rms) : -120;
    this.db.push(round(db, 1));
    for (let i = 0; i < AUDIO_FRAME; i++) this.input[i] = (samples[offset + i] ?? 0) * this.window[i]!;
    this.fft.realTransform(this.spectrum, this.input);
    const bands = new Float64Array(BAND_COUNT);
    for (let b = 0; b < BAND_COUNT; b++) {
      for (let k = BAND_EDGES[b]!; k < Math.max(BAND_EDGES[b]! + 1, BAND_EDGES[b + 1]!); k++) {
        bands[b]! += this.spectrum[2 * k]! ** 2 + this.spectrum[2 * k + 1]! ** 2;
      }
    }
    let hash = 0;
    if (this.previousBands && db > SILENT_DB) {
      for (let b = 0; b < BAND_COUNT - 1; b++) {
        const now = bands[b]! - bands[b + 1]!;
        const before = this.previousBands[b]! - this.previousBands[b + 1]!;
        if (now - before > 0) hash |= 1 << b;
      }
      // A silent-looking all-zero hash would read as "silence": nudge it (one bit of 32).
      if (hash === 0) hash = 1;
    }
    this.hashes.push(hash >>> 0);
    this.previousBands = bands;
  }
}
