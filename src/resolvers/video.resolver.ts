import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { CueKind, VideoRecord } from '../domain.js';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { CueKindEnum } from './types/enums.js';
import { SegmentConnection } from './types/segment.type.js';
import { ShotConnection } from './types/shot.type.js';
import { SubtitleCueConnection } from './types/subtitle-cue.type.js';
import { UpdateVideoInput } from './types/update-video.input.js';
import { VideoFilter } from './types/video-filter.input.js';
import { Video, VideoConnection } from './types/video.type.js';

@Resolver(() => Video)
export class VideoResolver {
  @Authorized(...ACCESS.read)
  @Query(() => VideoConnection, { description: 'Indexed videos, by id' })
  videos(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, default 20, at most 100' }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('filter', () => VideoFilter, { nullable: true }) filter?: VideoFilter | null,
  ) {
    return ctx.services.videos.list(filter ?? {}, first, after);
  }

  @Authorized(...ACCESS.read)
  @Query(() => Video, { nullable: true })
  video(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return ctx.loaders.video.load(id);
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => Video, { description: 'Changes title, series, season, episode or the cast list (a new cast applies when the video is next indexed)' })
  updateVideo(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('input', () => UpdateVideoInput) input: UpdateVideoInput) {
    return ctx.services.videos.update(id, input);
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => Boolean, { description: 'Deletes the video and everything derived from it; cancels its indexing job' })
  async deleteVideo(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    await ctx.services.videos.delete(id);
    return true;
  }

  @FieldResolver(() => SegmentConnection, { description: 'Segments in time order' })
  segments(
    @Root() video: VideoRecord,
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return ctx.services.videos.segments(video.id, first, after);
  }

  @FieldResolver(() => ShotConnection, { description: 'Shots in time order' })
  shots(
    @Root() video: VideoRecord,
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return ctx.services.videos.shots(video.id, first, after);
  }

  @FieldResolver(() => SubtitleCueConnection, { description: 'Subtitle and on-screen text lines in time order' })
  cues(
    @Root() video: VideoRecord,
    @Ctx() ctx: RequestContext,
    @Arg('kinds', () => [CueKindEnum], { nullable: true }) kinds?: CueKind[] | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return ctx.services.videos.cues(video.id, kinds ?? null, first, after);
  }

  @FieldResolver(() => String, { description: 'Signed, expiring URL of the video file (supports range requests)' })
  streamUrl(@Root() video: VideoRecord, @Ctx() ctx: RequestContext): string {
    return ctx.mediaUrls.videoUrl(video.id);
  }
}
