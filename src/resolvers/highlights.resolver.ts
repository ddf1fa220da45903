// Highlights (read role) and editors' good/bad marks that teach the scorer (editor role).
import { Arg, Authorized, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { NotFoundError } from '../errors.js';
import type { Highlight as HighlightShape, HighlightFeedbackResult } from '../services/highlights.js';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { Highlight, HighlightModel } from './types/Highlight.type.js';
import { Segment } from './types/segment.type.js';
import { Video } from './types/video.type.js';

const asList = (values: Record<string, number>) => Object.entries(values).map(([name, value]) => ({ name, value }));
const toModel = (m: HighlightFeedbackResult): HighlightModel => ({ updates: m.updates, bias: m.bias, weights: asList(m.weights) });

@Resolver(() => Highlight)
export class HighlightResolver {
  @Authorized(...ACCESS.read)
  @Query(() => [Highlight], { description: 'The best non-overlapping clips of a video, best first' })
  async highlights(
    @Ctx() ctx: RequestContext,
    @Arg('videoId', () => ID) videoId: string,
    @Arg('first', () => Int, { nullable: true, description: 'Default 5, at most 50' }) first?: number | null,
    @Arg('minSec', () => Float, { nullable: true, description: 'Shortest clip, default 5' }) minSec?: number | null,
    @Arg('maxSec', () => Float, { nullable: true, description: 'Longest clip, default 30' }) maxSec?: number | null,
  ): Promise<Highlight[]> {
    const clips = await ctx.services.highlights.highlights(videoId, first, minSec, maxSec);
    return clips.map((c: HighlightShape) => ({ ...c, features: asList(c.features) }));
  }

  @Authorized(...ACCESS.editor)
  @Query(() => HighlightModel, { description: 'The highlight scorer’s current weights' })
  async highlightModel(@Ctx() ctx: RequestContext): Promise<HighlightModel> {
    return toModel(await ctx.services.highlights.model());
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => HighlightModel, { description: 'Marks a clip good or bad; the scorer learns from it at once' })
  async markHighlight(
    @Ctx() ctx: RequestContext,
    @Arg('videoId', () => ID) videoId: string,
    @Arg('start', () => Float) start: number,
    @Arg('end', () => Float) end: number,
    @Arg('good') good: boolean,
  ): Promise<HighlightModel> {
    return toModel(await ctx.services.highlights.markHighlight(videoId, start, end, good));
  }

  @FieldResolver(() => Video)
  async video(@Root() clip: Highlight, @Ctx() ctx: RequestContext) {
    const video = await ctx.loaders.video.load(clip.videoId);
    if (!video) throw new NotFoundError('video', clip.videoId);
    return video;
  }

  @FieldResolver(() => [Segment], { description: 'The segments the clip spans' })
  async segments(@Root() clip: Highlight, @Ctx() ctx: RequestContext) {
    return (await ctx.loaders.segment.loadMany(clip.segmentIds)).filter((s) => s && !(s instanceof Error));
  }
}
