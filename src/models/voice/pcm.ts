// Joining PCM buffers: speech segments cut out of a recording, or pieces of several recordings.
import { VOICE_SAMPLE_RATE, type SpeechSegment } from './types.js';

export function concatPcm(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The speech segments of a recording (seconds at VOICE_SAMPLE_RATE), back to back. */
export function concatSegments(pcm: Float32Array, segments: readonly SpeechSegment[]): Float32Array {
  return concatPcm(segments.map((s) => pcm.subarray(Math.round(s.start * VOICE_SAMPLE_RATE), Math.round(s.end * VOICE_SAMPLE_RATE))));
}
