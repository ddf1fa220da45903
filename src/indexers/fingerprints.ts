// Stage "fingerprints": ONE low-resolution pass over the picture (4 fps, 128 px) and the sound
// (8 kHz mono) that yields
//   - compact fingerprints of the episode's head and tail, for intro/outro matching across the
//     series: a 64-bit DCT hash per frame (pHash: 32×32 grey → 8×8 lowest DCT terms > median) and
//     a 32-bit energy-band hash per 0.1 s of audio (Haitsma–Kalker: sign of the band-energy
//     difference's change over time, 33 log-spaced bands 300–3000 Hz), both robust to re-encoding;
//   - per-frame picture signals (brightness, spread, borders, colour-bar score, change) and
//     loudness per 0.1 s, which the technicalCues stage turns into cues without decoding again.
// After storing the fingerprint it re-runs matching for the whole series, so episodes indexed
// earlier get their intro/outro once a sibling arrives.
import FFT from 'fft.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RawFrame } from '../media/frames.js';
import type { FrameRequest } from '../media/source.js';
import type { MediaProbe } from '../media/probe.js';
import type { EpisodeFingerprint, FingerprintWindow, SkipMarkerKind, SkipMarkerRecord } from '../store/intro.js';
import type { Store } from '../store/interfaces.js';
import type { Stage, StageContext } from './stage.js';
import { stageAudioChunks, stageFrames } from './stage-media.js';

export const SIGNAL_FPS = 4;
export const SIGNAL_WIDTH = 128;
export const VISUAL_STEP_SEC = 1 / SIGNAL_FPS;
export const AUDIO_RATE = 8000;
const SIGNAL_FRAMES: FrameRequest = { fps: SIGNAL_FPS, width: SIGNAL_WIDTH, pixFmt: 'rgb24' };
export const AUDIO_STEP_SEC = 0.1;
const AUDIO_HOP = AUDIO_RATE * AUDIO_STEP_SEC;
const AUDIO_FRAME = 2048;
const BAND_COUNT = 33;
const BAND_LOW_HZ = 300;
const BAND_HIGH_HZ = 3000;
/** Below this loudness (dBFS) a 0.1 s window is silent: its hash is 0 and never matches. */
const SILENT_DB = -55;
/** Luma spread under which a frame carries no picture information (flat or black). */
const FLAT_STD = 6;
/** Seconds of head and tail kept as fingerprints: intros/outros are looked for there. */
export const FINGERPRINT_WINDOW_SEC = 360;
export const FINGERPRINT_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Picture signals

/** Per sampled frame, compact and rounded (the stage output is checkpointed as JSON). */
export interface FrameSignals {
  time: number;
  /** Mean luma 0..255. */
  luma: number;
  /** Luma standard deviation. */
  spread: number;
  /** Share of pixels with luma ≤ 32 (picture black). */
  darkShare: number;
  /** Rows/columns of near-black, flat border at each side, as shares of height/width. */
  borders: [top: number, bottom: number, left: number, right: number];
  /** 0..1: vertical stripes of uniform, saturated, distinct colours (SMPTE/EBU bars). */
  bars: number;
  /** Mean saturation 0..1 (max−min over max). */
  saturation: number;
  /** Mean absolute luma change from the previous sample (null for the first). */
  change: number | null;
}

const DARK_LUMA = 32;
const BORDER_ROW_MEAN = 28;
const BORDER_ROW_SPREAD = 8;

function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function lumaPlane(frame: RawFrame): Uint8Array {
  const { width, height, data } = frame;
  const luma = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < luma.length; i++, p += 3) luma[i] = (data[p]! * 299 + data[p + 1]! * 587 + data[p + 2]! * 114) / 1000;
  return luma;
}

