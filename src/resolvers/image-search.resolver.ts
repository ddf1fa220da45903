import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import { Arg, Authorized, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import { IMAGE_SEARCH_MAX_BYTES, type ImageMatch as ImageMatchRecord } from '../services/image-search/index.js';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { readUpload } from './upload.js';
import { ImageMatch } from './types/ImageMatch.type.js';
import { ImageMatchFilter } from './types/ImageMatchFilter.input.js';

/** Thumbnail width: enough for a result list, small enough to load fast. */
const THUMBNAIL_WIDTH = 320;

@Resolver(() => ImageMatch)
export class ImageSearchResolver {
  @Authorized(...ACCESS.read)
  @Query(() => [ImageMatch], { description: 'Where a screenshot comes from: videos and moments, most similar first' })
  async searchByImage(
    @Ctx() ctx: RequestContext,
    @Arg('image', () => GraphQLUpload, { nullable: true, description: 'JPEG, PNG or WebP (a GIF or video uses its first frame)' })
    image?: Promise<FileUpload> | null,
    @Arg('imageBase64', () => String, { nullable: true, description: 'The same, base64-encoded (a data: URL prefix is allowed)' })
    imageBase64?: string | null,
    @Arg('filter', () => ImageMatchFilter, { nullable: true }) filter?: ImageMatchFilter | null,
    @Arg('first', () => Int, { nullable: true, description: 'How many matches, default 10, at most 50' }) first?: number | null,
  ): Promise<ImageMatchRecord[]> {
    const bytes = image ? (await readUpload(image, { maxBytes: IMAGE_SEARCH_MAX_BYTES })).data : null;
    const matches = await ctx.services.imageSearch.searchByImage({ image: bytes, imageBase64, filter, first });
    for (const match of matches) ctx.loaders.video.prime(match.video.id, match.video);
    return matches;
  }

  @FieldResolver(() => String, { nullable: true, description: 'Signed, expiring JPEG of the matched scene' })
  thumbnailUrl(@Root() match: ImageMatchRecord, @Ctx() ctx: RequestContext): string | null {
    // The very frame the match was verified on when the index stored it (no extraction), else the segment keyframe.
    if (match.frameTime !== null) return ctx.mediaUrls.matchFrameUrl(match.video.id, match.frameTime);
    return match.segmentId ? ctx.mediaUrls.keyframeUrl(match.segmentId, THUMBNAIL_WIDTH) : null;
  }
}
