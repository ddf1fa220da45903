// Technical cues (read role), per-shot quality and poster time on Video, and the merged keyword +
// visual moderation view (ads and editor roles: brand safety and review).
import { Arg, Authorized, Ctx, FieldResolver, Float, ID, Query, Resolver, Root } from 'type-graphql';
import type { VideoRecord } from '../domain.js';
import type { VideoModeration } from '../services/visual-moderation.js';
import type { TechnicalCueType } from '../store/technical.js';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { ModerationView } from './types/Moderation.type.js';
import { TechnicalCue, TechnicalCueShotQuality, TechnicalCueTypeEnum } from './types/TechnicalCue.type.js';
import { Video } from './types/video.type.js';

function moderationView(view: VideoModeration) {
  return {
    videoId: view.videoId,
    flagged: view.flagged,
    maxVisualScores: Object.entries(view.maxVisualScore).map(([label, score]) => ({ label, score })),
    segments: view.segments,
  };
}

@Resolver(() => Video)
export class TechnicalResolver {
  @Authorized(...ACCESS.read)
  @Query(() => [TechnicalCue], { description: 'Technical cues of a video in time order (black frames, colour bars, slates, borders, freezes, silence)' })
  technicalCues(
    @Ctx() ctx: RequestContext,
    @Arg('videoId', () => ID) videoId: string,
    @Arg('types', () => [TechnicalCueTypeEnum], { nullable: true }) types?: TechnicalCueType[] | null,
  ) {
    return ctx.services.technicalCues.technicalCues(videoId, types);
  }

  @Authorized(...ACCESS.ads)
  @Query(() => ModerationView, { description: 'Keyword flags (subtitles/OCR) and visual NSFW flags of a video, merged per segment' })
  async moderation(@Ctx() ctx: RequestContext, @Arg('videoId', () => ID) videoId: string) {
    return moderationView(await ctx.services.visualModeration.moderation(videoId));
  }

  @FieldResolver(() => [TechnicalCueShotQuality], { description: 'Visual quality per shot' })
  shotQuality(@Root() video: VideoRecord, @Ctx() ctx: RequestContext) {
    return ctx.services.technicalCues.shotQuality(video.id);
  }

  @FieldResolver(() => Float, { nullable: true, description: 'Time of the clean, detailed shot frame to use as the poster; null when no frame is clean' })
  async posterTime(@Root() video: VideoRecord, @Ctx() ctx: RequestContext) {
    return (await ctx.services.technicalCues.poster(video.id))?.time ?? null;
  }
}
