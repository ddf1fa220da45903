import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { SearchHitConnection } from './types/search-hit.type.js';
import { SegmentFilter } from './types/segment-filter.input.js';

@Resolver()
export class SearchResolver {
  @Authorized(...ACCESS.read)
  @Query(() => SearchHitConnection, { description: 'Segments whose subtitles, on-screen text or metadata match the query, best first' })
  async searchSegments(
    @Ctx() ctx: RequestContext,
    @Arg('query', () => String) query: string,
    @Arg('filter', () => SegmentFilter, { nullable: true }) filter?: SegmentFilter | null,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, default 20, at most 100' }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    const page = await ctx.services.search.searchSegments(query, filter, first, after);
    // The service already read these in batches: later Segment.video lookups reuse them.
    for (const { node } of page.edges) {
      ctx.loaders.segment.prime(node.segment.id, node.segment);
      ctx.loaders.video.prime(node.video.id, node.video);
    }
    return page;
  }
}
