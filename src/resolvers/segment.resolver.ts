import { Arg, Authorized, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import type { SegmentRecord } from '../domain.js';
import { NotFoundError } from '../errors.js';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { Segment } from './types/segment.type.js';
import { SubtitleCue } from './types/subtitle-cue.type.js';
import { Video } from './types/video.type.js';

/** Width of `thumbnailUrl` pictures, in pixels. */
export const THUMBNAIL_WIDTH = 320;

@Resolver(() => Segment)
export class SegmentResolver {
  @Authorized(...ACCESS.read)
  @Query(() => Segment, { nullable: true })
  segment(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return ctx.loaders.segment.load(id);
  }

  @FieldResolver(() => Video)
  async video(@Root() segment: SegmentRecord, @Ctx() ctx: RequestContext) {
    const video = await ctx.loaders.video.load(segment.videoId);
    if (!video) throw new NotFoundError('video', segment.videoId);
    return video;
  }

  @FieldResolver(() => [SubtitleCue], { description: 'Subtitle and on-screen text lines that start in this segment' })
  cues(@Root() segment: SegmentRecord, @Ctx() ctx: RequestContext) {
    return ctx.loaders.cuesOfSegment.load(segment.id);
  }

  @FieldResolver(() => String, { description: `Signed, expiring URL of the keyframe as a ${THUMBNAIL_WIDTH}px wide JPEG` })
  thumbnailUrl(@Root() segment: SegmentRecord, @Ctx() ctx: RequestContext): string {
    return ctx.mediaUrls.keyframeUrl(segment.id, THUMBNAIL_WIDTH);
  }

  @FieldResolver(() => String, { description: 'Signed, expiring URL of the keyframe as a full-size JPEG' })
  keyframeUrl(@Root() segment: SegmentRecord, @Ctx() ctx: RequestContext): string {
    return ctx.mediaUrls.keyframeUrl(segment.id, null);
  }
}
