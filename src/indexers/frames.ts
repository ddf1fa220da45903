// Stage `frames`: the image-search index. Samples the video at VIDSEARCH_FRAME_FPS at low
// resolution (one decode), drops frames nearly identical to the last kept one (a static shot
// becomes one entry spanning its time), and stores two descriptors per kept frame: the CNN
// descriptor of the frame's content region (black bars trimmed) and the MPEG-7 ColorLayout
// baseline of the full frame, keyed by (video, time) with deterministic ids. A compact projection
// of the CNN descriptor goes to its own collection: the first stage of a search scans only that.
// Re-indexing first drops the video's earlier frame points (another sampling leaves other ids).
// Every sampled frame, repeats included, is also kept as verification evidence (frameEvidence):
// a small JPEG, its ORB features and a 160-px grey thumbnail, so a search checks its candidates
// and localises the moment without running ffmpeg or decoding JPEGs (a talking head's repeats
// differ by a mouth, which is what tells the moment).
import sharp from 'sharp';
import type { VideoRecord } from '../domain.js';
import type { Config } from '../config.js';
import { streamFrames } from '../media/frames.js';
import type { FrameRequest } from '../media/source.js';
import { COLOR_LAYOUT_DIM, COLOR_LAYOUT_MODEL_ID, colorLayout, colorLayoutVector } from '../models/image-descriptors/color-layout.js';
import { trimFlatBorders } from '../models/image-descriptors/content-rect.js';
import { OrbMatcher, packFeatures } from '../models/image-descriptors/local-features.js';
import { MobileNetDescriptor, type ImageDescriptor } from '../models/image-descriptors/mobilenet.js';
import { compactProjectionFor } from '../models/image-descriptors/projection.js';
import { greyThumbnail } from '../models/image-descriptors/grey-thumbnail.js';
import type { RawImage } from '../models/types.js';
import type { FrameEvidence, VectorPoint } from '../store/interfaces.js';
import type { Stage, StageContext } from './stage.js';
import { stageFrames } from './stage-media.js';

export const FRAME_COLLECTION = 'frames';
export const FRAME_COLORLAYOUT_COLLECTION = 'frames-colorlayout';
/** Compact (projected) CNN descriptors: what the first stage of an image search scans. */
export const FRAME_COMPACT_COLLECTION = 'frames-compact';
/** Frames are decoded this wide: enough for the 224-px CNN input and the 8×8 ColorLayout grid. */
export const FRAME_DECODE_WIDTH = 320;
/** Mean absolute grey difference (0–255) on a 16×9 thumbnail below which a frame repeats the last one. */
const NEAR_DUPLICATE_MAD = 1.5;
const DESCRIBE_BATCH = 8;
/**
 * JPEG quality of the stored evidence pictures: ~9 KB at 320 px, and their aligned correlation
 * with a screenshot still tells neighbouring frames apart.
 */
const EVIDENCE_JPEG_QUALITY = 75;
const EVIDENCE_BATCH = 32;

/** Names the stored evidence format: another picture size or feature extractor is not read back. */
export function frameEvidenceModel(matcher: Pick<OrbMatcher, 'modelId'>): string {
  return `${matcher.modelId}-jpeg${FRAME_DECODE_WIDTH}`;
}

export interface FramesStageOutput {
  sampled: number;
  kept: number;
  descriptorModelId: string;
}

/** Payload of one indexed frame: the kept frame's time and the span of frames it stands for. */
export interface FramePayload {
  videoId: string;
  time: number;
  from: number;
  to: number;
}

export function frameId(videoId: string, time: number): string {
  return `${videoId}:${Math.round(time * 1000)}`;
}

const THUMB_W = 16;
const THUMB_H = 9;

/** Grey block averages, for the near-duplicate test (cheap; the decoded frame is already small). */
export function thumbnail(image: RawImage): Float32Array {
  const out = new Float32Array(THUMB_W * THUMB_H);
  const counts = new Float32Array(THUMB_W * THUMB_H);
  const { width, height, channels, data } = image;
  for (let y = 0; y < height; y++) {
    const row = Math.min(THUMB_H - 1, Math.floor((y * THUMB_H) / height)) * THUMB_W;
    for (let x = 0; x < width; x++) {
      const k = row + Math.min(THUMB_W - 1, Math.floor((x * THUMB_W) / width));
      const o = (y * width + x) * channels;
      out[k]! += channels === 3 ? 0.299 * data[o]! + 0.587 * data[o + 1]! + 0.114 * data[o + 2]! : data[o]!;
      counts[k]! += 1;
    }
  }
  for (let i = 0; i < out.length; i++) out[i]! /= Math.max(1, counts[i]!);
  return out;
}

export function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

function frameRequest(config: Config): FrameRequest {
  return { fps: config.indexing.frameFps, width: FRAME_DECODE_WIDTH, pixFmt: 'rgb24' };
}

interface KeptFrame {
  image: RawImage;
  thumb: Float32Array;
  time: number;
  to: number;
}

