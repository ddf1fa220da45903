// Editors export a span of a video as an MP4 to download. The cut is cached on disk under the data
// dir (keyed by the video's content and the span in milliseconds) and served through a signed URL;
// a clip the cache lost is cut again on download. Stream copy when the span starts on a keyframe
// and the codecs fit MP4, else H.264/AAC re-encoding so the clip starts exactly where asked.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { VideoRecord } from '../domain.js';
import { BadInputError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ClipMethod, CutClipOptions } from '../media/clips.js';
import type { Catalog } from '../store/interfaces.js';

/** Longest clip one export may cut (an export is not a way to copy whole episodes). */
export const MAX_CLIP_SEC = 600;
/** Shortest: under this a player shows nothing useful. */
export const MIN_CLIP_SEC = 0.2;
/** Cached clips older than this are swept at the next export (their URLs cut them again). */
const CLIP_CACHE_TTL_MS = 24 * 3600 * 1000;

/** Codecs an MP4 can hold as they are. */
const MP4_VIDEO_CODECS = new Set(['h264', 'hevc', 'mpeg4']);
const MP4_AUDIO_CODECS = new Set(['aac', 'mp3', 'ac3', 'eac3', 'alac']);

export interface ClipExport {
  /** Names the clip in its download URL: video id and span in milliseconds. */
  id: string;
  video: VideoRecord;
  start: number;
  end: number;
  method: ClipMethod;
  sizeBytes: number;
}

export interface ClipFile {
  file: string;
  /** A file name for the browser's download (title and span). */
  downloadName: string;
}

export interface ClipService {
  /** Cuts [start, end) seconds of the video (or finds the cut cached). */
  exportClip(videoId: string, start: number, end: number): Promise<ClipExport>;
  /** The MP4 behind a clip id, cut again when the cache lost it; null when the id names nothing. */
  clipFile(clipId: string): Promise<ClipFile | null>;
  purgeVideo(videoId: string): Promise<void>;
}

export interface ClipServiceDeps {
  catalog: Pick<Catalog, 'getVideo'>;
  /** Codec names of the file's first video and audio stream (audio null when there is none). */
  inspect(filePath: string): Promise<{ videoCodec: string | null; audioCodec: string | null }>;
  /** Video keyframe times (media timeline) in [from, to]. */
  keyframes(filePath: string, range: { from: number; to: number; startTime: number }): Promise<number[]>;
  cut(input: string, output: string, opts: CutClipOptions): Promise<void>;
  cacheDir: string;
  log: Logger;
}

const CLIP_ID = /^(.+)_(\d+)-(\d+)$/;

export function clipId(videoId: string, startMs: number, endMs: number): string {
  return `${videoId}_${startMs}-${endMs}`;
}

function seconds(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new BadInputError(`${name} must be a number of seconds`, { field: name });
  return value;
}

