// The frames a search looks at after the first stage: what the index stored per sampled frame
// (frameEvidence: a JPEG, ORB features and a grey thumbnail; no ffmpeg per query), or, for videos
// indexed before evidence was stored, frames decoded with ffmpeg (windows cached with their ORB
// features).
import { access } from 'node:fs/promises';
import type { VideoRecord } from '../../domain.js';
import { extractFrame, streamFrames, type StreamFramesOptions } from '../../media/frames.js';
import type { MediaProbe } from '../../media/probe.js';
import type { MediaTools } from '../../media/tools.js';
import { unpackFeatures, type LocalFeatures, type OrbMatcher } from '../../models/image-descriptors/local-features.js';
import { greyThumbnailOfEncoded, THUMBNAIL_WIDTH } from '../../models/image-descriptors/grey-thumbnail.js';
import type { RawImage } from '../../models/types.js';
import type { FrameEvidence, Store } from '../../store/interfaces.js';
import type { PhaseClock } from './phases.js';
import type { ImageSearchDeps, VideoFrame } from './types.js';

/** ffmpeg fallback: frames per second and width of verification windows (the width the index samples at). */
const VERIFY_FPS = 2;
export const VERIFY_WIDTH = 320;
/** ffmpeg-decoded verification windows kept (their ORB features too): repeated and similar queries reuse them. */
const WINDOW_CACHE_SIZE = 16;
/** Width of the grey thumbnails localisation compares (half the sampled width). */
export const LOCALISE_WIDTH = THUMBNAIL_WIDTH;
/** ffmpeg fallback: frames per second read for localisation (stored evidence has the index's rate). */
const LOCALISE_FPS = 4;
/**
 * The moment's refinement reads every frame of the media up to this rate; faster media is sampled
 * at it (the fps filter's labels are then off by at most 1/60 s, against the index's 0.5 s gaps):
 * it bounds the decode at 30 frames per second of media. A rule, not a fit.
 */
const REFINE_MAX_FPS = 30;
/** A frame of a verification window; features are unpacked only when looked at. */
export interface WindowFrame {
  time: number;
  /** Nearly repeats the last frame the vector index holds (stored evidence only). */
  repeat: boolean;
  features(): LocalFeatures;
}

/** A frame's grey levels at LOCALISE_WIDTH, for the photometric comparison. */
export interface GreyThumbnail {
  time: number;
  grey: Uint8Array | Float32Array;
  width: number;
  height: number;
  /** Nearly repeats the last frame the vector index holds (stored evidence only). */
  repeat: boolean;
  /** The frame's stored ORB features (null for ffmpeg-decoded frames). */
  features: (() => LocalFeatures) | null;
}

/** A stored frame's thumbnail: the one the index stored, else its JPEG decoded (older indexes). */
async function thumbnailOfEvidence(row: FrameEvidence): Promise<GreyThumbnail> {
  const { width, height, grey } = row.thumbnail?.width === LOCALISE_WIDTH ? row.thumbnail : await greyThumbnailOfEncoded(row.picture);
  let unpacked: LocalFeatures | null = null;
  return { time: row.time, grey, width, height, repeat: row.repeat, features: () => (unpacked ??= unpackFeatures(row.features)) };
}

export interface FrameSource {
  /** Frames around a candidate; `stored` says whether they came from the index (else ffmpeg). */
  window(video: VideoRecord, start: number, end: number, clock: PhaseClock): Promise<{ frames: WindowFrame[]; stored: boolean }>;
  /** Grey thumbnails of every sampled frame between two times (the index's, else ffmpeg's at LOCALISE_FPS). */
  thumbnails(video: VideoRecord, start: number, end: number, clock: PhaseClock): Promise<GreyThumbnail[]>;
  /**
   * Grey thumbnails of every frame the media file holds in the windows (in their order), at their
   * own times (between the index's samples), up to REFINE_MAX_FPS. Not through ffmpeg's fps filter
   * at the index's rate: it labels the frame it keeps with its output slot, up to half a sample
   * period before the frame's own time. The windows are decoded at once, an ffmpeg run each: most
   * of a run's wall time is its start and the seek from a keyframe, which two runs overlap on two cores.
   */
  decodedThumbnails(video: VideoRecord, windows: readonly { start: number; end: number }[], clock: PhaseClock): Promise<GreyThumbnail[]>;
}

