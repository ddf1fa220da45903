// Pairwise matching of two episodes' fingerprint windows: candidate offsets, then the longest
// span that repeats at one of them.
import type { FingerprintWindow } from '../../store/intro.js';
import { AUDIO_STEP_SEC, VISUAL_STEP_SEC, round } from './sampling.js';
import { popcount32 } from './visual-hash.js';

/** Hash bits (of 64) two frames may differ in and still be the same picture re-encoded. */
const VISUAL_MATCH_BITS = 12;
/** Bit error rate (of 32 per window) below which two stretches of sound are the same. */
const AUDIO_MATCH_BER = 0.3;
/** Mismatching seconds a repeated span may contain (a re-cut, a changed title card). */
const MAX_GAP_SEC = 1.5;
/** Shortest repeated span that counts as an intro/outro, and the informative seconds it needs. */
export const MIN_SPAN_SEC = 5;
const MIN_INFORMATIVE_SEC = 3;

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
