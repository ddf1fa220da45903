// Intro/outro skip markers on Video (read role), and editors' corrections (editor role).
import DataLoader from 'dataloader';
import { Arg, Authorized, Ctx, FieldResolver, Float, ID, Mutation, ObjectType, Field, Resolver, Root } from 'type-graphql';
import type { VideoRecord } from '../domain.js';
import type { SkipMarkers } from '../services/intro-outro.js';
import type { SkipMarkerKind } from '../store/intro.js';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { SkipMarker, SkipMarkerKindEnum } from './types/SkipMarker.type.js';
import { Video } from './types/video.type.js';

@ObjectType({ description: 'The intro and outro in force for a video' })
export class SkipMarkerPair {
  @Field(() => SkipMarker, { nullable: true })
  intro!: SkipMarker | null;

  @Field(() => SkipMarker, { nullable: true })
  outro!: SkipMarker | null;
}

/** One batched markers read per request, however many videos a query lists. */
const loaders = new WeakMap<RequestContext, DataLoader<string, SkipMarkers>>();
function markersLoader(ctx: RequestContext): DataLoader<string, SkipMarkers> {
  let loader = loaders.get(ctx);
  if (!loader) {
    loader = new DataLoader((ids: readonly string[]) => ctx.services.introOutro.markersOf(ids));
    loaders.set(ctx, loader);
  }
  return loader;
}

@Resolver(() => Video)
export class VideoSkipMarkerResolver {
  @FieldResolver(() => SkipMarker, { nullable: true, description: 'The opening repeated across the series (or set by an editor)' })
  async intro(@Root() video: VideoRecord, @Ctx() ctx: RequestContext) {
    return (await markersLoader(ctx).load(video.id)).intro;
  }

  @FieldResolver(() => SkipMarker, { nullable: true, description: 'The ending repeated across the series (or set by an editor)' })
  async outro(@Root() video: VideoRecord, @Ctx() ctx: RequestContext) {
    return (await markersLoader(ctx).load(video.id)).outro;
  }

  @FieldResolver(() => [SkipMarker], { description: 'What the player may skip, in time order' })
  async skipMarkers(@Root() video: VideoRecord, @Ctx() ctx: RequestContext) {
    const { intro, outro } = await markersLoader(ctx).load(video.id);
    return [intro, outro].filter((m) => m !== null).sort((a, b) => a.start - b.start);
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => SkipMarker, { description: 'Corrects the intro or outro of a video; automatic matching never overwrites it' })
  setSkipMarker(
    @Ctx() ctx: RequestContext,
    @Arg('videoId', () => ID) videoId: string,
    @Arg('kind', () => SkipMarkerKindEnum) kind: SkipMarkerKind,
    @Arg('start', () => Float) start: number,
    @Arg('end', () => Float) end: number,
  ) {
    return ctx.services.introOutro.setMarker(videoId, kind, start, end);
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => SkipMarkerPair, { description: 'Drops an editor’s correction and re-matches the series; returns the markers now in force' })
  resetSkipMarker(@Ctx() ctx: RequestContext, @Arg('videoId', () => ID) videoId: string, @Arg('kind', () => SkipMarkerKindEnum) kind: SkipMarkerKind) {
    return ctx.services.introOutro.resetMarker(videoId, kind);
  }
}
