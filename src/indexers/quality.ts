// Stage "quality": visual quality per shot, measured on grey I-frames (a keyframes-only decode is
// cheap: no predicted frame is reconstructed) at the video's own size up to 1920 px, so the 8×8
// coding-block grid stays where the encoder put it; a shot holding no I-frame is measured on its
// keyframe, which the job's decode kept as a JPEG: its blockiness is taken on that frame's luma
// as decoded, during the decode. The JPEG's own 8-px grid reads as coding blocks (bench footage:
// 356 of 361 candidates flagged from the JPEGs, 0 from the luma), and a JPEG whose grid lies
// 4 px off the video's is no way out either: its in-block coding softens the video's block edges
// (a q31 re-encode: median 0.15 lower, 5–7 of 118 blocky frames missed).
// Per frame, inside the active picture (flat black borders trimmed):
//   (active picture = inside near-black flat bands)
//   sharpness      1 − exp(−var(Laplacian) / max(var(luma), 400) / 0.02): ~0 blurred, → 1 crisp
//   faceSharpness  the same inside the face boxes the faces stage found near the frame's time
//                  (a sharp background behind a blurred face is a focus error, not a clean frame)
//   blockiness     how much more often luma steps peak on the 8-px block grid than off it
//   brightness / contrast  luma mean / standard deviation
// A shot keeps its best frame (clean first, then sharpest); issues: blur < 0.3, face-blur < 0.3,
// blocky > 0.4, dark < 40, bright > 220, flat contrast < 20. Posters come only from clean frames.
import type { ShotRecord, VideoRecord } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { RawFrame } from '../media/frames.js';
import type { ShotKeyframe } from '../media/source.js';
import type { Box, RawImage } from '../models/types.js';
import type { FaceRecord } from '../store/appearances.js';
import type { ShotQualityRecord } from '../store/technical.js';
import { laplacianVariance } from './face-tracking.js';
import { borderDepth } from './fingerprints/picture-signals.js';
import type { Stage, StageContext } from './stage.js';
import { stageFrameAt, stageFrames } from './stage-media.js';

export const QUALITY_MAX_WIDTH = 1920;
const SHARPNESS_SCALE = 0.02;
const CONTRAST_FLOOR_SQ = 400;
const BLUR_BELOW = 0.3;
const BLOCKY_ABOVE = 0.4;
const DARK_BELOW = 40;
const BRIGHT_ABOVE = 220;
const FLAT_BELOW = 20;
/** A face observation counts for a frame this close in time. */
const FACE_NEAR_SEC = 1;

export interface FrameQuality {
  time: number;
  sharpness: number;
  faceSharpness: number | null;
  blockiness: number;
  brightness: number;
  contrast: number;
  issues: string[];
}

function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * 0..1 from the Laplacian variance relative to the picture's own variance (floored), so a dark or
 * low-contrast picture is not called blurred merely for having small steps.
 */
export function sharpnessOf(laplacianVar: number, contrast: number): number {
  return 1 - Math.exp(-laplacianVar / Math.max(contrast * contrast, CONTRAST_FLOOR_SQ) / SHARPNESS_SCALE);
}

/** Face boxes include some background: measure their inner part only. */
function innerBox(box: Box, inset = 0.15): Box {
  return { x: box.x + box.width * inset, y: box.y + box.height * inset, width: box.width * (1 - 2 * inset), height: box.height * (1 - 2 * inset) };
}

/**
 * Block-grid strength from the share of block-boundary positions where the luma step is a local
 * peak (larger than both neighbouring steps) against the same share off the boundary:
 * (on − off) / (on + off), 0 when equal, → 1 when steps peak only on the grid. Content edges peak as often on the grid as off it; coding blocks and mosaic
 * peak only on it. `period` is the block size in decoded pixels (8 at the coded size).
 */
export function blockinessOf(image: RawImage, area: Box, period = 8): number {
  const { width, data } = image;
  const x0 = Math.round(area.x) + 2;
  const y0 = Math.round(area.y) + 2;
  const x1 = Math.round(area.x + area.width) - 2;
  const y1 = Math.round(area.y + area.height) - 2;
  const p = Math.max(2, Math.round(period));
  // Each step is read once and slides along as `before`, `step`, `after` (the stage's largest
  // main-thread cost at 720p: it runs in the tail of the job, after the decode).
  let onPeaks = 0, onCount = 0, offPeaks = 0, offCount = 0;
  for (let y = y0; y < y1; y += 2) {
    const row = y * width;
    let before = Math.abs(data[row + x0 - 1]! - data[row + x0 - 2]!);
    let step = Math.abs(data[row + x0]! - data[row + x0 - 1]!);
    for (let x = x0; x < x1; x++) {
      const after = Math.abs(data[row + x + 1]! - data[row + x]!);
      const peak = step > Math.max(before, after) + 1 ? 1 : 0;
      if (x % p === 0) (onPeaks += peak, onCount++);
      else (offPeaks += peak, offCount++);
      before = step;
      step = after;
    }
  }
  for (let y = y0; y < y1; y++) {
    const onGrid = y % p === 0;
    const [above2, above, here, below] = [(y - 2) * width, (y - 1) * width, y * width, (y + 1) * width];
    let peaks = 0, count = 0;
    for (let x = x0; x < x1; x += 2) {
      const before = Math.abs(data[above + x]! - data[above2 + x]!);
      const step = Math.abs(data[here + x]! - data[above + x]!);
      const after = Math.abs(data[below + x]! - data[here + x]!);
      if (step > Math.max(before, after) + 1) peaks++;
      count++;
    }
    if (onGrid) (onPeaks += peaks, onCount += count);
    else (offPeaks += peaks, offCount += count);
  }
  if (!onCount || !offCount) return 0;
  const on = onPeaks / onCount;
  const off = offPeaks / offCount;
  // Relative, so flat mosaic tiles (few steps at all) still read as blocky; +0.05 keeps nearly flat frames (few steps, mostly noise) low.
  return Math.max(0, on - off) / (on + off + 0.05);
}

