import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import { IMAGE_SEARCH_MAX_BYTES } from '../services/image-search/index.js';
import { HYBRID_IMAGE_CANDIDATES, HYBRID_MAX_CANDIDATES, HYBRID_TEXT_CANDIDATES } from '../services/search.service.js';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { SearchHitConnection } from './types/search-hit.type.js';
import { SegmentFilter } from './types/segment-filter.input.js';
import { readUpload } from './upload.js';

const DESCRIPTION =
  'Segments whose subtitles, on-screen text or metadata match the query, best first. With `image` or `imageBase64` the search is ' +
  'hybrid ("looks like this and they say …"): the picture search\'s matches are fused with the text hits by a weighted sum ' +
  '(score = wText·textScore + wVector·vectorScore, 0.4 / 0.6 unless VIDSEARCH_HYBRID_TEXT_WEIGHT / VIDSEARCH_HYBRID_VECTOR_WEIGHT say otherwise; a match of similarity ≥ 0.9 always ranks above segments ' +
  `only the text found), and the query may then be empty. Hybrid results are capped at ${HYBRID_MAX_CANDIDATES} candidates ` +
  `(the best ${HYBRID_TEXT_CANDIDATES} text hits and ${HYBRID_IMAGE_CANDIDATES} picture matches): totalCount counts the distinct segments among them`;

@Resolver()
export class SearchResolver {
  @Authorized(...ACCESS.read)
  @Query(() => SearchHitConnection, { description: DESCRIPTION })
  async searchSegments(
    @Ctx() ctx: RequestContext,
    @Arg('query', () => String, { description: 'Words to find; may be empty only when an image is given' }) query: string,
    @Arg('filter', () => SegmentFilter, { nullable: true }) filter?: SegmentFilter | null,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, default 20, at most 100' }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('image', () => GraphQLUpload, { nullable: true, description: 'A picture the moment should look like (JPEG, PNG or WebP; multipart upload)' })
    image?: Promise<FileUpload> | null,
    @Arg('imageBase64', () => String, { nullable: true, description: 'The same, base64-encoded (a data: URL prefix is allowed)' })
    imageBase64?: string | null,
  ) {
    const bytes = image ? (await readUpload(image, { maxBytes: IMAGE_SEARCH_MAX_BYTES })).data : null;
    const picture = bytes || imageBase64 != null ? { image: bytes, imageBase64 } : null;
    const page = await ctx.services.search.searchSegments(query, filter, first, after, picture);
    // The service already read these in batches: later Segment.video lookups reuse them.
    for (const { node } of page.edges) {
      ctx.loaders.segment.prime(node.segment.id, node.segment);
      ctx.loaders.video.prime(node.video.id, node.video);
    }
    return page;
  }
}
