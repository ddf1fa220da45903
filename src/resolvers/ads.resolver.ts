// Contextual ads (ads + editor roles), ad breaks, and the tags segments carry (read role).
import DataLoader from 'dataloader';
import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { MOOD_LABELS_ZH, SCENE_LABELS_ZH } from '../ads/tags.js';
import { NotFoundError } from '../errors.js';
import { COCO_LABELS_ZH } from '../models/objects/labels.js';
import type { SegmentRecord } from '../domain.js';
import type { SegmentTagRecord } from '../store/ads.js';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { Ad, AdConnection } from './types/Ad.type.js';
import { AdBreak } from './types/AdBreak.type.js';
import { AdInput } from './types/AdInput.js';
import { AdMatch, AdMatching } from './types/AdMatch.type.js';
import { Segment } from './types/segment.type.js';
import { Tag } from './types/Tag.type.js';
import { Video } from './types/video.type.js';

/** Checked by the ads service (matchCount, locate), not class-validator: its @Args skip that pass. */
@ArgsType()
class AdMomentArgs {
  @Field(() => ID, { nullable: true })
  segmentId?: string | null;

  @Field(() => ID, { nullable: true })
  videoId?: string | null;

  @Field(() => Float, { nullable: true, description: 'Seconds on the media timeline' })
  time?: number | null;

  @Field(() => Int, { nullable: true, description: 'Default 10, at most 100' })
  first?: number | null;
}

@Resolver(() => Ad)
export class AdResolver {
  @Authorized(...ACCESS.ads)
  @Query(() => AdConnection, { description: 'The ad inventory by id' })
  ads(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, default 20, at most 100' }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return ctx.services.ads.ads(first, after);
  }

  @Authorized(...ACCESS.ads)
  @Query(() => Ad, { nullable: true })
  ad(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return ctx.services.ads.ad(id);
  }

  @Authorized(...ACCESS.ads)
  @Mutation(() => Ad, { description: 'Creates or replaces an ad (same id → replaced)' })
  upsertAd(@Ctx() ctx: RequestContext, @Arg('input', () => AdInput) input: AdInput) {
    return ctx.services.ads.upsertAd(input);
  }

  @Authorized(...ACCESS.ads)
  @Mutation(() => Boolean, { description: 'True when the ad existed' })
  deleteAd(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return ctx.services.ads.deleteAd(id);
  }

  @Authorized(...ACCESS.ads)
  @Query(() => [AdMatch], { description: 'Ads ranked for a moment: give segmentId, or videoId and time. Each match lists its reasons.' })
  matchAds(@Ctx() ctx: RequestContext, @Args(() => AdMomentArgs, { validate: false }) { segmentId, videoId, time, first }: AdMomentArgs) {
    return ctx.services.ads.matchAds({ segmentId, videoId, time }, first);
  }

  @Authorized(...ACCESS.ads)
  @Query(() => AdMatching, { description: 'matchAds with the ads brand safety or targeting left out (by reason) and the segment’s visual risk: an empty answer says why' })
  adMatching(@Ctx() ctx: RequestContext, @Args(() => AdMomentArgs, { validate: false }) { segmentId, videoId, time, first }: AdMomentArgs) {
    return ctx.services.ads.adMatching({ segmentId, videoId, time }, first);
  }

  @Authorized(...ACCESS.ads)
  @Query(() => [AdBreak], { description: 'Insertion points at shot cuts without speech, each with its best ads' })
  adBreaks(
    @Ctx() ctx: RequestContext,
    @Arg('videoId', () => ID) videoId: string,
    @Arg('first', () => Int, { nullable: true, description: 'Breaks, default 20, at most 100' }) first?: number | null,
    @Arg('adsPerBreak', () => Int, { nullable: true, description: 'Default 3, at most 100' }) adsPerBreak?: number | null,
  ) {
    return ctx.services.ads.adBreaks(videoId, first, adsPerBreak);
  }
}

@Resolver(() => AdBreak)
export class AdBreakResolver {
  @FieldResolver(() => Segment, { nullable: true, description: 'The segment that ends at the cut' })
  segment(@Root() adBreak: AdBreak, @Ctx() ctx: RequestContext) {
    return ctx.loaders.segment.load(adBreak.segmentId);
  }

  @FieldResolver(() => Video)
  async video(@Root() adBreak: AdBreak, @Ctx() ctx: RequestContext) {
    const video = await ctx.loaders.video.load(adBreak.videoId);
    if (!video) throw new NotFoundError('video', adBreak.videoId);
    return video;
  }
}

// One tags loader per request: a page of segments costs one store call, not one per segment.
const tagLoaders = new WeakMap<RequestContext, DataLoader<string, SegmentTagRecord[]>>();

function tagLoader(ctx: RequestContext): DataLoader<string, SegmentTagRecord[]> {
  let loader = tagLoaders.get(ctx);
  if (!loader) {
    loader = new DataLoader((ids: readonly string[]) => ctx.services.ads.tagsOfSegments(ids));
    tagLoaders.set(ctx, loader);
  }
  return loader;
}

function labelZh(tag: SegmentTagRecord): string | null {
  const table = tag.kind === 'OBJECT' ? COCO_LABELS_ZH : tag.kind === 'SCENE' ? SCENE_LABELS_ZH : MOOD_LABELS_ZH;
  return table[tag.label] ?? null;
}

@Resolver(() => Segment)
export class SegmentTagsResolver {
  @FieldResolver(() => [Tag], { description: 'Objects (MODEL), scene properties and moods (HEURISTIC) of the segment, best first per kind' })
  async tags(@Root() segment: SegmentRecord, @Ctx() ctx: RequestContext): Promise<Tag[]> {
    return (await tagLoader(ctx).load(segment.id)).map((t) => ({ kind: t.kind, label: t.label, labelZh: labelZh(t), score: t.score, source: t.source, box: t.box }));
  }
}
