// The `ocr` stage: burned-in subtitles and other on-screen text, read from one grey frame stream.
//  - Subtitles: the bottom band is watched at BAND_FPS; a frame goes to OCR only when the band's
//    block signature changed since the last OCR'd frame and has settled (seed 003: dedupe before
//    the heavy model). Readings merge into cues whose boundaries are the band-change onsets, so
//    they are accurate to one sample. Kind SUBTITLE.
//  - On-screen text (titles, signs): the frame at each shot's keyframe time, skipped when it looks
//    like a keyframe already read (its reading reused), first looked at small and read no further
//    when nothing in it looks like text; lines that are subtitles are left out. Kind ON_SCREEN_TEXT.
//    The band is read as the job's one decode goes by (the stage starts before the shots are
//    known); the frames that may be keyframes are kept meanwhile (ocr-keyframes.ts) and read once
//    the shots and segments are stored.
// Everything is written as OCR cues with catalog.replaceCues, so a re-run replaces cleanly.
import { availableParallelism } from 'node:os';
import type { CueRecord, SegmentRecord, VideoRecord } from '../domain.js';
import type { RawFrame } from '../media/frames.js';
import type { FrameRequest } from '../media/source.js';
import { DETECTION_STRIDE } from '../models/ocr/detector.js';
import { SINGLE_LINE_MIN_ASPECT } from '../models/ocr/engine.js';
import { sharedOcrPool } from '../models/ocr/pool.js';
import type { Quad, ReadOptions, TextLine } from '../models/ocr/types.js';
import { ModelIntegrityError } from '../models/runtime.js';
import type { RawImage } from '../models/types.js';
import { greyOf, OcrKeyframeKeeper } from './ocr-keyframes.js';
import { RepeatedKeyframes, wholeFrameSignature } from './repeated-keyframes.js';
import { keyframeCandidateStride } from './shots.js';
import { awaitPrerequisites, type Stage, type StageContext } from './stage.js';
import { stageFrameAt, stageFrames } from './stage-media.js';
import {
  BandLocator,
  BandWatcher,
  CueAssembler,
  MIN_TEXT_BLOCKS_TO_READ,
  MIN_TEXT_BLOCKS_TO_RETRY,
  isSubtitleLike,
  sameLine,
  type Band,
  type TimedText,
} from './subtitle-band.js';

/** Band samples per second: cue boundaries land within 1/BAND_FPS of the true change. */
export const BAND_FPS = 10;
/** Decoded width: subtitle glyphs stay ~20+ px high at 960 for 1080p sources. */
export const OCR_DECODE_WIDTH = 960;
/** A band still changing after this long (motion behind the text) is read anyway. */
const MAX_SETTLE_SEC = 0.5;
/** While text-like edges stay in the band (and move), it is read at least this often (issue 19). */
const FORCE_READ_SEC = 1.0;
/** Cues shorter than this are flashes between two subtitles, not lines. */
const MIN_CUE_SEC = 0.25;
/** Subtitle lines read with less confidence are dropped (noise in busy backgrounds). */
const MIN_SUBTITLE_SCORE = 0.75;
/** On-screen text needs more confidence: keyframes of busy scenes hold many false lines. */
const MIN_ON_SCREEN_SCORE = 0.85;
/** Band readings between two looks at where subtitles were found, until the band is located. */
const LOCATE_EVERY_READINGS = 4;
/** Without shots, one keyframe every this many seconds. */
const KEYFRAME_FALLBACK_SEC = 5;
/**
 * Longest side the detector looks at a shot keyframe with (bands keep the full decode width): on
 * the whole frame the text worth a cue is large (titles, signs), and 640 costs ~0.4× of 960.
 * Checked, not fitted: on the 57 keyframes of the indexing-real footage the lines read at ≥ 0.85
 * were the same at 640 as at 960 but for one stray letter; on ocr.json's images larger than 640
 * px, 5 of 5 lines were found at 960, 640 and 480.
 */