/** How many lines from one side are flat and near-black (a border), as a share, capped at 40 %. */
export function borderDepth(luma: Uint8Array, width: number, height: number, side: 'top' | 'bottom' | 'left' | 'right'): number {
  const horizontal = side === 'top' || side === 'bottom';
  const lines = horizontal ? height : width;
  const length = horizontal ? width : height;
  const limit = Math.floor(lines * 0.4);
  let depth = 0;
  for (; depth < limit; depth++) {
    const line = side === 'top' || side === 'left' ? depth : lines - 1 - depth;
    let sum = 0;
    let sumSq = 0;
    for (let k = 0; k < length; k++) {
      const v = horizontal ? luma[line * width + k]! : luma[k * width + line]!;
      sum += v;
      sumSq += v * v;
    }
    const mean = sum / length;
    const spread = Math.sqrt(Math.max(0, sumSq / length - mean * mean));
    if (mean > BORDER_ROW_MEAN || spread > BORDER_ROW_SPREAD) break;
  }
  return depth / lines;
}

/**
 * Colour-bar score: over the top two thirds, columns that barely change down the frame are
 * grouped into runs of similar colour; bars are ≥ 5 such runs, each ≥ 5 % wide, covering ≥ 80 %
 * of the width, with ≥ 4 distinct saturated colours.
 */
export function colourBarScore(frame: RawFrame): number {
  const { width, height, data } = frame;
  const rows = Math.max(1, Math.floor((height * 2) / 3));
  const columns: { r: number; g: number; b: number; uniform: boolean }[] = [];
  for (let x = 0; x < width; x++) {
    let r = 0, g = 0, b = 0, rr = 0, gg = 0, bb = 0;
    for (let y = 0; y < rows; y++) {
      const p = (y * width + x) * 3;
      const R = data[p]!, G = data[p + 1]!, B = data[p + 2]!;
      r += R; g += G; b += B; rr += R * R; gg += G * G; bb += B * B;
    }
    r /= rows; g /= rows; b /= rows;
    const variance = rr / rows - r * r + gg / rows - g * g + bb / rows - b * b;
    columns.push({ r, g, b, uniform: variance < 3 * 12 * 12 });
  }
  const runs: { r: number; g: number; b: number; width: number }[] = [];
  for (const c of columns) {
    const last = runs.at(-1);
    if (c.uniform && last && Math.abs(last.r - c.r) + Math.abs(last.g - c.g) + Math.abs(last.b - c.b) < 40) {
      last.width += 1;
    } else if (c.uniform) {
      runs.push({ r: c.r, g: c.g, b: c.b, width: 1 });
    } else {
      runs.push({ r: -1, g: -1, b: -1, width: 1 });
    }
  }
  const bars = runs.filter((run) => run.r >= 0 && run.width >= width * 0.05);
  const covered = bars.reduce((sum, run) => sum + run.width, 0) / width;
  const saturated = bars.filter((run) => {
    const max = Math.max(run.r, run.g, run.b);
    return max > 60 && (max - Math.min(run.r, run.g, run.b)) / max > 0.5;
  });
  const distinct: { r: number; g: number; b: number }[] = [];
  for (const s of saturated) if (!distinct.some((d) => Math.abs(d.r - s.r) + Math.abs(d.g - s.g) + Math.abs(d.b - s.b) < 60)) distinct.push(s);
  if (bars.length < 5) return 0;
  return round(Math.min(1, covered / 0.8) * Math.min(1, distinct.length / 4));
}

export function frameSignals(frame: RawFrame, luma: Uint8Array, previousLuma: Uint8Array | null): FrameSignals {
  const { width, height, data } = frame;
  let sum = 0;
  let sumSq = 0;
  let dark = 0;
  let saturation = 0;
  for (let i = 0, p = 0; i < luma.length; i++, p += 3) {
    const y = luma[i]!;
    sum += y;
    sumSq += y * y;
    if (y <= DARK_LUMA) dark += 1;
    const max = Math.max(data[p]!, data[p + 1]!, data[p + 2]!);
    if (max > 0) saturation += (max - Math.min(data[p]!, data[p + 1]!, data[p + 2]!)) / max;
  }
  const n = luma.length;
  const mean = sum / n;
  let change: number | null = null;
  if (previousLuma && previousLuma.length === n) {
    let diff = 0;
    for (let i = 0; i < n; i++) diff += Math.abs(luma[i]! - previousLuma[i]!);
    change = round(diff / n, 2);
  }
  return {
    time: round(frame.time),
    luma: round(mean, 1),
    spread: round(Math.sqrt(Math.max(0, sumSq / n - mean * mean)), 1),
    darkShare: round(dark / n),
    borders: [
      round(borderDepth(luma, width, height, 'top')),
      round(borderDepth(luma, width, height, 'bottom')),
      round(borderDepth(luma, width, height, 'left')),
      round(borderDepth(luma, width, height, 'right')),
    ],
    bars: colourBarScore(frame),
    saturation: round(saturation / n),
    change,
  };
}

