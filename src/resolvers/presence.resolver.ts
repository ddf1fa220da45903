// Only-watch-TA, actor timelines and appearances across the library (read queries for every role).
import DataLoader from 'dataloader';
import { Arg, Authorized, Ctx, FieldResolver, Float, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { VideoRecord } from '../domain.js';
import { NotFoundError } from '../errors.js';
import type { ActorTimeline as ActorTimelineShape, WatchMode, WatchSpan } from '../services/presence.js';
import type { ActorRecord } from '../store/actors.js';
import type { AppearanceSpanRecord } from '../store/appearances.js';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { Actor } from './types/Actor.type.js';
import { Appearance, AppearanceConnection } from './types/Appearance.type.js';
import { OnlyWatchResult, WatchModeEnum } from './types/OnlyWatch.type.js';
import { Span } from './types/Span.type.js';
import { ActorTimeline } from './types/Timeline.type.js';
import { Video } from './types/video.type.js';

// Per-request actor loader (a page of spans costs one actor read), kept beside the request
// context so the shared loader registry stays untouched.
const actorLoaders = new WeakMap<RequestContext, DataLoader<string, ActorRecord | null>>();

export function actorLoader(ctx: RequestContext): DataLoader<string, ActorRecord | null> {
  let loader = actorLoaders.get(ctx);
  if (!loader) {
    loader = new DataLoader((ids) => ctx.services.actors.getActors(ids));
    actorLoaders.set(ctx, loader);
  }
  return loader;
}

async function requireActor(ctx: RequestContext, id: string): Promise<ActorRecord> {
  const actor = await actorLoader(ctx).load(id);
  if (!actor) throw new NotFoundError('actor', id);
  return actor;
}

async function requireVideo(ctx: RequestContext, id: string): Promise<VideoRecord> {
  const video = await ctx.loaders.video.load(id);
  if (!video) throw new NotFoundError('video', id);
  return video;
}

@Resolver(() => Span)
export class PresenceResolver {
  @Authorized(...ACCESS.read)
  @Query(() => OnlyWatchResult, {
    description:
      'Only-watch-TA (只看TA): where the actors appear in the video. An actor is present where the fused evidence 1·face + 0.8·voice confidence reaches 0.5 (each span says whether it rests on FACE, VOICE or BOTH); gaps up to mergeGapSec (default 1) are bridged, appearances shorter than minSpanSec (default 0.5) dropped, spans padded by padSec and clipped to the video',
  })
  onlyWatch(
    @Ctx() ctx: RequestContext,
    @Arg('videoId', () => ID) videoId: string,
    // A list of IDs gives class-validator nothing to check, but asking it costs every call a
    // dynamic import of it; the service checks the list (empty, too long).
    @Arg('actorIds', () => [ID], { validate: false }) actorIds: string[],
    @Arg('mode', () => WatchModeEnum, { defaultValue: 'ANY' }) mode: WatchMode,
    @Arg('minConfidence', () => Float, { nullable: true, description: 'Ignore appearances below this confidence (0..1)' }) minConfidence?: number | null,
    @Arg('padSec', () => Float, { defaultValue: 0 }) padSec?: number,
    @Arg('mergeGapSec', () => Float, { nullable: true }) mergeGapSec?: number | null,
    @Arg('minSpanSec', () => Float, { nullable: true }) minSpanSec?: number | null,
  ) {
    return ctx.services.presence.onlyWatch({ videoId, actorIds, mode, minConfidence, padSec, mergeGapSec, minSpanSec });
  }

  @Authorized(...ACCESS.read)
  @Query(() => [ActorTimeline], { description: 'Every actor seen or heard in the video, with their spans (service defaults)' })
  actorTimeline(@Ctx() ctx: RequestContext, @Arg('videoId', () => ID) videoId: string) {
    return ctx.services.presence.actorTimeline(videoId);
  }

  @Authorized(...ACCESS.read)
  @Query(() => AppearanceConnection, { description: 'An actor’s stored appearances across the library, by video then time' })
  appearances(
    @Ctx() ctx: RequestContext,
    @Arg('actorId', () => ID) actorId: string,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, default 20, at most 100' }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return ctx.services.presence.appearances(actorId, first, after);
  }

  @FieldResolver(() => [Actor], { description: 'The actors of `actors`' })
  cast(@Root() span: WatchSpan, @Ctx() ctx: RequestContext) {
    return Promise.all(span.actors.map((id) => requireActor(ctx, id)));
  }

  @FieldResolver(() => String, { nullable: true, description: 'Signed, expiring URL of the best face seen in the span (null for voice-only spans)' })
  thumbnailUrl(@Root() span: WatchSpan, @Ctx() ctx: RequestContext): string | null {
    return span.bestFaceId ? ctx.mediaUrls.faceUrl(span.bestFaceId) : null;
  }
}

@Resolver(() => ActorTimeline)
export class ActorTimelineResolver {
  @FieldResolver(() => Actor)
  actor(@Root() timeline: ActorTimelineShape, @Ctx() ctx: RequestContext) {
    return requireActor(ctx, timeline.actorId);
  }
}

@Resolver(() => Appearance)
export class AppearanceResolver {
  @FieldResolver(() => Actor)
  actor(@Root() appearance: AppearanceSpanRecord, @Ctx() ctx: RequestContext) {
    return requireActor(ctx, appearance.actorId);
  }

  @FieldResolver(() => Video)
  video(@Root() appearance: AppearanceSpanRecord, @Ctx() ctx: RequestContext) {
    return requireVideo(ctx, appearance.videoId);
  }

  @FieldResolver(() => String, { nullable: true, description: 'Signed, expiring URL of the best face of the appearance (null for voice)' })
  thumbnailUrl(@Root() appearance: AppearanceSpanRecord, @Ctx() ctx: RequestContext): string | null {
    return appearance.bestFaceId ? ctx.mediaUrls.faceUrl(appearance.bestFaceId) : null;
  }
}
