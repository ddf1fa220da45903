// Stage "objects": CenterNet (80 COCO classes) on each shot's keyframe; every segment of the shot
// gets the shot's objects as OBJECT tags (source MODEL, score and box). One keyframe per shot is
// the cost/recall trade-off: a shot rarely changes what is in it. The detector runs on ONNX
// Runtime's own thread (models/objects/centernet-onnx.ts), one keyframe per call: the detector takes
// batches, but on these 2 cores a batch of 4 cost the same CPU per keyframe as single frames
// (185–216 against 190–254 ms over three alternating pairs of 16 real 640×360 keyframes, one
// intra-op thread) while holding the event loop longer per call and ~4× the activation memory. A keyframe
// whose picture nearly repeats one already detected (repeated-keyframes.ts) takes its detections.
import os from 'node:os';
import type { IndexingConfig } from '../config.js';
import type { SegmentRecord, ShotRecord, VideoRecord } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { RawFrame } from '../media/frames.js';
import { loadObjectDetector, type DetectedObject, type ObjectDetector } from '../models/objects/index.js';
import type { SegmentTagRecord } from '../store/ads.js';
import { RepeatedKeyframes, wholeFrameSignature } from './repeated-keyframes.js';
import type { Stage, StageContext } from './stage.js';
import { stageFrameAt } from './stage-media.js';

/** Keyframe width fed to the detector (it works at 512 px internally). */
export const OBJECT_FRAME_WIDTH = 640;

export interface ObjectsStageOutput {
  /** Why nothing was detected (model failed to load), else null. */
  skipped: string | null;
  keyframes: number;
  /** Of `keyframes`, those whose picture nearly repeated an earlier detected one (its detections reused). */
  keyframesRepeated: number;
  /** Keyframes that could not be decoded (their shot gets no objects). */
  failedKeyframes: number;
  objects: number;
  labels: Record<string, number>;
  msPerKeyframe: number | null;
  modelId: string | null;
}

export interface ObjectsStageDeps {
  detector(ctx: StageContext): Promise<ObjectDetector>;
  keyframe(ctx: StageContext, time: number): Promise<RawFrame>;
}

/** Detections of earlier keyframes kept to be found again by picture: a 640-px signature is 29 KB. */
const REPEATED_KEYFRAMES_KEPT = 128;

/**
 * ONNX Runtime threads for the detector: the cores divided among the stages that may run beside
 * it (jobs × stages at once), at least one — on 2 cores with the default 2 stages at once, one
 * thread, so inference never competes with its own threads for a core another stage holds.
 */
export function objectDetectorThreads(indexing: Pick<IndexingConfig, 'concurrency' | 'stageConcurrency'>, cores = os.availableParallelism()): number {
  return Math.max(1, Math.floor(cores / (indexing.concurrency * indexing.stageConcurrency)));
}

const defaultDeps: ObjectsStageDeps = {
  detector: (ctx) => loadObjectDetector({ intraOpThreads: objectDetectorThreads(ctx.config.indexing) }),
  keyframe: (ctx, time) => stageFrameAt(ctx, time, objectFrameWidth(ctx.video)),
};

function objectFrameWidth(video: Pick<VideoRecord, 'width'>): number {
  return Math.min(OBJECT_FRAME_WIDTH, video.width || OBJECT_FRAME_WIDTH);
}

/** OBJECT tags for the segments of one shot: the best detection per label, box in video pixels. */
export function objectTags(shot: ShotRecord, segments: readonly SegmentRecord[], objects: readonly DetectedObject[], scale: number): SegmentTagRecord[] {
  const best = new Map<string, DetectedObject>();
  for (const o of objects) if ((best.get(o.label)?.score ?? -1) < o.score) best.set(o.label, o);
  return segments
    .filter((s) => s.shotIndex === shot.index)
    .flatMap((segment) =>
      [...best.values()].map((o) => ({
        videoId: shot.videoId,
        segmentId: segment.id,
        kind: 'OBJECT' as const,
        label: o.label,
        score: Math.round(o.score * 1000) / 1000,
        source: 'MODEL' as const,
        box: { x: o.box.x * scale, y: o.box.y * scale, width: o.box.width * scale, height: o.box.height * scale },
      })),
    );
}

/** A shot's keyframe, or null when it cannot be decoded (counted; the shot gets no objects). */
async function decodeKeyframe(ctx: StageContext, deps: ObjectsStageDeps, shot: ShotRecord, output: ObjectsStageOutput): Promise<RawFrame | null> {
  try {
    return await deps.keyframe(ctx, shot.keyframeTime);
  } catch (err) {
    output.failedKeyframes += 1;
    ctx.log.debug({ shot: shot.index, err: errorMessage(err) }, 'keyframe not decoded');
    return null;
  }
}

export function createObjectsStage(overrides: Partial<ObjectsStageDeps> = {}): Stage<unknown, ObjectsStageOutput> {
  const deps: ObjectsStageDeps = { ...defaultDeps, ...overrides };
  return {
    name: 'objects',
    weight: 3,
    needs: ['segments'],
    media: (video) => ({ shotKeyframes: { width: objectFrameWidth(video) } }),
    async run(ctx) {
      const { store, video, log } = ctx;
      const output: ObjectsStageOutput = { skipped: null, keyframes: 0, keyframesRepeated: 0, failedKeyframes: 0, objects: 0, labels: {}, msPerKeyframe: null, modelId: null };
      let detector: ObjectDetector;
      try {
        detector = await deps.detector(ctx);
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'object detector unavailable; objects stage skipped');
        return { ...output, skipped: `object detector unavailable: ${errorMessage(err)}` };
      }
      output.modelId = detector.modelId;
      const [shots, segments] = await Promise.all([store.catalog.getShots(video.id), store.catalog.getSegmentsOfVideo(video.id)]);
      const tags: SegmentTagRecord[] = [];
      const repeated = new RepeatedKeyframes<DetectedObject[]>(REPEATED_KEYFRAMES_KEPT);
      let detectMs = 0;
      for (const [i, shot] of shots.entries()) {
        if (ctx.signal.aborted) break;
        const frame = await decodeKeyframe(ctx, deps, shot, output);
        if (!frame) continue;
        const signature = wholeFrameSignature(frame);
        let objects = repeated.find(signature);
        if (objects) output.keyframesRepeated += 1;
        else {
          const started = performance.now();
          [objects] = (await detector.detect([{ data: frame.data, width: frame.width, height: frame.height, channels: 3 }])) as [DetectedObject[]];
          detectMs += performance.now() - started;
          repeated.add(signature, objects);
        }
        output.keyframes += 1;
        tags.push(...objectTags(shot, segments, objects, video.width ? video.width / frame.width : 1));
        for (const o of new Set(objects.map((x) => x.label))) output.labels[o] = (output.labels[o] ?? 0) + 1;
        output.objects += objects.length;
        ctx.reportProgress((i + 1) / shots.length);
      }
      await store.tags.replaceVideoTags(video.id, ['OBJECT'], tags);
      const detectedKeyframes = output.keyframes - output.keyframesRepeated;
      output.msPerKeyframe = detectedKeyframes ? Math.round(detectMs / detectedKeyframes) : null;
      log.info({ keyframes: output.keyframes, repeated: output.keyframesRepeated, objects: output.objects }, 'objects tagged');
      return output;
    },
  };
}

export const objectsStage = createObjectsStage();