// ---------------------------------------------------------------------------------------------
// Visual hash

const HASH_SIZE = 32;
const DCT_KEEP = 8;
const DCT_COS = (() => {
  const table = new Float64Array(DCT_KEEP * HASH_SIZE);
  for (let u = 0; u < DCT_KEEP; u++) for (let x = 0; x < HASH_SIZE; x++) table[u * HASH_SIZE + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * HASH_SIZE));
  return table;
})();

/** 64-bit pHash of a luma plane as [hi, lo]: the 8×8 lowest DCT terms of a 32×32 area-average, > median. */
export function dctHash(luma: Uint8Array, width: number, height: number): [number, number] {
  const small = new Float64Array(HASH_SIZE * HASH_SIZE);
  const counts = new Float64Array(HASH_SIZE * HASH_SIZE);
  for (let y = 0; y < height; y++) {
    const row = Math.min(HASH_SIZE - 1, Math.floor((y * HASH_SIZE) / height)) * HASH_SIZE;
    for (let x = 0; x < width; x++) {
      const k = row + Math.min(HASH_SIZE - 1, Math.floor((x * HASH_SIZE) / width));
      small[k]! += luma[y * width + x]!;
      counts[k]! += 1;
    }
  }
  for (let i = 0; i < small.length; i++) small[i]! /= Math.max(1, counts[i]!);
  // Separable DCT-II, only the 8 lowest frequencies each way.
  const rowsDone = new Float64Array(HASH_SIZE * DCT_KEEP);
  for (let y = 0; y < HASH_SIZE; y++) {
    for (let u = 0; u < DCT_KEEP; u++) {
      let s = 0;
      for (let x = 0; x < HASH_SIZE; x++) s += small[y * HASH_SIZE + x]! * DCT_COS[u * HASH_SIZE + x]!;
      rowsDone[y * DCT_KEEP + u] = s;
    }
  }
  const coefficients = new Float64Array(DCT_KEEP * DCT_KEEP);
  for (let v = 0; v < DCT_KEEP; v++) {
    for (let u = 0; u < DCT_KEEP; u++) {
      let s = 0;
      for (let y = 0; y < HASH_SIZE; y++) s += rowsDone[y * DCT_KEEP + u]! * DCT_COS[v * HASH_SIZE + y]!;
      coefficients[v * DCT_KEEP + u] = s;
    }
  }
  // The DC term only says how bright the frame is; the median is taken without it.
  const sorted = [...coefficients.slice(1)].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 64; i++) {
    if (coefficients[i]! <= median) continue;
    if (i < 32) hi |= 1 << i;
    else lo |= 1 << (i - 32);
  }
  return [hi >>> 0, lo >>> 0];
}