export interface FramesStageDeps {
  descriptor?: ImageDescriptor;
  matcher?: OrbMatcher;
  /** Replaces the job's frames (tests); default: the shared source. */
  frames?: typeof streamFrames;
}

export function createFramesStage(deps: FramesStageDeps = {}): Stage<unknown, FramesStageOutput> {
  const descriptor = deps.descriptor ?? new MobileNetDescriptor();
  const matcher = deps.matcher ?? new OrbMatcher();
  const evidenceModel = frameEvidenceModel(matcher);
  const compact = compactProjectionFor(descriptor);

  async function evidenceOf(image: RawImage, time: number, repeat: boolean): Promise<FrameEvidence> {
    const picture = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
      .jpeg({ quality: EVIDENCE_JPEG_QUALITY })
      .toBuffer();
    return { time, picture, features: packFeatures(await matcher.extract(image)), repeat, thumbnail: await greyThumbnail(image) };
  }

  async function store(ctx: StageContext, video: VideoRecord, batch: KeptFrame[]): Promise<void> {
    if (batch.length === 0) return;
    const vectors = await descriptor.describe(batch.map((f) => ({ image: f.image, region: trimFlatBorders(f.image) })));
    const payload = (f: KeptFrame): FramePayload => ({ videoId: video.id, time: f.time, from: f.time, to: f.to });
    const cnnPoints: VectorPoint[] = batch.map((f, i) => ({ id: frameId(video.id, f.time), vector: vectors[i]!, payload: { ...payload(f) } }));
    const compactPoints: VectorPoint[] = batch.map((f, i) => ({ id: frameId(video.id, f.time), vector: compact.project(vectors[i]!), payload: { ...payload(f) } }));
    const layoutPoints: VectorPoint[] = batch.map((f) => ({
      id: frameId(video.id, f.time),
      vector: colorLayoutVector(colorLayout(f.image)),
      payload: { ...payload(f) },
    }));
    await ctx.store.vectors.upsert(FRAME_COLLECTION, cnnPoints);
    await ctx.store.vectors.upsert(FRAME_COMPACT_COLLECTION, compactPoints);
    await ctx.store.vectors.upsert(FRAME_COLORLAYOUT_COLLECTION, layoutPoints);
  }

  return {
    name: 'frames',
    weight: 3,
    // The probe stage fills in the duration used for progress.
    needs: ['probe'],
    media: (_video, config) => ({ frames: [frameRequest(config)] }),
    async run(ctx) {
      const { video, config } = ctx;
      await ctx.store.vectors.ensureCollection({ name: FRAME_COLLECTION, dim: descriptor.dim, metric: 'cosine', modelId: descriptor.modelId });
      await ctx.store.vectors.ensureCollection({
        name: FRAME_COLORLAYOUT_COLLECTION,
        dim: COLOR_LAYOUT_DIM,
        metric: 'l2',
        modelId: COLOR_LAYOUT_MODEL_ID,
      });
      await ctx.store.vectors.ensureCollection({ name: FRAME_COMPACT_COLLECTION, dim: compact.dim, metric: 'cosine', modelId: compact.modelId });
      await ctx.store.vectors.deleteByVideo(video.id, [FRAME_COLLECTION, FRAME_COMPACT_COLLECTION, FRAME_COLORLAYOUT_COLLECTION]);
      await ctx.store.frameEvidence.deleteVideo(video.id);
      let evidence: FrameEvidence[] = [];
      let sampled = 0;
      let kept = 0;
      let last: KeptFrame | null = null;
      // A kept frame is stored once the next distinct frame shows where its span ends.
      let pending: KeptFrame[] = [];
      const request = frameRequest(config);
      const stream = deps.frames ? deps.frames(ctx.media, video.path, { ...request, signal: ctx.signal }) : stageFrames(ctx, request);
      for await (const frame of stream) {
        sampled++;
        const image: RawImage = { data: frame.data, width: frame.width, height: frame.height, channels: 3 };
        const thumb = thumbnail(image);
        const repeat = last !== null && meanAbsDiff(thumb, last.thumb) < NEAR_DUPLICATE_MAD;
        evidence.push(await evidenceOf(image, frame.time, repeat));
        if (evidence.length >= EVIDENCE_BATCH) {
          await ctx.store.frameEvidence.add(video.id, evidenceModel, evidence);
          evidence = [];
        }
        if (repeat) {
          last!.to = frame.time;
          continue;
        }
        last = { image, thumb, time: frame.time, to: frame.time };
        pending.push(last);
        kept++;
        if (pending.length > DESCRIBE_BATCH) {
          // Keep the newest frame back: its span may still grow.
          await store(ctx, video, pending.slice(0, -1));
          pending = pending.slice(-1);
        }
        if (video.durationSec > 0) ctx.reportProgress(Math.min(1, frame.time / video.durationSec));
      }
      await store(ctx, video, pending);
      await ctx.store.frameEvidence.add(video.id, evidenceModel, evidence);
      ctx.log.debug({ videoId: video.id, sampled, kept }, 'frame descriptors stored');
      return { sampled, kept, descriptorModelId: descriptor.modelId };
    },
  };
}

export const framesStage = createFramesStage();
