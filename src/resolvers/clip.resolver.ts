import { Arg, Authorized, Ctx, FieldResolver, Float, ID, Mutation, Resolver, Root } from 'type-graphql';
import { MAX_CLIP_SEC, type ClipExport as ClipExportRecord } from '../services/clips.js';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { ClipExport } from './types/ClipExport.type.js';

@Resolver(() => ClipExport)
export class ClipResolver {
  @Authorized(...ACCESS.editor)
  @Mutation(() => ClipExport, {
    description: 'Cuts [start, end) seconds of a video to an MP4 (stream copy when the span starts on a keyframe) and returns a signed download URL',
  })
  async exportClip(
    @Ctx() ctx: RequestContext,
    @Arg('videoId', () => ID) videoId: string,
    @Arg('start', () => Float, { description: 'Seconds on the media timeline' }) start: number,
    @Arg('end', () => Float, { description: `Seconds; at most ${MAX_CLIP_SEC} s after start` }) end: number,
  ): Promise<ClipExportRecord> {
    const clip = await ctx.services.clips.exportClip(videoId, start, end);
    ctx.loaders.video.prime(clip.video.id, clip.video);
    return clip;
  }

  @FieldResolver(() => String, { description: 'Signed, expiring URL of the MP4 (served as a download)' })
  downloadUrl(@Root() clip: ClipExportRecord, @Ctx() ctx: RequestContext): string {
    return ctx.mediaUrls.clipUrl(clip.id);
  }
}