const KEYFRAME_DETECT_SIDE = 640;
/**
 * A keyframe is first looked at this small (~0.5× the CPU of the 640 look) and read no further
 * when no pixel of it looks like text (detector.ts presenceMaxSide). Fitted on the 57 keyframes of
 * the indexing-real footage: every keyframe whose 640 look read a line at MIN_ON_SCREEN_SCORE had
 * text pixels at 480 (at 320 two of them had none), and 45 of 57 had none at 480. Reported on
 * ocr.json's images as 960-px frames (text pixels at 480 in 11 of 11) and subtitles.json.
 */
const KEYFRAME_PRESENCE_SIDE = 480;
/** Readings of earlier keyframes kept to be found again by picture (repeated-keyframes.ts), ~8 MB. */
const REPEATED_KEYFRAMES_KEPT = 128;

export interface OcrStageOutput {
  /** Why nothing was read (models missing); absent when the stage ran. */
  skipped?: string;
  subtitleCues: number;
  onScreenCues: number;
  band: Band & { located: boolean };
  sampleFps: number;
  decodeWidth: number;
  /**
   * Band frames decoded, and what became of them: reached OCR; changed but held no text-like edges
   * (read as "no text" without OCR); near-duplicates of the last read band (its reading reused);
   * changed since the last read but not settled yet (moving backgrounds: read once settled or
   * after MAX_SETTLE_SEC).
   */
  framesSampled: number;
  framesOcr: number;
  framesTextless: number;
  framesReused: number;
  framesSettling: number;
  /** Of framesOcr, bands too sparse in text-like blocks for the retry views: the first look only. */
  framesNoRetry: number;
  /**
   * Shot keyframes looked at, those that reached OCR, and those whose picture nearly repeated an
   * earlier read keyframe (its reading reused).
   */
  keyframes: number;
  keyframesOcr: number;
  keyframesRepeated: number;
  /** Keyframes between the kept candidate frames (shots shorter than their spacing): decoded on their own. */
  keyframesDecoded: number;
}

export interface OcrReader {
  read(image: RawImage, options?: ReadOptions): Promise<TextLine[]>;
  readonly size: number;
}

export interface OcrStageDeps {
  reader(ctx: StageContext): OcrReader;
  frames(ctx: StageContext, request: { fps: number; width: number }): AsyncIterable<RawFrame>;
  /** The stream's frame at `time` (a keyframe no kept frame serves), grey. */
  frameAt(ctx: StageContext, time: number, width: number): Promise<RawFrame>;
  /** Bands with fewer text-like blocks are read as "no text" without OCR (0: every band goes to OCR). */
  minTextBlocksToRead: number;
}

const defaultDeps: OcrStageDeps = {
  // One worker per core but one, so ffmpeg keeps a core to decode.
  reader: () => sharedOcrPool(Math.max(1, availableParallelism() - 1)),
  frames: (ctx, request) => stageFrames(ctx, { fps: request.fps, width: request.width, pixFmt: 'gray' }),
  frameAt: async (ctx, time, width) => greyOf(await stageFrameAt(ctx, time, width)),
  minTextBlocksToRead: MIN_TEXT_BLOCKS_TO_READ,
};

/** The grey stream the stage reads: band samples at BAND_FPS, at most OCR_DECODE_WIDTH wide. */
function ocrFrameRequest(video: Pick<VideoRecord, 'width'>): FrameRequest {
  return { fps: BAND_FPS, width: Math.min(OCR_DECODE_WIDTH, video.width || OCR_DECODE_WIDTH), pixFmt: 'gray' };
}

interface KeySlot {
  start: number;
  end: number;
  time: number;
}

interface PendingRead<T> {
  meta: T;
  lines: Promise<TextLine[]>;
}

/**
 * What OCR gets of a band: its columns with text-like blocks, padded on each side by the band's
 * height (a subtitle line is at most about half of it, so that is two glyphs beyond the last
 * text-like block: line ends with weak edges stay in), and at least twice as wide as the engine's
 * one-line shape (chosen when a band the detector missed was read whole as a line, engine.ts;
 * kept since the detector's looks and retries were fitted on crops of these sizes).
 * A band of scattered speckle is a small crop, not a 960-pixel strip for the detector and every
 * retry view; text over a busy background spreads text-like blocks across the band and gets
 * (nearly) all of it. `left` maps the crop's coordinates back to the frame's.
 */