/** The picture inside near-black letterbox/pillarbox bands (only dark flat bands: a flat sky stays). */
export function activeArea(image: RawImage): Box {
  const { data, width, height } = image;
  const top = Math.round(borderDepth(data, width, height, 'top') * height);
  const bottom = Math.round(borderDepth(data, width, height, 'bottom') * height);
  const left = Math.round(borderDepth(data, width, height, 'left') * width);
  const right = Math.round(borderDepth(data, width, height, 'right') * width);
  return { x: left, y: top, width: Math.max(1, width - left - right), height: Math.max(1, height - top - bottom) };
}

/**
 * Quality of one grey frame; `faces` are boxes in the frame's pixels. `decodedBlockiness`: the
 * blockiness measured on the frame's luma as decoded, when `image` is a JPEG copy of it.
 */
export function frameQuality(image: RawImage, time: number, faces: readonly Box[], blockPeriod = 8, decodedBlockiness?: number): FrameQuality {
  const area = activeArea(image);
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = Math.round(area.y); y < Math.round(area.y + area.height); y++) {
    for (let x = Math.round(area.x); x < Math.round(area.x + area.width); x++) {
      const v = image.data[y * image.width + x]!;
      sum += v;
      sumSq += v * v;
      n++;
    }
  }
  const brightness = n ? sum / n : 0;
  const contrast = n ? Math.sqrt(Math.max(0, sumSq / n - brightness * brightness)) : 0;
  const sharpness = sharpnessOf(laplacianVariance(image, area), contrast);
  const faceScores = faces.filter((b) => b.width >= 16 && b.height >= 16).map((b) => sharpnessOf(laplacianVariance(image, innerBox(b)), contrast));
  const faceSharpness = faceScores.length ? Math.min(...faceScores) : null;
  const blockiness = decodedBlockiness ?? blockinessOf(image, area, blockPeriod);
  const issues: string[] = [];
  if (sharpness < BLUR_BELOW) issues.push('blur');
  if (faceSharpness !== null && faceSharpness < BLUR_BELOW) issues.push('face-blur');
  if (blockiness > BLOCKY_ABOVE) issues.push('blocky');
  if (brightness < DARK_BELOW) issues.push('dark');
  if (brightness > BRIGHT_ABOVE) issues.push('bright');
  if (contrast < FLAT_BELOW) issues.push('flat');
  return {
    time: round(time),
    sharpness: round(sharpness),
    faceSharpness: faceSharpness === null ? null : round(faceSharpness),
    blockiness: round(blockiness),
    brightness: round(brightness, 1),
    contrast: round(contrast, 1),
    issues,
  };
}

/** Better frame first: clean before unclean, then sharper. */
function better(a: FrameQuality, b: FrameQuality): FrameQuality {
  if (a.issues.length !== b.issues.length) return a.issues.length < b.issues.length ? a : b;
  return a.sharpness >= b.sharpness ? a : b;
}

/** Per shot, the best measured frame inside it. */
export function shotQuality(videoId: string, shots: readonly ShotRecord[], frames: readonly FrameQuality[]): ShotQualityRecord[] {
  return shots.flatMap((shot) => {
    const inside = frames.filter((f) => f.time >= shot.start && f.time < shot.end);
    if (inside.length === 0) return [];
    const best = inside.reduce(better);
    return [{ videoId, shotIndex: shot.index, start: shot.start, end: shot.end, ...best, clean: best.issues.length === 0 }];
  });
}

/** The poster: the clean shot frame with the most detail, else null (never an unclean frame). */
export function choosePoster(rows: readonly ShotQualityRecord[]): ShotQualityRecord | null {
  const clean = rows.filter((r) => r.clean);
  if (clean.length === 0) return null;
  return clean.reduce((a, b) => (b.sharpness * Math.min(1, b.contrast / 50) > a.sharpness * Math.min(1, a.contrast / 50) ? b : a));
}