export function popcount32(value: number): number {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

// ---------------------------------------------------------------------------------------------
// Audio hash

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

// ---------------------------------------------------------------------------------------------
// Windows

export interface VisualSample {
  time: number;
  hash: [number, number];
  informative: boolean;
}

/** Fingerprints between `from` and `to` seconds, on a regular grid (gaps repeat the last sample). */
export function fingerprintWindow(samples: readonly VisualSample[], audioHashes: readonly number[], from: number, to: number): FingerprintWindow {
  const count = Math.max(0, Math.round((to - from) / VISUAL_STEP_SEC));
  const visual = new Uint32Array(count * 2);
  const informative = new Uint8Array(count);
  let cursor = 0;
  for (let i = 0; i < count; i++) {
    const t = from + i * VISUAL_STEP_SEC;
    while (cursor + 1 < samples.length && samples[cursor + 1]!.time <= t + VISUAL_STEP_SEC / 2) cursor++;
    const sample = samples[cursor];
    if (!sample) continue;
    visual[2 * i] = sample.hash[0];
    visual[2 * i + 1] = sample.hash[1];
    informative[i] = sample.informative ? 1 : 0;
  }
  const a0 = Math.max(0, Math.round(from / AUDIO_STEP_SEC));
  const a1 = Math.min(audioHashes.length, Math.round(to / AUDIO_STEP_SEC));
  return { start: from, visual, visualInformative: informative, audio: Uint32Array.from(audioHashes.slice(a0, Math.max(a0, a1))) };
}

// ---------------------------------------------------------------------------------------------
// Matching

/** Hash bits (of 64) two frames may differ in and still be the same picture re-encoded. */
const VISUAL_MATCH_BITS = 12;
/** Bit error rate (of 32 per window) below which two stretches of sound are the same. */
const AUDIO_MATCH_BER = 0.3;
/** Mismatching seconds a repeated span may contain (a re-cut, a changed title card). */
const MAX_GAP_SEC = 1.5;
/** Shortest repeated span that counts as an intro/outro, and the informative seconds it needs. */
export const MIN_SPAN_SEC = 5;
const MIN_INFORMATIVE_SEC = 3;
/** Starts/ends within this many seconds are the same span when siblings vote. */
const AGREE_SEC = 2;

export interface PairSpan {
  /** Span in the first episode's time. */
  start: number;
  end: number;
  /** Share of its slots that matched. */
  score: number;
}

function visualDistance(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  return popcount32((a[2 * i]! ^ b[2 * j]!) >>> 0) + popcount32((a[2 * i + 1]! ^ b[2 * j + 1]!) >>> 0);
}

/** Offsets (seconds, b-time − a-time) that many frames agree on: visual scan + exact audio hits. */
function candidateOffsets(a: FingerprintWindow, b: FingerprintWindow): number[] {
  const votes = new Map<number, number>();
  const vote = (offsetSec: number, weight: number): void => {
    const key = Math.round(offsetSec / VISUAL_STEP_SEC);
    votes.set(key, (votes.get(key) ?? 0) + weight);
  };
  const na = a.visualInformative.length;
  const nb = b.visualInformative.length;
  for (let i = 0; i < na; i++) {
    if (!a.visualInformative[i]) continue;
    for (let j = 0; j < nb; j++) {
      if (b.visualInformative[j] && visualDistance(a.visual, i, b.visual, j) <= VISUAL_MATCH_BITS / 2) {
        vote(b.start + j * VISUAL_STEP_SEC - (a.start + i * VISUAL_STEP_SEC), 1);
      }
    }
  }
  const positions = new Map<number, number[]>();
  b.audio.forEach((h, j) => {
    if (h === 0) return;
    const list = positions.get(h) ?? [];
    if (list.length < 8) list.push(j);
    positions.set(h, list);
  });
  a.audio.forEach((h, i) => {
    if (h === 0) return;
    for (const j of positions.get(h) ?? []) vote(b.start + j * AUDIO_STEP_SEC - (a.start + i * AUDIO_STEP_SEC), 1);
  });
  const minVotes = 4;
  return [...votes.entries()]
    .filter(([, n]) => n >= minVotes)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 4)
    .map(([key]) => key * VISUAL_STEP_SEC);
}

/** Bit error rate of the audio hashes around a-time `t` against b at `t + offset` (null: silent/absent). */
function audioBer(a: FingerprintWindow, b: FingerprintWindow, t: number, offset: number): number | null {
  let errors = 0;
  let bits = 0;
  for (let k = -2; k <= 2; k++) {
    const ia = Math.round((t - a.start) / AUDIO_STEP_SEC) + k;
    const ib = Math.round((t + offset - b.start) / AUDIO_STEP_SEC) + k;
    const ha = a.audio[ia];
    const hb = b.audio[ib];
    if (!ha || !hb) continue;
    errors += popcount32((ha ^ hb) >>> 0);
    bits += 32;
  }
  return bits >= 64 ? errors / bits : null;
}