function bandCrop(frame: RawFrame, band: Band, columns: { left: number; right: number } | null): { image: RawImage; left: number } {
  const height = band.bottom - band.top;
  const minWidth = Math.ceil(2 * SINGLE_LINE_MIN_ASPECT * height);
  let left = columns ? columns.left - height : 0;
  let right = columns ? columns.right + height : frame.width;
  const widen = Math.max(0, minWidth - (right - left)) / 2;
  left = Math.max(0, Math.floor(left - widen));
  right = Math.min(frame.width, Math.ceil(right + widen));
  // On the detector's 32-pixel grid: it then sees the crop at the band's own scale and alignment,
  // as it saw the whole band (a shifted or resampled crop changes its boxes, and so the readings).
  left = Math.floor(left / DETECTION_STRIDE) * DETECTION_STRIDE;
  right = Math.min(frame.width, Math.ceil(right / DETECTION_STRIDE) * DETECTION_STRIDE);
  const width = right - left;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = (band.top + y) * frame.width;
    data.set(frame.data.subarray(row + left, row + right), y * width);
  }
  return { image: { data, width, height, channels: 1 }, left };
}

/**
 * How a band crop is read. Never whole as one line when nothing is detected in it: the crop is
 * padded by the band's height on each side, so its text does not touch the crop's sides (what that
 * fallback is for, engine.ts); on the fit half of the short-cue set (v3) and the indexing-real
 * footage the fallback read 63 bands, none to a line of even MIN_TEXT_SCORE, each a recogniser
 * pass over the whole crop (~1 CPU-s per media minute of the real footage). Retried on enlarged
 * views only with MIN_TEXT_BLOCKS_TO_RETRY text-like blocks. Reported on the held-out half and
 * subtitles.json.
 */
function bandReadOptions(textBlocks: number): ReadOptions {
  return { wholeLineFallback: false, retry: textBlocks >= MIN_TEXT_BLOCKS_TO_RETRY };
}

/** Lines read on a crop, in the coordinates of the image it was cut from `left` pixels into. */
function shiftLines(lines: TextLine[], left: number): TextLine[] {
  if (left === 0) return lines;
  return lines.map((line) => ({ ...line, quad: line.quad.map(([x, y]) => [x + left, y]) as Quad }));
}

function wholeFrame(frame: RawFrame): RawImage {
  return { data: new Uint8Array(frame.data), width: frame.width, height: frame.height, channels: 1 };
}

