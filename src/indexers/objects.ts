// Stage "objects": CenterNet (80 COCO classes) on each shot's keyframe; every segment of the shot
// gets the shot's objects as OBJECT tags (source MODEL, score and box). One keyframe per shot is
// the cost/recall trade-off: a shot rarely changes what is in it. The detector runs on ONNX
// Runtime's own thread (models/objects/centernet-onnx.ts), a few keyframes per call.
import os from 'node:os';
import type { IndexingConfig } from '../config.js';
import type { SegmentRecord, ShotRecord, VideoRecord } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { RawFrame } from '../media/frames.js';
import { loadObjectDetector, type DetectedObject, type ObjectDetector } from '../models/objects/index.js';
import type { SegmentTagRecord } from '../store/ads.js';
import type { Stage, StageContext } from './stage.js';
import { stageFrameAt } from './stage-media.js';

/** Keyframe width fed to the detector (it works at 512 px internally). */
export const OBJECT_FRAME_WIDTH = 640;

export interface ObjectsStageOutput {
  /** Why nothing was detected (model failed to load), else null. */
  skipped: string | null;
  keyframes: number;
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

/**
 * Keyframes per detector call. The detector takes batches, but on these 2 cores a batch of 4 cost
 * the same CPU per keyframe as single frames (185–216 against 190–254 ms over three alternating
 * pairs of 16 real 640×360 keyframes, one intra-op thread) while holding the event loop longer
 * per call (building the batch) and ~4× the activation memory: one at a time.
 */
const KEYFRAMES_PER_RUN = 1;

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

/** Keyframes decoded, then sent to the detector together (undecodable ones are counted and skipped). */
async function decodeKeyframes(ctx: StageContext, deps: ObjectsStageDeps, shots: readonly ShotRecord[], output: ObjectsStageOutput): Promise<{ shot: ShotRecord; frame: RawFrame }[]> {
  const decoded: { shot: ShotRecord; frame: RawFrame }[] = [];
  for (const shot of shots) {
    try {
      decoded.push({ shot, frame: await deps.keyframe(ctx, shot.keyframeTime) });
    } catch (err) {
      output.failedKeyframes += 1;
      ctx.log.debug({ shot: shot.index, err: errorMessage(err) }, 'keyframe not decoded');
    }
  }
  return decoded;
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
      const output: ObjectsStageOutput = { skipped: null, keyframes: 0, failedKeyframes: 0, objects: 0, labels: {}, msPerKeyframe: null, modelId: null };
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
      let detectMs = 0;
      for (let start = 0; start < shots.length && !ctx.signal.aborted; start += KEYFRAMES_PER_RUN) {
        const batch = await decodeKeyframes(ctx, deps, shots.slice(start, start + KEYFRAMES_PER_RUN), output);
        const started = performance.now();
        const detected = await detector.detect(batch.map(({ frame }) => ({ data: frame.data, width: frame.width, height: frame.height, channels: 3 })));
        detectMs += performance.now() - started;
        batch.forEach(({ shot, frame }, i) => {
          const objects = detected[i]!;
          output.keyframes += 1;
          tags.push(...objectTags(shot, segments, objects, video.width ? video.width / frame.width : 1));
          for (const o of new Set(objects.map((x) => x.label))) output.labels[o] = (output.labels[o] ?? 0) + 1;
          output.objects += objects.length;
        });
        ctx.reportProgress(Math.min(1, (start + KEYFRAMES_PER_RUN) / shots.length));
      }
      await store.tags.replaceVideoTags(video.id, ['OBJECT'], tags);
      output.msPerKeyframe = output.keyframes ? Math.round(detectMs / output.keyframes) : null;
      log.info({ keyframes: output.keyframes, objects: output.objects }, 'objects tagged');
      return output;
    },
  };
}

export const objectsStage = createObjectsStage();