function downloadName(video: VideoRecord, startMs: number, endMs: number): string {
  const base = (video.title ?? path.parse(video.path).name).replace(/[\\/:*?"<>|\s]+/g, '_').slice(0, 80) || 'clip';
  const stamp = (ms: number): string => `${Math.floor(ms / 60000)}m${((ms % 60000) / 1000).toFixed(1).padStart(4, '0')}s`;
  return `${base}_${stamp(startMs)}-${stamp(endMs)}.mp4`;
}

async function fileSize(file: string): Promise<number | null> {
  return stat(file).then(
    (info) => (info.isFile() ? info.size : null),
    () => null,
  );
}

export function createClipService(deps: ClipServiceDeps): ClipService {
  const { catalog, log } = deps;
  const clipDir = path.join(deps.cacheDir, 'clips');
  // Two requests for the same clip share one ffmpeg run.
  const cutting = new Map<string, Promise<ClipExport>>();

  function cacheFile(video: VideoRecord, startMs: number, endMs: number): string {
    // The content hash in the name: a replaced file never serves a stale cut.
    return path.join(clipDir, path.basename(video.id), `${video.contentHash.slice(0, 16)}-${startMs}-${endMs}.mp4`);
  }

  async function chooseMethod(video: VideoRecord, start: number): Promise<{ method: ClipMethod; copyAudio: boolean }> {
    const codecs = await deps.inspect(video.path);
    const copyAudio = codecs.audioCodec === null || MP4_AUDIO_CODECS.has(codecs.audioCodec);
    if (!codecs.videoCodec || !MP4_VIDEO_CODECS.has(codecs.videoCodec)) return { method: 'REENCODE', copyAudio };
    // Copied packets begin at a keyframe: only exact when one sits (within half a frame) at `start`.
    const tolerance = Math.max(0.5 / (video.fps || 25), 0.005);
    try {
      const keys = await deps.keyframes(video.path, { from: start - tolerance, to: start + tolerance, startTime: video.startTime });
      return { method: keys.some((t) => Math.abs(t - start) <= tolerance) ? 'STREAM_COPY' : 'REENCODE', copyAudio };
    } catch (err) {
      log.warn({ err, videoId: video.id }, 'keyframe probe failed; re-encoding the clip');
      return { method: 'REENCODE', copyAudio };
    }
  }

  async function sweepOldClips(): Promise<void> {
    const now = Date.now();
    const dirs = await readdir(clipDir).catch(() => [] as string[]);
    for (const dir of dirs) {
      for (const name of await readdir(path.join(clipDir, dir)).catch(() => [] as string[])) {
        const file = path.join(clipDir, dir, name);
        const info = await stat(file).catch(() => null);
        if (info && now - info.mtimeMs > CLIP_CACHE_TTL_MS) await rm(file, { force: true });
      }
    }
  }

  async function cutToCache(video: VideoRecord, startMs: number, endMs: number, file: string): Promise<ClipExport> {
    const start = startMs / 1000;
    const end = endMs / 1000;
    const { method, copyAudio } = await chooseMethod(video, start);
    await mkdir(path.dirname(file), { recursive: true });
    // Write then rename, so a download never reads half a clip.
    const partial = path.join(path.dirname(file), `${randomUUID()}.part.mp4`);
    try {
      await deps.cut(video.path, partial, { start, end, method, copyAudio });
      await rename(partial, file);
    } finally {
      await rm(partial, { force: true });
    }
    const sizeBytes = (await fileSize(file)) ?? 0;
    log.info({ videoId: video.id, start, end, method, sizeBytes }, 'clip exported');
    return { id: clipId(video.id, startMs, endMs), video, start, end, method, sizeBytes };
  }

  async function exportSpan(video: VideoRecord, startMs: number, endMs: number): Promise<ClipExport> {
    const file = cacheFile(video, startMs, endMs);
    const running = cutting.get(file);
    if (running) return running;
    const work = (async () => {
      const size = await fileSize(file);
      // A cached cut does not record its method: the same file and span choose the same one again.
      if (size !== null) return { id: clipId(video.id, startMs, endMs), video, start: startMs / 1000, end: endMs / 1000, method: (await chooseMethod(video, startMs / 1000)).method, sizeBytes: size };
      await sweepOldClips();
      return cutToCache(video, startMs, endMs, file);
    })();
    cutting.set(file, work);
    try {
      return await work;
    } finally {
      cutting.delete(file);
    }
  }

  async function requireVideoFile(videoId: string): Promise<VideoRecord> {
    const video = await catalog.getVideo(videoId);
    if (!video) throw new NotFoundError('video', videoId);
    if ((await fileSize(video.path)) === null) throw new NotFoundError('video file of', videoId);
    return video;
  }

  return {
    async exportClip(videoId, rawStart, rawEnd) {
      const start = seconds('start', rawStart);
      const end = seconds('end', rawEnd);
      if (start < 0) throw new BadInputError('start must be ≥ 0', { field: 'start', start });
      if (end <= start) throw new BadInputError('end must be after start', { field: 'end', start, end });
      if (end - start < MIN_CLIP_SEC) throw new BadInputError(`a clip must last at least ${MIN_CLIP_SEC} s`, { field: 'end', start, end });
      if (end - start > MAX_CLIP_SEC) throw new BadInputError(`a clip may last at most ${MAX_CLIP_SEC} s`, { field: 'end', start, end });
      const video = await requireVideoFile(videoId);
      if (start >= video.durationSec) throw new BadInputError(`start is past the end of the video (${video.durationSec.toFixed(2)} s)`, { field: 'start', start });
      // A span ending a little past the end (rounding in a player) is clipped rather than refused.
      const startMs = Math.round(start * 1000);
      const endMs = Math.round(Math.min(end, video.durationSec) * 1000);
      if ((endMs - startMs) / 1000 < MIN_CLIP_SEC) throw new BadInputError(`a clip must last at least ${MIN_CLIP_SEC} s`, { field: 'end', start, end });
      return exportSpan(video, startMs, endMs);
    },

    async clipFile(id) {
      const match = CLIP_ID.exec(id);
      if (!match) return null;
      const [, videoId, startText, endText] = match;
      const video = await catalog.getVideo(videoId!);
      if (!video) return null;
      const startMs = Number(startText);
      const endMs = Number(endText);
      const durationMs = endMs - startMs;
      // Only spans exportClip could have made (the URL is signed, but stay strict anyway).
      if (durationMs < MIN_CLIP_SEC * 1000 || durationMs > MAX_CLIP_SEC * 1000 || endMs > Math.round(video.durationSec * 1000)) return null;
      const file = cacheFile(video, startMs, endMs);
      if ((await fileSize(file)) === null) {
        if ((await fileSize(video.path)) === null) return null;
        await exportSpan(video, startMs, endMs);
      }
      return { file, downloadName: downloadName(video, startMs, endMs) };
    },

    async purgeVideo(videoId) {
      await rm(path.join(clipDir, path.basename(videoId)), { recursive: true, force: true });
    },
  };
}
