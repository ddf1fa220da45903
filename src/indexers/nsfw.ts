// Stage "nsfw": visual moderation on keyframes. Frames are the video's I-frames (a keyframes-only
// decode skips every predicted frame: the seed article's 10× faster decode) at 256 px, plus the
// shot keyframe for shots that hold no I-frame. Each frame is classified by nsfwjs; frames whose
// Porn/Sexy probability could matter get their faces detected and their skin share outside faces
// measured (nsfw-risk.ts says why), and every segment gets a graded risk per label (stored when
// above the noise floor, flagged above the line). Keyword flags stay in the moderation service;
// visual-moderation merges both.
import type { ShotRecord } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { RawFrame } from '../media/frames.js';
import { loadFaceModels } from '../models/faces/index.js';
import { loadNsfwClassifier, type NsfwClassifier } from '../models/nsfw/index.js';
import { skinOutsideFaces } from '../models/nsfw/skin.js';
import type { Box, RawImage } from '../models/types.js';
import { needsSkinShare, visualRisks, type ScoredFrame } from './nsfw-risk.js';
import type { Stage, StageContext } from './stage.js';
import { stageFrameAt, stageFrames } from './stage-media.js';

export const NSFW_FRAME_WIDTH = 256;
const NSFW_KEYFRAMES = { keyframesOnly: true, width: NSFW_FRAME_WIDTH, pixFmt: 'rgb24' } as const;

export interface NsfwStageOutput {
  skipped: string | null;
  frames: number;
  /** Frames whose skin share outside faces was measured (the face detector ran on them). */
  skinChecked: number;
  /** Segment records stored (graded risk above the floor) and how many of them are flagged. */
  risks: number;
  flags: number;
  msPerFrame: number | null;
  modelId: string | null;
}

export interface NsfwStageDeps {
  classifier(): Promise<NsfwClassifier>;
  /** Face boxes of a frame; the skin of the head regions around them is not nudity evidence. */
  faceBoxes(ctx: StageContext, image: RawImage): Promise<Box[]>;
  keyframes(ctx: StageContext): AsyncIterable<RawFrame>;
  frameAt(ctx: StageContext, time: number): Promise<RawFrame>;
}

const defaultDeps: NsfwStageDeps = {
  classifier: () => loadNsfwClassifier(),
  faceBoxes: async (ctx, image) => (await (await loadFaceModels({ modelDir: ctx.config.modelDir })).detector.detect(image)).map((f) => f.box),
  keyframes: (ctx) => stageFrames(ctx, NSFW_KEYFRAMES),
  frameAt: (ctx, time) => stageFrameAt(ctx, time, NSFW_FRAME_WIDTH),
};

/** Shots with no frame among `times`: they get their keyframe decoded on its own. */
export function shotsWithoutFrames(shots: readonly ShotRecord[], times: readonly number[]): ShotRecord[] {
  return shots.filter((s) => !times.some((t) => t >= s.start && t < s.end));
}

export function createNsfwStage(overrides: Partial<NsfwStageDeps> = {}): Stage<unknown, NsfwStageOutput> & { name: 'nsfw' } {
  const deps: NsfwStageDeps = { ...defaultDeps, ...overrides };
  return {
    name: 'nsfw',
    weight: 1,
    needs: ['segments'],
    media: () => ({ frames: [NSFW_KEYFRAMES], shotKeyframes: { width: NSFW_FRAME_WIDTH } }),
    async run(ctx) {
      const { store, video, log } = ctx;
      let classifier: NsfwClassifier;
      try {
        classifier = await deps.classifier();
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'nsfw classifier unavailable; visual moderation skipped');
        return { skipped: `nsfw classifier unavailable: ${errorMessage(err)}`, frames: 0, skinChecked: 0, risks: 0, flags: 0, msPerFrame: null, modelId: null };
      }
      const [shots, segments] = await Promise.all([store.catalog.getShots(video.id), store.catalog.getSegmentsOfVideo(video.id)]);
      const scored: ScoredFrame[] = [];
      let classifyMs = 0;
      let skinChecked = 0;
      const score = async (frame: RawFrame): Promise<void> => {
        const image: RawImage = { data: frame.data, width: frame.width, height: frame.height, channels: 3 };
        const started = performance.now();
        const [scores] = await classifier.classify([image]);
        classifyMs += performance.now() - started;
        let skin: number | null = null;
        if (needsSkinShare(scores!)) {
          skinChecked++;
          skin = skinOutsideFaces(image, await facesOrNone(ctx, image));
        }
        scored.push({ time: frame.time, scores: scores!, skinOutsideFaces: skin });
      };
      const facesOrNone = async (context: StageContext, image: RawImage): Promise<Box[]> => {
        try {
          return await deps.faceBoxes(context, image);
        } catch (err) {
          // Without faces every skin pixel counts: the gate then errs towards flagging.
          log.debug({ err: errorMessage(err) }, 'face detector unavailable for the skin gate');
          return [];
        }
      };
      for await (const frame of deps.keyframes(ctx)) {
        await score(frame);
        if (video.durationSec > 0) ctx.reportProgress(0.8 * Math.min(1, frame.time / video.durationSec));
      }
      for (const shot of shotsWithoutFrames(shots, scored.map((f) => f.time))) {
        if (ctx.signal.aborted) break;
        try {
          await score({ ...(await deps.frameAt(ctx, shot.keyframeTime)), time: shot.keyframeTime });
        } catch (err) {
          log.debug({ shot: shot.index, err: errorMessage(err) }, 'keyframe not decoded');
        }
      }
      const risks = visualRisks(video.id, segments, scored, classifier.modelId);
      await store.technical.replaceVisualFlags(video.id, risks);
      const flags = risks.filter((r) => r.flagged).length;
      log.info({ frames: scored.length, skinChecked, risks: risks.length, flags }, 'visual moderation');
      return {
        skipped: null,
        frames: scored.length,
        skinChecked,
        risks: risks.length,
        flags,
        msPerFrame: scored.length ? Math.round(classifyMs / scored.length) : null,
        modelId: classifier.modelId,
      };
    },
  };
}

export const nsfwStage = createNsfwStage();
