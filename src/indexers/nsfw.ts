// Stage "nsfw": visual moderation on keyframes. Frames are the video's I-frames (a keyframes-only
// decode skips every predicted frame: the seed article's 10× faster decode) at 256 px, plus the
// shot keyframe for shots that hold no I-frame. Each frame is classified by nsfwjs; a segment is
// flagged PORN/HENTAI/SEXY when a frame inside it passes the label's threshold, with the score and
// the evidence frames. Keyword flags stay in the moderation service; visual-moderation merges both.
import type { SegmentRecord, ShotRecord } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { RawFrame } from '../media/frames.js';
import { loadNsfwClassifier, type NsfwClassifier, type NsfwScores } from '../models/nsfw/index.js';
import type { VisualFlagRecord, VisualModerationLabel } from '../store/technical.js';
import type { Stage, StageContext } from './stage.js';
import { stageFrameAt, stageFrames } from './stage-media.js';

export const NSFW_FRAME_WIDTH = 256;
const NSFW_KEYFRAMES = { keyframesOnly: true, width: NSFW_FRAME_WIDTH, pixFmt: 'rgb24' } as const;
/** Probability a frame needs for each label; SEXY is broad (swimwear, kisses), so it needs more. */
export const NSFW_THRESHOLDS: Record<VisualModerationLabel, number> = { PORN: 0.6, HENTAI: 0.6, SEXY: 0.8 };
const LABEL_CLASS: Record<VisualModerationLabel, keyof NsfwScores> = { PORN: 'Porn', HENTAI: 'Hentai', SEXY: 'Sexy' };
const MAX_EVIDENCE = 3;

export interface NsfwStageOutput {
  skipped: string | null;
  frames: number;
  flags: number;
  msPerFrame: number | null;
  modelId: string | null;
}

export interface ScoredFrame {
  time: number;
  scores: NsfwScores;
}

export interface NsfwStageDeps {
  classifier(): Promise<NsfwClassifier>;
  keyframes(ctx: StageContext): AsyncIterable<RawFrame>;
  frameAt(ctx: StageContext, time: number): Promise<RawFrame>;
}

const defaultDeps: NsfwStageDeps = {
  classifier: () => loadNsfwClassifier(),
  keyframes: (ctx) => stageFrames(ctx, NSFW_KEYFRAMES),
  frameAt: (ctx, time) => stageFrameAt(ctx, time, NSFW_FRAME_WIDTH),
};

/** Flags per segment from the scored frames (a frame belongs to the segment containing its time). */
export function visualFlags(videoId: string, segments: readonly SegmentRecord[], frames: readonly ScoredFrame[], modelId: string): VisualFlagRecord[] {
  const flags: VisualFlagRecord[] = [];
  for (const segment of segments) {
    const inside = frames.filter((f) => f.time >= segment.start && f.time < segment.end);
    for (const label of Object.keys(NSFW_THRESHOLDS) as VisualModerationLabel[]) {
      const cls = LABEL_CLASS[label];
      const passing = inside.filter((f) => f.scores[cls] >= NSFW_THRESHOLDS[label]).sort((a, b) => b.scores[cls] - a.scores[cls]);
      if (passing.length === 0) continue;
      flags.push({
        id: `${segment.id}:nsfw:${label}`,
        videoId,
        segmentId: segment.id,
        label,
        start: segment.start,
        end: segment.end,
        score: Math.round(passing[0]!.scores[cls] * 1000) / 1000,
        evidenceTimes: passing.slice(0, MAX_EVIDENCE).map((f) => f.time),
        modelId,
      });
    }
  }
  return flags;
}

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
        return { skipped: `nsfw classifier unavailable: ${errorMessage(err)}`, frames: 0, flags: 0, msPerFrame: null, modelId: null };
      }
      const [shots, segments] = await Promise.all([store.catalog.getShots(video.id), store.catalog.getSegmentsOfVideo(video.id)]);
      const scored: ScoredFrame[] = [];
      let classifyMs = 0;
      const score = async (frame: RawFrame): Promise<void> => {
        const started = performance.now();
        const [scores] = await classifier.classify([{ data: frame.data, width: frame.width, height: frame.height, channels: 3 }]);
        classifyMs += performance.now() - started;
        scored.push({ time: frame.time, scores: scores! });
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
      const flags = visualFlags(video.id, segments, scored, classifier.modelId);
      await store.technical.replaceVisualFlags(video.id, flags);
      log.info({ frames: scored.length, flags: flags.length }, 'visual moderation');
      return { skipped: null, frames: scored.length, flags: flags.length, msPerFrame: scored.length ? Math.round(classifyMs / scored.length) : null, modelId: classifier.modelId };
    },
  };
}

export const nsfwStage = createNsfwStage();
