// The image search's public shapes (service, request, answer) and what its stages share.
import type { VideoRecord } from '../../domain.js';
import type { Logger } from '../../logger.js';
import type { LocalFeatures, OrbMatcher } from '../../models/image-descriptors/local-features.js';
import type { ImageDescriptor } from '../../models/image-descriptors/mobilenet.js';
import type { Box, RawImage } from '../../models/types.js';
import type { Store } from '../../store/interfaces.js';

export interface ImageSearchFilter {
  series?: string | null;
  videoIds?: readonly string[] | null;
}

export interface ImageSearchRequest {
  /** The encoded upload (JPEG, PNG, WebP; GIF or video → first frame). */
  image?: Buffer | null;
  imageBase64?: string | null;
  filter?: ImageSearchFilter | null;
  first?: number | null;
}

/** 'full' is the product path; 'colorlayout' is the trace.moe-style baseline, for eval only. */
export type ImageSearchMethod = 'full' | 'colorlayout';

export interface ImageMatch {
  video: VideoRecord;
  /**
   * The stretch of the video that looks like the screenshot: the frames the pixels cannot tell
   * apart from the best one (a still shot), else the verified frames around `at`.
   */
  from: number;
  to: number;
  /** The best-matching moment: the middle of the stretch when its frames cannot be told apart. */
  at: number;
  /** Calibrated 0..1: the chance this is the right video (calibration.ts). */
  similarity: number;
  /** Calibrated 0..1: the chance that `at` is the right moment (right video, within ±1 s). */
  timeConfidence: number;
  /** The segment containing `at` (for its thumbnail), when the video has segments. */
  segmentId: string | null;
  /** Time of the stored evidence frame that matched the screenshot best (its picture: matchFrame), else null. */
  frameTime: number | null;
  /** Evidence: global descriptor cosine, geometric inliers (0 when not verified), and the strongest other video's inliers. */
  descriptorScore: number;
  inliers: number;
  rivalInliers: number;
  /** Localisation's score margin over frames beyond ±1 s (timeConfidence's input; null when not localised). Not in the GraphQL type. */
  momentMargin: number | null;
}

/**
 * Where a query's time goes; `verifyDecode` and `localiseDecode` via ffmpeg are for old indexes
 * only; `refineDecode` is the media read between the index's samples when they leave the moment
 * open: it starts beside the alignment and scoring of the stored frames (locate.ts), so its wall
 * and CPU overlap theirs (CPU is the whole process's); `refineWait` is the part of it the
 * localisation waits for.
 */
export type ImageSearchPhase =
  | 'decode'
  | 'variants'
  | 'cnn'
  | 'firstStage'
  | 'colorLayout'
  | 'rerank'
  | 'verifyRead'
  | 'verifyDecode'
  | 'orbExtract'
  | 'orbMatch'
  | 'localiseRead'
  | 'localiseDecode'
  | 'refineDecode'
  | 'refineWait'
  | 'localise'
  | 'answer';

/** Wall and CPU milliseconds and calls per phase, summed over one query (filled in when the caller passes it). */
export type PhaseTimings = Partial<Record<ImageSearchPhase, { ms: number; cpuMs: number; calls: number }>>;

export interface ImageSearchOptions {
  method?: ImageSearchMethod;
  /** Receives the query's per-phase timings (benches); absent, nothing is measured. */
  phases?: PhaseTimings;
}

export interface ImageSearchService {
  searchByImage(request: ImageSearchRequest, options?: ImageSearchOptions): Promise<ImageMatch[]>;
  /** The stored picture (JPEG, as sampled for indexing) of a video's frame at `time`, or null. */
  matchFrame(videoId: string, time: number): Promise<Uint8Array | null>;
}

/**
 * Searches alone: what the image-search process of `serve --workers N` answers. A match's stored
 * frame is a store read any process makes itself (storedMatchFrame), not a call to that process.
 */
export type ImageSearcher = Pick<ImageSearchService, 'searchByImage'>;

export interface VideoFrame {
  time: number;
  /** RGB from readFrames, grey from readThumbnails; row-major. */
  data: Uint8Array;
  width: number;
  height: number;
}

export interface ImageSearchDeps {
  store: Store;
  log: Logger;
  descriptor: ImageDescriptor;
  matcher: OrbMatcher;
  /**
   * RGB frames of a video between two media times, at `fps` (omitted: every frame the file holds,
   * at its own presentation time), `width` pixels wide.
   */
  readFrames(video: VideoRecord, opts: { start: number; end: number; fps?: number; width: number }): AsyncIterable<VideoFrame>;
  /**
   * The same frames as grey thumbnails THUMBNAIL_WIDTH wide (grey-thumbnail.ts), resized by the
   * decoder from the `width` of readFrames: one byte a pixel to read instead of twelve.
   */
  readThumbnails(video: VideoRecord, opts: { start: number; end: number; fps?: number; width: number }): AsyncIterable<VideoFrame>;
  /** The first frame of a video or GIF file, encoded as PNG. */
  firstFrame(filePath: string): Promise<Buffer>;
  limits?: Partial<ImageSearchLimits>;
  /** Refine the moment from the media between the stored samples (locate.ts; default true). */
  refineMoment?: boolean;
}

export interface ImageSearchLimits {
  maxBytes: number;
  maxPixels: number;
  maxResults: number;
}

/** Largest accepted upload (a 4K PNG screenshot is ~10 MB). */
export const IMAGE_SEARCH_MAX_BYTES = 20 * 1024 * 1024;

/** A region of the screenshot in one orientation, as the CNN saw it. */
export interface QueryVariant {
  region: Box;
  mirror: boolean;
}

/** The screenshot in one orientation: its grey levels and ORB features. */
export interface OrientedQuery {
  grey: RawImage;
  features: LocalFeatures;
}

/** One candidate (video, moment): nearby shortlisted frames of a video folded together. */
export interface Group {
  videoId: string;
  time: number;
  from: number;
  to: number;
  /** Exact descriptor cosine of the group's best frame (0 for a ColorLayout-only candidate). */
  score: number;
  /** Rank-fusion score of CNN and ColorLayout ranks: the order candidates are verified in. */
  fused: number;
  variant: number;
  /** Times of every shortlisted frame folded into the group. */
  shortlisted: number[];
}