function segmentFinder(segments: readonly SegmentRecord[]): (time: number) => string | null {
  return (time) => {
    let lo = 0;
    let hi = segments.length - 1;
    let found: SegmentRecord | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (segments[mid]!.start <= time + 1e-6) {
        found = segments[mid]!;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return (found ?? segments[0])?.id ?? null;
  };
}

function keySlots(shots: readonly { start: number; end: number; keyframeTime: number }[], durationSec: number): KeySlot[] {
  if (shots.length > 0) return shots.map((s) => ({ start: s.start, end: s.end, time: s.keyframeTime }));
  const slots: KeySlot[] = [];
  for (let start = 0; start < durationSec; start += KEYFRAME_FALLBACK_SEC) {
    const end = Math.min(durationSec, start + KEYFRAME_FALLBACK_SEC);
    slots.push({ start, end, time: (start + end) / 2 });
  }
  return slots;
}

/** Same line on consecutive keyframes (adjacent slots) → one cue across them. */
function mergeOnScreen(readings: { slot: KeySlot; texts: string[] }[]): TimedText[] {
  const cues: TimedText[] = [];
  let open: TimedText[] = [];
  for (const { slot, texts } of readings) {
    const next: TimedText[] = [];
    for (const text of texts) {
      const continued = open.find((cue) => Math.abs(cue.end - slot.start) < 1e-3 && sameLine(cue.text, text));
      if (continued) {
        continued.end = slot.end;
        open = open.filter((c) => c !== continued);
        next.push(continued);
      } else {
        const cue = { start: slot.start, end: slot.end, text };
        cues.push(cue);
        next.push(cue);
      }
    }
    open = next;
  }
  return cues;
}

export function createOcrStage(overrides: Partial<OcrStageDeps> = {}): Stage<unknown, OcrStageOutput> {
  const deps: OcrStageDeps = { ...defaultDeps, ...overrides };
  return {
    name: 'ocr',
    weight: 3,
    needs: ['probe'],
    // Reads the stored shots (keyframe times) and segments (cue → segment) after the band.
    awaits: ['shots', 'segments'],
    media: (video) => ({ frames: [ocrFrameRequest(video)] }),
    async run(ctx) {
      const { video, store, log } = ctx;
      const width = ocrFrameRequest(video).width;
      const reader = deps.reader(ctx);
      const output: OcrStageOutput = {
        subtitleCues: 0,
        onScreenCues: 0,
        band: { top: 0, bottom: 0, located: false },
        sampleFps: BAND_FPS,
        decodeWidth: width,
        framesSampled: 0,
        framesOcr: 0,
        framesTextless: 0,
        framesReused: 0,
        framesSettling: 0,
        framesNoRetry: 0,
        keyframes: 0,
        keyframesOcr: 0,
        keyframesRepeated: 0,
        keyframesDecoded: 0,
      };

      let locator: BandLocator | null = null;
      let frameWidth = width;
      const bandReads: PendingRead<{ onset: number; top: number }>[] = [];
      let fedReadings = 0;
      const keyReads: PendingRead<{ slot: KeySlot }>[] = [];
      const inFlight = new Set<Promise<unknown>>();
      // Bounded look-ahead: decoding may run ahead of OCR by a few frames, not the whole video.
      const submit = async (image: RawImage, options?: ReadOptions): Promise<{ lines: Promise<TextLine[]> }> => {
        while (inFlight.size >= reader.size * 3) await Promise.race(inFlight);
        const lines = reader.read(image, options);
        const settled = lines.then(
          () => undefined,
          () => undefined,
        );
        inFlight.add(settled);
        void settled.then(() => inFlight.delete(settled));
        // Wrapped: awaiting the slot must not await the reading itself.
        return { lines };
      };

      const watcher = new BandWatcher(MAX_SETTLE_SEC, FORCE_READ_SEC);
      const shotFps = ctx.config.indexing.shotSampleFps;
      const keeper = new OcrKeyframeKeeper(keyframeCandidateStride(shotFps) / shotFps, 0.5 / BAND_FPS);
      let lastTime = 0;

      try {
        for await (const frame of deps.frames(ctx, { fps: BAND_FPS, width })) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          output.framesSampled++;
          lastTime = frame.time;
          frameWidth = frame.width;
          locator ??= new BandLocator(frame.height);
          const reading = watcher.next(frame, locator);
          if (reading) {
            const meta = { onset: reading.onset, top: reading.band.top };
            // A band without text-like edges holds no subtitle: "no text" without asking OCR.
            if (reading.textBlocks < deps.minTextBlocksToRead) {
              output.framesTextless++;
              bandReads.push({ meta, lines: Promise.resolve([]) });
            } else {
              output.framesOcr++;
              if (reading.textBlocks < MIN_TEXT_BLOCKS_TO_RETRY) output.framesNoRetry++;
              const crop = bandCrop(frame, reading.band, reading.textColumns);
              const { lines } = await submit(crop.image, bandReadOptions(reading.textBlocks));
              const shifted = lines.then((read) => shiftLines(read, crop.left));
              // Handled here so a failed reading is not an unhandled rejection before it is awaited.
              shifted.catch(() => undefined);
              bandReads.push({ meta, lines: shifted });
            }
            // Until the band is located, wait for the readings every few frames and learn from
            // them in order, so where the band moves does not depend on how fast OCR ran.
            if (!locator.isLocated && bandReads.length % LOCATE_EVERY_READINGS === 0) {
              for (; fedReadings < bandReads.length; fedReadings++) {
                for (const line of await bandReads[fedReadings]!.lines) {
                  if (line.score < MIN_SUBTITLE_SCORE || !isSubtitleLike(line.quad, frame.width)) continue;
                  const ys = line.quad.map((p) => p[1] + bandReads[fedReadings]!.meta.top);
                  locator.observe(Math.min(...ys), Math.max(...ys));
                }
              }
            }
          }
          await keeper.add(frame);
          ctx.reportProgress(video.durationSec > 0 ? Math.min(0.9, frame.time / video.durationSec) : 0);
        }

        await awaitPrerequisites(ctx);
        const slots = keySlots(await store.catalog.getShots(video.id), video.durationSec);
        const segmentOf = segmentFinder(await store.catalog.getSegmentsOfVideo(video.id));
        const repeated = new RepeatedKeyframes<Promise<TextLine[]>>(REPEATED_KEYFRAMES_KEPT);
        for (const slot of slots) {
          // The first frame at or after the shot's keyframe time stands for the shot.
          const found = keeper.frameAt(slot.time);
          if (!found) break;
          output.keyframes++;
          if (!found.frame) output.keyframesDecoded++;
          const frame = found.frame ?? (await deps.frameAt(ctx, found.time, width));
          const whole = wholeFrameSignature(frame);
          const earlier = repeated.find(whole);
          if (earlier) {
            output.keyframesRepeated++;
            keyReads.push({ meta: { slot }, lines: earlier });
            continue;
          }
          output.keyframesOcr++;
          const { lines } = await submit(wholeFrame(frame), { detectMaxSide: KEYFRAME_DETECT_SIDE, presenceMaxSide: KEYFRAME_PRESENCE_SIDE });
          repeated.add(whole, lines);
          keyReads.push({ meta: { slot }, lines });
        }

        const assembler = new CueAssembler(MIN_CUE_SEC);
        for (const read of bandReads) {
          const lines = (await read.lines).filter((l) => l.score >= MIN_SUBTITLE_SCORE && isSubtitleLike(l.quad, frameWidth));
          assembler.observe(read.meta.onset, lines.map((l) => l.text).join('\n'), Math.min(1, ...lines.map((l) => l.score)));
        }
        assembler.close(Math.max(lastTime + 1 / BAND_FPS, video.durationSec || 0));

        const finalBand = locator?.band ?? { top: 0, bottom: 0 };
        const onScreenReadings: { slot: KeySlot; texts: string[] }[] = [];
        for (const read of keyReads) {
          const lines = await read.lines;
          const texts = lines
            .filter((l) => l.score >= MIN_ON_SCREEN_SCORE)
            .filter((l) => {
              const centreY = l.quad.reduce((sum, p) => sum + p[1], 0) / 4;
              const inBand = centreY >= finalBand.top && centreY < finalBand.bottom;
              return !(inBand && isSubtitleLike(l.quad, frameWidth));
            })
            .map((l) => l.text);
          onScreenReadings.push({ slot: read.meta.slot, texts });
        }
        const onScreen = mergeOnScreen(onScreenReadings);

        const cues: CueRecord[] = [
          ...assembler.cues.map((cue, i) => ({ ...cue, id: `${video.id}_ocrsub_${i}`, kind: 'SUBTITLE' as const })),
          ...onScreen.map((cue, i) => ({ ...cue, id: `${video.id}_ocrtext_${i}`, kind: 'ON_SCREEN_TEXT' as const })),
        ].map((cue) => ({ ...cue, videoId: video.id, segmentId: segmentOf(cue.start), source: 'OCR' as const, lang: null }));
        await store.catalog.replaceCues(video.id, ['OCR'], cues);

        output.framesReused = watcher.counts.unchanged;
        output.framesSettling = watcher.counts.settling;
        output.subtitleCues = assembler.cues.length;
        output.onScreenCues = onScreen.length;
        output.band = { ...finalBand, located: locator?.isLocated ?? false };
        log.info(output, 'ocr stage done');
        return output;
      } catch (err) {
        if (!(err instanceof ModelIntegrityError)) throw err;
        // Missing or altered OCR models: the video is still indexed, without OCR text.
        log.warn({ err: err.message }, 'ocr stage skipped');
        return { ...output, skipped: err.message };
      } finally {
        keeper.close();
      }
    },
  };
}

export const ocrStage = createOcrStage();
