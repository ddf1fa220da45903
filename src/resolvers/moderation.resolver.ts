import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { NotFoundError } from '../errors.js';
import type { FlagRecord } from '../store/moderation.js';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { THUMBNAIL_WIDTH } from './segment.resolver.js';
import { FlaggedSegment, FlaggedSegmentConnection } from './types/FlaggedSegment.type.js';
import { KeywordList } from './types/KeywordList.type.js';
import { Segment } from './types/segment.type.js';
import { Video } from './types/video.type.js';

@Resolver(() => FlaggedSegment)
export class ModerationResolver {
  @Authorized(...ACCESS.editor)
  @Query(() => [KeywordList], { description: 'Every keyword list, by name' })
  keywordLists(@Ctx() ctx: RequestContext) {
    return ctx.services.moderation.keywordLists();
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => KeywordList, { description: 'Adds keywords to a list (created when new); the library is re-checked from stored text' })
  addKeywords(@Ctx() ctx: RequestContext, @Arg('list') list: string, @Arg('keywords', () => [String]) keywords: string[]) {
    return ctx.services.moderation.addKeywords(list, keywords);
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => KeywordList, { nullable: true, description: 'Removes keywords from a list; null when the list is left empty (and deleted)' })
  removeKeywords(@Ctx() ctx: RequestContext, @Arg('list') list: string, @Arg('keywords', () => [String]) keywords: string[]) {
    return ctx.services.moderation.removeKeywords(list, keywords);
  }

  @Authorized(...ACCESS.editor)
  @Query(() => FlaggedSegmentConnection, { description: 'Lines of the indexed library that contain a listed keyword, by video then time' })
  flaggedSegments(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, default 20, at most 100' }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return ctx.services.moderation.flaggedSegments(first, after);
  }

  @FieldResolver(() => Segment, { nullable: true, description: 'The segment the line starts in' })
  segment(@Root() flag: FlagRecord, @Ctx() ctx: RequestContext) {
    return flag.segmentId ? ctx.loaders.segment.load(flag.segmentId) : null;
  }

  @FieldResolver(() => Video)
  async video(@Root() flag: FlagRecord, @Ctx() ctx: RequestContext) {
    const video = await ctx.loaders.video.load(flag.videoId);
    if (!video) throw new NotFoundError('video', flag.videoId);
    return video;
  }

  @FieldResolver(() => String, { nullable: true, description: `Signed, expiring URL of the segment's keyframe (${THUMBNAIL_WIDTH}px JPEG) as evidence` })
  evidenceThumbnailUrl(@Root() flag: FlagRecord, @Ctx() ctx: RequestContext): string | null {
    return flag.segmentId ? ctx.mediaUrls.keyframeUrl(flag.segmentId, THUMBNAIL_WIDTH) : null;
  }
}