/** The audio offset near `coarse` (±0.3 s) with the lowest error over the overlap. */
function refineOffset(a: FingerprintWindow, b: FingerprintWindow, coarse: number): number {
  let best = coarse;
  let bestBer = Number.POSITIVE_INFINITY;
  for (let step = -3; step <= 3; step++) {
    const offset = coarse + step * AUDIO_STEP_SEC;
    let errors = 0;
    let bits = 0;
    for (let i = 0; i < a.audio.length; i += 2) {
      const j = Math.round((a.start + i * AUDIO_STEP_SEC + offset - b.start) / AUDIO_STEP_SEC);
      const ha = a.audio[i];
      const hb = b.audio[j];
      if (!ha || !hb) continue;
      errors += popcount32((ha ^ hb) >>> 0);
      bits += 32;
    }
    if (bits >= 32 * 20 && errors / bits < bestBer) {
      bestBer = errors / bits;
      best = offset;
    }
  }
  return best;
}

type Slot = 'match' | 'neutral' | 'miss';

/** The longest repeated span of `a` against `b` at one offset, in a-time, within [from, to). */
function spanAtOffset(a: FingerprintWindow, b: FingerprintWindow, offset: number, from: number, to: number): PairSpan | null {
  const first = Math.max(0, Math.ceil((from - a.start) / VISUAL_STEP_SEC));
  const last = Math.min(a.visualInformative.length, Math.floor((to - a.start) / VISUAL_STEP_SEC));
  const slots: Slot[] = [];
  const informativeMatch: boolean[] = [];
  for (let i = first; i < last; i++) {
    const t = a.start + i * VISUAL_STEP_SEC;
    const j = Math.round((t + offset - b.start) / VISUAL_STEP_SEC);
    if (j < 0 || j >= b.visualInformative.length) {
      slots.push('miss');
      informativeMatch.push(false);
      continue;
    }
    const bothInformative = a.visualInformative[i] === 1 && b.visualInformative[j] === 1;
    const visual = bothInformative && visualDistance(a.visual, i, b.visual, j) <= VISUAL_MATCH_BITS;
    const ber = audioBer(a, b, t, offset);
    const audio = ber !== null && ber <= AUDIO_MATCH_BER;
    const neutral = !a.visualInformative[i] && !b.visualInformative[j] && ber === null;
    slots.push(visual || audio ? 'match' : neutral ? 'neutral' : 'miss');
    informativeMatch.push(visual || audio);
  }
  const maxGap = Math.round(MAX_GAP_SEC / VISUAL_STEP_SEC);
  let best: { s: number; e: number; matched: number; informative: number } | null = null;
  let runStart = -1;
  let lastMatch = -1;
  let matched = 0;
  let informative = 0;
  const close = (): void => {
    if (runStart < 0) return;
    const length = lastMatch - runStart + 1;
    if (!best || length > best.e - best.s + 1) best = { s: runStart, e: lastMatch, matched, informative };
  };
  for (let k = 0; k < slots.length; k++) {
    const slot = slots[k]!;
    if (slot === 'match') {
      if (runStart < 0) {
        runStart = k;
        matched = 0;
        informative = 0;
      }
      lastMatch = k;
      matched += 1;
      if (informativeMatch[k]) informative += 1;
    } else if (slot === 'miss' && runStart >= 0 && k - lastMatch > maxGap) {
      close();
      runStart = -1;
    }
  }
  close();
  const found = best as { s: number; e: number; matched: number; informative: number } | null;
  if (!found) return null;
  const start = a.start + (first + found.s) * VISUAL_STEP_SEC;
  const end = a.start + (first + found.e + 1) * VISUAL_STEP_SEC;
  if (end - start < MIN_SPAN_SEC || found.informative * VISUAL_STEP_SEC < MIN_INFORMATIVE_SEC) return null;
  return { start: round(start, 2), end: round(end, 2), score: round(found.matched / (found.e - found.s + 1)) };
}

