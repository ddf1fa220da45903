// The head and tail windows of an episode's fingerprint, resampled on the regular grid.
import type { FingerprintWindow } from '../../store/intro.js';
import { AUDIO_STEP_SEC, VISUAL_STEP_SEC } from './sampling.js';

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
