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
// Its helpers live in fingerprints/: the sampling grid, picture signals, visual and audio hashes,
// windows, pairwise matching and series matching.
import { errorMessage } from '../errors.js';
import type { RawFrame } from '../media/frames.js';
import type { FrameRequest } from '../media/source.js';
import type { MediaProbe } from '../media/probe.js';
import type { EpisodeFingerprint } from '../store/intro.js';
import { AudioFingerprinter } from './fingerprints/audio-hash.js';
import { frameSignals, lumaPlane, type FrameSignals } from './fingerprints/picture-signals.js';
import { AUDIO_RATE, AUDIO_STEP_SEC, FINGERPRINT_VERSION, FINGERPRINT_WINDOW_SEC, SIGNAL_FPS, SIGNAL_WIDTH, VISUAL_STEP_SEC } from './fingerprints/sampling.js';
import { rematchSeries } from './fingerprints/series.js';
import { dctHash } from './fingerprints/visual-hash.js';
import { fingerprintWindow, type VisualSample } from './fingerprints/windows.js';
import type { Stage, StageContext } from './stage.js';
import { stageAudioChunks, stageFrames } from './stage-media.js';

const SIGNAL_FRAMES: FrameRequest = { fps: SIGNAL_FPS, width: SIGNAL_WIDTH, pixFmt: 'rgb24' };
/** Luma spread under which a frame carries no picture information (flat or black). */
const FLAT_STD = 6;

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