export interface QualityStageOutput {
  frames: number;
  shots: number;
  cleanShots: number;
  posterTime: number | null;
}

export interface QualityStageDeps {
  keyframes(ctx: StageContext, width: number): AsyncIterable<RawFrame>;
  frameAt(ctx: StageContext, time: number, width: number): Promise<ShotKeyframe>;
}

const defaultDeps: QualityStageDeps = {
  keyframes: (ctx, width) => stageFrames(ctx, { keyframesOnly: true, width, pixFmt: 'gray' }),
  frameAt: (ctx, time, width) => stageFrameAt(ctx, time, width),
};

function qualityWidth(video: Pick<VideoRecord, 'width'>): number {
  return Math.min(QUALITY_MAX_WIDTH, video.width || QUALITY_MAX_WIDTH);
}

/** The frames' size over the video's (1 up to 1920 px wide). */
function qualityScale(video: Pick<VideoRecord, 'width'>): number {
  return video.width ? qualityWidth(video) / video.width : 1;
}

/** The coding-block grid's period in the frames quality reads: 8 px at the coded size. */
function blockPeriodOf(video: Pick<VideoRecord, 'width'>): number {
  return 8 * qualityScale(video);
}

/** Blockiness of a frame as decoded (a grey one, or its luma): what quality declares to be measured on its kept keyframe candidates. */
export function lumaBlockiness(frame: RawFrame, blockPeriod: number): number {
  const image = toGrey(frame);
  return blockinessOf(image, activeArea(image), blockPeriod);
}

function toGrey(frame: RawFrame): RawImage {
  const pixels = frame.width * frame.height;
  if (frame.data.length === pixels) return { data: frame.data, width: frame.width, height: frame.height, channels: 1 };
  const grey = new Uint8Array(pixels);
  for (let i = 0, p = 0; i < pixels; i++, p += 3) grey[i] = (frame.data[p]! * 299 + frame.data[p + 1]! * 587 + frame.data[p + 2]! * 114) / 1000;
  return { data: grey, width: frame.width, height: frame.height, channels: 1 };
}

export function createQualityStage(overrides: Partial<QualityStageDeps> = {}): Stage<unknown, QualityStageOutput> & { name: 'quality' } {
  const deps: QualityStageDeps = { ...defaultDeps, ...overrides };
  return {
    name: 'quality',
    weight: 1,
    needs: ['segments'],
    // Uses the faces' boxes when the faces stage runs, but works without them.
    after: ['faces'],
    // Reads luma only (toGrey): its shot keyframes may come without colour. Their blockiness is
    // measured on the luma as decoded, before the kept candidates' JPEG coding.
    media: (video) => {
      const width = qualityWidth(video);
      const blockPeriod = blockPeriodOf(video);
      const lumaMeasure = (luma: RawFrame): number => lumaBlockiness(luma, blockPeriod);
      return { frames: [{ keyframesOnly: true, width, pixFmt: 'gray' }], shotKeyframes: { width, grey: true, lumaMeasure } };
    },
    async run(ctx) {
      const { store, video, log } = ctx;
      const width = qualityWidth(video);
      const scale = qualityScale(video);
      const shots = await store.catalog.getShots(video.id);
      const tracks = await store.appearances.getTracksOfVideo(video.id);
      const faces: FaceRecord[] = tracks.length ? await store.appearances.getFacesOfTracks(tracks.map((t) => t.id)) : [];
      const facesNear = (time: number): Box[] =>
        faces
          .filter((f) => Math.abs(f.time - time) <= FACE_NEAR_SEC)
          .map((f) => ({ x: f.box.x * scale, y: f.box.y * scale, width: f.box.width * scale, height: f.box.height * scale }));
      const measured: FrameQuality[] = [];
      const measure = (frame: ShotKeyframe, time: number): void => {
        measured.push(frameQuality(toGrey(frame), time, facesNear(time), blockPeriodOf(video), frame.lumaMeasure));
      };
      for await (const frame of deps.keyframes(ctx, width)) {
        measure(frame, frame.time);
        if (video.durationSec > 0) ctx.reportProgress(0.8 * Math.min(1, frame.time / video.durationSec));
      }
      for (const shot of shots.filter((s) => !measured.some((f) => f.time >= s.start && f.time < s.end))) {
        if (ctx.signal.aborted) break;
        try {
          measure(await deps.frameAt(ctx, shot.keyframeTime, width), shot.keyframeTime);
        } catch (err) {
          log.debug({ shot: shot.index, err: errorMessage(err) }, 'keyframe not decoded');
        }
      }
      const rows = shotQuality(video.id, shots, measured);
      await store.technical.replaceShotQuality(video.id, rows);
      const poster = choosePoster(rows);
      const output = { frames: measured.length, shots: rows.length, cleanShots: rows.filter((r) => r.clean).length, posterTime: poster?.time ?? null };
      log.info(output, 'visual quality');
      return output;
    },
  };
}

export const qualityStage = createQualityStage();