export function createFrameSource(
  store: Pick<Store, 'frameEvidence'>,
  evidenceModel: string,
  matcher: OrbMatcher,
  media: Pick<ImageSearchDeps, 'readFrames' | 'readThumbnails'>,
): FrameSource {
  const { readFrames, readThumbnails } = media;
  // ffmpeg-decoded windows (older indexes); insertion-ordered: the first key is the least recently used.
  const windowCache = new Map<string, Promise<WindowFrame[]>>();

  async function decodeWindow(video: VideoRecord, start: number, end: number, clock: PhaseClock): Promise<WindowFrame[]> {
    const decoded = await clock.time('verifyDecode', async () => {
      const frames: VideoFrame[] = [];
      for await (const frame of readFrames(video, { start, end, fps: VERIFY_FPS, width: VERIFY_WIDTH })) frames.push(frame);
      return frames;
    });
    const out: WindowFrame[] = [];
    for (const frame of decoded) {
      const image: RawImage = { data: frame.data, width: frame.width, height: frame.height, channels: 3 };
      const features = await clock.time('orbExtract', () => matcher.extract(image));
      out.push({ time: frame.time, repeat: false, features: () => features });
    }
    return out;
  }

  function cachedDecodedWindow(video: VideoRecord, start: number, end: number, clock: PhaseClock): Promise<WindowFrame[]> {
    // The file's content hash in the key: a replaced file is decoded afresh.
    const key = `${video.id}:${video.contentHash}:${start.toFixed(2)}:${end.toFixed(2)}`;
    let frames = windowCache.get(key);
    if (frames) {
      windowCache.delete(key);
    } else {
      frames = decodeWindow(video, start, end, clock);
      // A failed decode is not remembered.
      frames.catch(() => windowCache.delete(key));
    }
    windowCache.set(key, frames);
    while (windowCache.size > WINDOW_CACHE_SIZE) windowCache.delete(windowCache.keys().next().value!);
    return frames;
  }

  /** The thumbnails of the frames ffmpeg decodes between two times (every frame, or `fps` of them a second). */
  async function decodeThumbnails(video: VideoRecord, start: number, end: number, fps: number | undefined): Promise<GreyThumbnail[]> {
    const thumbnails: GreyThumbnail[] = [];
    for await (const { time, data, width, height } of readThumbnails(video, { start, end, fps, width: VERIFY_WIDTH })) {
      thumbnails.push({ time, grey: data, width, height, repeat: false, features: null });
    }
    return thumbnails;
  }

  return {
    async window(video, start, end, clock) {
      const rows = await clock.time('verifyRead', () => store.frameEvidence.window(video.id, evidenceModel, start, end));
      if (rows.length === 0) return { frames: await cachedDecodedWindow(video, start, end, clock), stored: false };
      const frames = rows.map((row): WindowFrame => {
        let unpacked: LocalFeatures | null = null;
        return { time: row.time, repeat: row.repeat, features: () => (unpacked ??= clock.timeSync('verifyRead', () => unpackFeatures(row.features))) };
      });
      return { frames, stored: true };
    },

    async thumbnails(video, start, end, clock) {
      const rows = await clock.time('localiseRead', () => store.frameEvidence.window(video.id, evidenceModel, start, end));
      // Stored thumbnails need no decode; rows of older indexes without one cost a JPEG decode each.
      if (rows.length > 0) return clock.time('localiseDecode', () => Promise.all(rows.map(thumbnailOfEvidence)));
      return clock.time('localiseDecode', () => decodeThumbnails(video, start, end, LOCALISE_FPS));
    },

    async decodedThumbnails(video, windows, clock) {
      const fps = video.fps > REFINE_MAX_FPS ? REFINE_MAX_FPS : undefined;
      return clock.time('refineDecode', async () => (await Promise.all(windows.map((w) => decodeThumbnails(video, w.start, w.end, fps)))).flat());
    },
  };
}

/** The catalog's word on a video, as a probe would say it: saves an ffprobe run per window. */
function probeOfRecord(video: VideoRecord): MediaProbe {
  return {
    durationSec: video.durationSec,
    fps: video.fps,
    width: video.width,
    height: video.height,
    rotation: video.rotation,
    startTime: video.startTime,
    hasVideo: true,
    hasAudio: video.hasAudio,
    variableFrameRate: false,
    formatName: '',
    videoCodec: null,
    audioStreams: [],
    subtitleStreams: [],
  };
}

/** The media side of the service, on ffmpeg: windows of frames for verification and localisation, first frames of uploads. */
export function ffmpegFrameSource(tools: MediaTools): Pick<ImageSearchDeps, 'readFrames' | 'readThumbnails' | 'firstFrame'> {
  async function* decode(video: VideoRecord, opts: StreamFramesOptions): AsyncGenerator<VideoFrame> {
    // A moved or deleted file fails here in microseconds, not after an ffmpeg start per window.
    await access(video.path);
    for await (const frame of streamFrames(tools, video.path, { ...opts, probe: probeOfRecord(video) })) {
      yield { time: frame.time, data: new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.length), width: frame.width, height: frame.height };
    }
  }
  return {
    readFrames: (video, opts) => decode(video, { ...opts, pixFmt: 'rgb24' }),
    // ffmpeg resizes and converts (StreamFramesOptions.finalWidth): a 320-px RGB frame through a
    // pipe and a sharp resize cost ~2.4 ms of this process's CPU, its thumbnail ~0.1 ms.
    readThumbnails: (video, opts) => decode(video, { ...opts, finalWidth: THUMBNAIL_WIDTH, pixFmt: 'gray' }),
    firstFrame: (filePath) => extractFrame(tools, filePath, 0, { format: 'png' }),
  };
}
