// Pictures and media files behind the signed /media URLs: a segment's keyframe as JPEG (extracted
// once with ffmpeg, then served from an on-disk cache under the data dir) and a video's file.
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BadInputError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/interfaces.js';
import type { DerivedFiles } from './video.service.js';

/** Decodes one frame at `time` seconds as JPEG, scaled to `width` (keeping aspect) when given. */
export type FrameExtractor = (videoPath: string, time: number, opts: { width?: number }) => Promise<Buffer>;

export interface MediaService extends DerivedFiles {
  /** Path of a cached JPEG of the segment's keyframe; null when the segment or video is unknown. */
  keyframe(segmentId: string, width: number | null): Promise<string | null>;
  /** The video file to stream; null when the video is unknown. */
  videoFile(videoId: string): Promise<string | null>;
}

export const MIN_FRAME_WIDTH = 16;
export const MAX_FRAME_WIDTH = 3840;

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    (info) => info.isFile(),
    () => false,
  );
}

export function createMediaService(deps: { store: Store; extractFrame: FrameExtractor; cacheDir: string; log: Logger }): MediaService {
  const { store, extractFrame, cacheDir, log } = deps;
  const keyframeDir = path.join(cacheDir, 'keyframes');
  // Concurrent requests for the same picture share one ffmpeg run.
  const extracting = new Map<string, Promise<string>>();

  async function extractToCache(file: string, videoPath: string, time: number, width: number | null): Promise<string> {
    const jpeg = await extractFrame(videoPath, time, width === null ? {} : { width });
    await mkdir(path.dirname(file), { recursive: true });
    // Write then rename, so a reader never sees half a file.
    const partial = `${file}.${randomUUID()}.part`;
    await writeFile(partial, jpeg);
    await rename(partial, file);
    return file;
  }

  return {
    async keyframe(segmentId, width) {
      if (width !== null && (!Number.isInteger(width) || width < MIN_FRAME_WIDTH || width > MAX_FRAME_WIDTH)) {
        throw new BadInputError(`width must be a whole number between ${MIN_FRAME_WIDTH} and ${MAX_FRAME_WIDTH}`);
      }
      const segment = await store.catalog.getSegment(segmentId);
      const video = segment ? await store.catalog.getVideo(segment.videoId) : null;
      if (!segment || !video) return null;
      // The content hash and time in the name: a re-indexed or replaced video never gets a stale picture.
      const name = `${video.contentHash.slice(0, 16)}-${Math.round(segment.keyframeTime * 1000)}-${width ?? 'full'}.jpg`;
      const file = path.join(keyframeDir, video.id, name);
      if (await exists(file)) return file;
      const running = extracting.get(file);
      if (running) return running;
      const work = extractToCache(file, video.path, segment.keyframeTime, width);
      extracting.set(file, work);
      try {
        return await work;
      } finally {
        extracting.delete(file);
      }
    },

    async videoFile(videoId) {
      const video = await store.catalog.getVideo(videoId);
      return video && (await exists(video.path)) ? video.path : null;
    },

    async purgeVideo(videoId) {
      await rm(path.join(keyframeDir, path.basename(videoId)), { recursive: true, force: true });
      log.debug({ videoId }, 'cached frames removed');
    },
  };
}