/** The longest span of `a`'s window [from, to) that repeats anywhere in `b`'s window. */
export function matchWindows(a: FingerprintWindow, b: FingerprintWindow, from: number, to: number): PairSpan | null {
  let best: PairSpan | null = null;
  for (const coarse of candidateOffsets(a, b)) {
    const offset = a.audio.length && b.audio.length ? refineOffset(a, b, coarse) : coarse;
    for (const o of new Set([offset, coarse])) {
      const span = spanAtOffset(a, b, o, from, to);
      if (span && (!best || span.end - span.start > best.end - best.start)) best = span;
    }
  }
  return best;
}

/** Where intros are looked for (head) and outros (tail): never overlapping, at most the stored window. */
export function searchRegion(fp: EpisodeFingerprint, kind: SkipMarkerKind): [number, number] {
  const half = fp.durationSec / 2;
  return kind === 'INTRO'
    ? [0, Math.min(half, FINGERPRINT_WINDOW_SEC)]
    : [Math.max(half, fp.durationSec - FINGERPRINT_WINDOW_SEC), fp.durationSec];
}

/** The span most siblings agree on: spans grouped by start and end within AGREE_SEC, largest group wins. */
export function agreeOnSpan(spans: readonly (PairSpan & { siblingId: string })[], siblings: number): Omit<SkipMarkerRecord, 'videoId' | 'kind' | 'updatedAt' | 'source'> | null {
  if (spans.length === 0) return null;
  let bestGroup: (PairSpan & { siblingId: string })[] = [];
  for (const anchor of spans) {
    const group = spans.filter((s) => Math.abs(s.start - anchor.start) <= AGREE_SEC && Math.abs(s.end - anchor.end) <= AGREE_SEC);
    const length = (g: readonly PairSpan[]): number => g.reduce((sum, s) => sum + s.end - s.start, 0);
    if (group.length > bestGroup.length || (group.length === bestGroup.length && length(group) > length(bestGroup))) bestGroup = group;
  }
  const median = (values: number[]): number => {
    const sorted = [...values].sort((x, y) => x - y);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const support = bestGroup.length / Math.max(1, Math.min(siblings, 3));
  const score = bestGroup.reduce((sum, s) => sum + s.score, 0) / bestGroup.length;
  return {
    start: round(median(bestGroup.map((s) => s.start)), 2),
    end: round(median(bestGroup.map((s) => s.end)), 2),
    confidence: round(Math.min(1, support) * score),
    matchedVideoIds: bestGroup.map((s) => s.siblingId),
  };
}

/** Intro/outro of every episode of the fingerprints given, each matched against all the others. */
export function matchSeries(fingerprints: readonly EpisodeFingerprint[], now = new Date().toISOString()): SkipMarkerRecord[] {
  const usable = fingerprints.filter((f) => f.version === FINGERPRINT_VERSION);
  const markers: SkipMarkerRecord[] = [];
  for (const episode of usable) {
    const siblings = usable.filter((s) => s.videoId !== episode.videoId);
    if (siblings.length === 0) continue;
    for (const kind of ['INTRO', 'OUTRO'] as const) {
      const [from, to] = searchRegion(episode, kind);
      const spans = siblings.flatMap((sibling) => {
        const mine = kind === 'INTRO' ? episode.head : episode.tail;
        const theirs = kind === 'INTRO' ? sibling.head : sibling.tail;
        const span = matchWindows(mine, theirs, from, to);
        return span ? [{ ...span, siblingId: sibling.videoId }] : [];
      });
      const agreed = agreeOnSpan(spans, siblings.length);
      if (agreed) markers.push({ videoId: episode.videoId, kind, source: 'AUTO', updatedAt: now, ...agreed });
    }
  }
  return markers;
}

/** Re-matches every fingerprinted episode of a series and replaces their automatic markers. */
export async function rematchSeries(store: Store, series: string, log: Logger): Promise<SkipMarkerRecord[]> {
  const started = performance.now();
  const fingerprints = await store.intro.getFingerprintsOfSeries(series);
  const markers = matchSeries(fingerprints);
  await store.intro.replaceAutoMarkers(fingerprints.map((f) => f.videoId), markers);
  log.info({ series, episodes: fingerprints.length, markers: markers.length, ms: Math.round(performance.now() - started) }, 'intro/outro matched');
  return markers;
}

// ---------------------------------------------------------------------------------------------
// The stage

export interface FingerprintsStageOutput {
  frames: FrameSignals[];
  /** Loudness per AUDIO_STEP_SEC from 0 (dBFS); empty without audio. */
  audioDb: number[];
  /** Why the audio half was skipped (no stream, decode error), else null. */
  audioSkipped: string | null;
  /** Set when the series could not be re-matched (the stage still succeeds). */
  matchError: string | null;
}

export interface FingerprintsStageDeps {
  frames(ctx: StageContext, probe: MediaProbe): AsyncIterable<RawFrame>;
  audio(ctx: StageContext): AsyncIterable<Float32Array>;
}

const defaultDeps: FingerprintsStageDeps = {
  frames: (ctx) => stageFrames(ctx, SIGNAL_FRAMES),
  audio: (ctx) => stageAudioChunks(ctx, AUDIO_RATE, AUDIO_RATE * 4),
};

export function createFingerprintsStage(overrides: Partial<FingerprintsStageDeps> = {}): Stage<{ probe: MediaProbe }, FingerprintsStageOutput> & { name: 'fingerprints' } {
  const deps: FingerprintsStageDeps = { ...defaultDeps, ...overrides };
  return {
    name: 'fingerprints',
    weight: 2,
    needs: ['probe'],
    media: () => ({ frames: [SIGNAL_FRAMES], audioRates: [AUDIO_RATE] }),
    async run(ctx, { probe }) {
      const duration = probe.durationSec;
      const frames: FrameSignals[] = [];
      const samples: VisualSample[] = [];
      let previous: Uint8Array | null = null;
      for await (const frame of deps.frames(ctx, probe)) {
        const luma = lumaPlane(frame);
        const signals = frameSignals(frame, luma, previous);
        frames.push(signals);
        samples.push({ time: frame.time, hash: dctHash(luma, frame.width, frame.height), informative: signals.spread >= FLAT_STD });
        previous = luma;
        if (duration > 0) ctx.reportProgress(0.8 * Math.min(1, frame.time / duration));
      }

      const audio = new AudioFingerprinter();
      let audioSkipped: string | null = probe.hasAudio ? null : 'no audio stream';
      if (probe.hasAudio) {
        try {
          let total = 0;
          for await (const chunk of deps.audio(ctx)) {
            audio.push(chunk);
            total += chunk.length;
          }
          audio.finish(total);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          audioSkipped = `audio not decoded: ${errorMessage(err)}`;
          ctx.log.warn({ err: audioSkipped }, 'fingerprints without audio');
        }
      }
      const audioHashes = audioSkipped ? [] : audio.hashes;
      const end = Math.max(duration, frames.at(-1) ? frames.at(-1)!.time + VISUAL_STEP_SEC : 0);
      const fingerprint: EpisodeFingerprint = {
        videoId: ctx.video.id,
        durationSec: end,
        visualStepSec: VISUAL_STEP_SEC,
        audioStepSec: AUDIO_STEP_SEC,
        version: FINGERPRINT_VERSION,
        head: fingerprintWindow(samples, audioHashes, 0, Math.min(end, FINGERPRINT_WINDOW_SEC)),
        tail: fingerprintWindow(samples, audioHashes, Math.max(0, end - FINGERPRINT_WINDOW_SEC), end),
      };
      await ctx.store.intro.putFingerprint(fingerprint);
      ctx.reportProgress(0.9);

      let matchError: string | null = null;
      if (ctx.video.series) {
        try {
          await rematchSeries(ctx.store, ctx.video.series, ctx.log);
        } catch (err) {
          matchError = errorMessage(err);
          ctx.log.warn({ err: matchError }, 'intro/outro matching failed; markers unchanged');
        }
      }
      return { frames, audioDb: audioSkipped ? [] : audio.db, audioSkipped, matchError };
    },
  };
}

export const fingerprintsStage = createFingerprintsStage();
