// Image-to-drama search (以图搜剧): a screenshot in, the episode and timestamp out.
//
// 1. The upload is checked (size, magic bytes, pixel limit) and decoded; a GIF or video upload
//    uses its first frame.
// 2. Query regions: the picture with flat borders trimmed (letterbox, padding) plus the best
//    inner rectangles (a frame pasted into a player page), each in both orientations (mirrored
//    re-uploads). All variants go through the CNN in one batch. Each variant's compact
//    (projected, 128-d) descriptor shortlists frames in `frames-compact`; the shortlist is
//    re-ranked by the exact cosine of the full descriptors (`frames`), read back by id.
// 3. The best candidate (video, time) groups are re-ranked with a geometric check: the frames
//    around each candidate, as the index stored them (frameEvidence: a JPEG and ORB features
//    per sampled frame; no ffmpeg), are matched to the query with ORB + a RHO homography. The
//    frames the vector index holds go first, then the repeats of the strongest ones; among the
//    frames about as strong as the best, the one whose pixels correlate best with the aligned
//    screenshot gives `at`, which fixes near-duplicate neighbours a global descriptor cannot
//    tell apart. Groups are checked best first, and the check stops once one is geometrically
//    certain (calibrated similarity ≥ 0.9). Videos indexed before evidence was stored fall back
//    to ffmpeg windows (cached) and a 12 fps correlation pass over the best stretch.
// 4. `similarity` is calibrated (see calibratedSimilarity): ≥ 0.9 was the right video within
//    ±1 s 29 times in 30 on the dev sets (the miss: the right video, a still shot's other moment).
import { randomUUID } from 'node:crypto';
import { access, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { VideoRecord } from '../domain.js';
import { BadInputError, PayloadTooLargeError, UnsupportedMediaError } from '../errors.js';
import { FRAME_COLLECTION, FRAME_COLORLAYOUT_COLLECTION, FRAME_COMPACT_COLLECTION, frameEvidenceModel, type FramePayload } from '../indexers/frames.js';
import type { Logger } from '../logger.js';
import { extractFrame, streamFrames } from '../media/frames.js';
import type { MediaProbe } from '../media/probe.js';
import type { MediaTools } from '../media/tools.js';
import { colorLayout, colorLayoutDistance, colorLayoutFromVector, colorLayoutVector } from '../models/image-descriptors/color-layout.js';
import { findInnerRectangles, trimFlatBorders } from '../models/image-descriptors/content-rect.js';
import { alignedCorrelation, unpackFeatures, type LocalFeatures, type OrbMatcher } from '../models/image-descriptors/local-features.js';
import type { ImageDescriptor } from '../models/image-descriptors/mobilenet.js';
import { compactProjectionFor } from '../models/image-descriptors/projection.js';
import { decodeImage, DEFAULT_MAX_IMAGE_PIXELS, toGrey } from '../models/image.js';
import type { Box, RawImage } from '../models/types.js';
import type { Store, VectorFilter, VectorHit } from '../store/interfaces.js';

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
  /** The stretch of the video that looks like the screenshot. */
  from: number;
  to: number;
  /** The best-matching moment. */
  at: number;
  /** Calibrated 0..1: the chance this is the right video within ±1 s (see calibratedSimilarity). */
  similarity: number;
  /** The segment containing `at` (for its thumbnail), when the video has segments. */
  segmentId: string | null;
  /** Time of the stored evidence frame that verified the match (its picture: matchFrame), else null. */
  frameTime: number | null;
  /** Evidence: global descriptor cosine and geometric inliers (0 when not verified). */
  descriptorScore: number;
  inliers: number;
}

/** Where a query's time goes; `verifyDecode` and `refine` are ffmpeg reads (old indexes only). */
export type ImageSearchPhase =
  | 'decode'
  | 'variants'
  | 'cnn'
  | 'firstStage'
  | 'rerank'
  | 'verifyRead'
  | 'pictureDecode'
  | 'verifyDecode'
  | 'orbExtract'
  | 'orbMatch'
  | 'correlation'
  | 'refine'
  | 'answer';

/** Milliseconds and calls per phase, summed over one query (filled in when the caller passes it). */
export type PhaseTimings = Partial<Record<ImageSearchPhase, { ms: number; calls: number }>>;

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

export interface VideoFrame {
  time: number;
  data: Uint8Array;
  width: number;
  height: number;
}

export interface ImageSearchDeps {
  store: Store;
  log: Logger;
  descriptor: ImageDescriptor;
  matcher: OrbMatcher;
  /** RGB frames of a video between two media times, at `fps`, `width` pixels wide. */
  readFrames(video: VideoRecord, opts: { start: number; end: number; fps: number; width: number }): AsyncIterable<VideoFrame>;
  /** The first frame of a video or GIF file, encoded as PNG. */
  firstFrame(filePath: string): Promise<Buffer>;
  limits?: Partial<ImageSearchLimits>;
}

export interface ImageSearchLimits {
  maxBytes: number;
  maxPixels: number;
  maxResults: number;
}

/** Largest accepted upload (a 4K PNG screenshot is ~10 MB). */
export const IMAGE_SEARCH_MAX_BYTES = 20 * 1024 * 1024;
const DEFAULT_LIMITS: ImageSearchLimits = { maxBytes: IMAGE_SEARCH_MAX_BYTES, maxPixels: DEFAULT_MAX_IMAGE_PIXELS, maxResults: 50 };
const DEFAULT_FIRST = 10;
/** Queries are worked on at most this many pixels on the longer side (screenshots can be 4K). */
const QUERY_MAX_SIDE = 640;
/**
 * Inner rectangles (player pages) tried besides the trimmed picture: each costs two CNN passes
 * and two first-stage scans, and on the dev sets a second one never found what the first missed.
 */
const MAX_INNER_RECTANGLES = 1;
/** Candidates per query variant: from the compact first stage, and kept after exact re-ranking. */
const FIRST_STAGE_SHORTLIST = 200;
const SHORTLIST = 40;
/** Candidate groups that get the geometric check. */
const VERIFIED_GROUPS = 3;
/**
 * Seconds read (stored evidence) or decoded (ffmpeg) before and after a group's span, at most
 * VERIFY_MAX_SPAN_SEC in all: as wide as the collapse distance, so every shortlisted frame folded
 * into the group is within reach.
 */
const VERIFY_WINDOW_SEC = 2;
const VERIFY_MAX_SPAN_SEC = 6;
/** Within a window, the frames matched first: the shortlisted ones and their neighbours this close. */
const SEED_NEIGHBOUR_SEC = 0.5;
/** Seeds matched per group and orientation, nearest the group's best frame first (fast motion keeps every frame). */
const MAX_SEEDS = 3;
/** ORB matches per search after which no further group is started (~2–3 ms each). */
const MATCH_BUDGET = 16;
/**
 * ffmpeg fallback (no stored evidence): 2 fps is half the decode and ORB work of 4 fps, and no
 * loss: the 12 fps pass below finds the moment (hard set top1 0.906 → 0.938, dev 1.0 both).
 */
const VERIFY_FPS = 2;
const VERIFY_WIDTH = 320;
/** Frame rate of the fine time pass over the best match's stretch (correlation only). */
const REFINE_FPS = 12;
/** Fewer inliers than this is no geometric evidence at all (random matches reach ~6). */
const MIN_INLIERS = 10;
/** A verified match this likely to be right needs no other candidate checked. */
const CERTAIN_SIMILARITY = 0.9;
/** ffmpeg-decoded verification windows kept (their ORB features too): repeated and similar queries reuse them. */
const WINDOW_CACHE_SIZE = 16;
/** Hits of one video closer than this are one answer. */
const SAME_MOMENT_SEC = 2;

type Container = 'jpeg' | 'png' | 'webp' | 'gif' | 'video';

/** What the bytes are, from their magic numbers (the client's content type is not trusted). */
export function sniffContainer(bytes: Buffer): Container | null {
  const ascii = (start: number, end: number) => bytes.subarray(start, end).toString('latin1');
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (bytes.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'gif';
  if (bytes.length >= 12 && ascii(4, 8) === 'ftyp') return 'video'; // MP4, MOV, 3GP
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0x1a45dfa3) return 'video'; // Matroska, WebM
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'AVI ') return 'video';
  return null;
}

function decodeBase64(text: string, maxBytes: number): Buffer {
  const body = text.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  if (Math.floor((body.length * 3) / 4) > maxBytes) throw new PayloadTooLargeError(`imageBase64 is larger than ${maxBytes} bytes`);
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(body)) throw new BadInputError('imageBase64 is not valid base64');
  return Buffer.from(body, 'base64');
}

/**
 * The chance that a match is the right video within ±1 s, from its geometric evidence: a
 * logistic in ln(1 + inliers) fitted on the dev sets (image-search.json + image-search-hard.json
 * through this service, stored evidence and RHO fits: 193 returned matches, 42 right; refitted
 * until the fit it stops verification with no longer moved). On them: similarity ≥ 0.9 (≈ 70+
 * inliers) was right 29 times in 30, ≥ 0.5 (≈ 15+) 38 in 40, < 0.3 (< 8) 3 in 149. The miss at
 * the top is the right video at another moment of a talking head's still shot, where no pixel
 * tells the time. RHO keeps fewer inliers than RANSAC did, so the same certainty needs fewer.
 * Unverified matches get ~0.02 and are ordered by descriptor cosine among themselves.
 */
export function calibratedSimilarity(inliers: number): number {
  return 1 / (1 + Math.exp(-(CALIBRATION.bias + CALIBRATION.perLogInlier * Math.log1p(inliers))));
}

const CALIBRATION = { bias: -3.96, perLogInlier: 1.44 };

/** Adds each timed step's wall time to its phase; a no-op without a sink. */
interface PhaseClock {
  time<T>(phase: ImageSearchPhase, work: () => Promise<T>): Promise<T>;
  timeSync<T>(phase: ImageSearchPhase, work: () => T): T;
}

function phaseClock(sink: PhaseTimings | undefined): PhaseClock {
  const add = (phase: ImageSearchPhase, start: number) => {
    const entry = (sink![phase] ??= { ms: 0, calls: 0 });
    entry.ms += performance.now() - start;
    entry.calls += 1;
  };
  return {
    async time(phase, work) {
      if (!sink) return work();
      const start = performance.now();
      try {
        return await work();
      } finally {
        add(phase, start);
      }
    },
    timeSync(phase, work) {
      if (!sink) return work();
      const start = performance.now();
      try {
        return work();
      } finally {
        add(phase, start);
      }
    },
  };
}

interface QueryVariant {
  region: Box;
  mirror: boolean;
}

interface Verification {
  inliers: number;
  at: number;
  from: number;
  to: number;
  /** The oriented screenshot, its homography onto the best frame and their correlation, for the fine time pass. */
  alignment: { picture: RawImage; homography: number[]; correlation: number } | null;
  video: VideoRecord;
  /** Whether the frames came from stored evidence (else from ffmpeg). */
  stored: boolean;
}

/** A frame of a verification window; features and pixels are unpacked only when looked at. */
interface WindowFrame {
  time: number;
  /** Nearly repeats the last frame the vector index holds (stored evidence only). */
  repeat: boolean;
  features(): LocalFeatures;
  image(): Promise<RawImage>;
}

/** The screenshot in one orientation: its grey levels and ORB features. */
interface OrientedQuery {
  /** The picture's grey levels, computed once: the aligned correlation reads them for every frame. */
  grey: RawImage;
  features: LocalFeatures;
}

interface VerifySession {
  clock: PhaseClock;
  /** ORB matches spent so far (MATCH_BUDGET bounds them). */
  matched: number;
  /** Verification of each group checked so far, by video and time (null: nothing to verify with). */
  checked: Map<string, Verification | null>;
  orientedQuery(mirror: boolean): Promise<OrientedQuery>;
}

interface Scored {
  frame: WindowFrame;
  inliers: number;
  homography: number[] | null;
}

interface Group {
  videoId: string;
  time: number;
  from: number;
  to: number;
  score: number;
  variant: number;
  /** Times of every shortlisted frame folded into the group (the descriptor's own candidates). */
  shortlisted: number[];
}

export function createImageSearchService(deps: ImageSearchDeps): ImageSearchService {
  const { store, log, descriptor, matcher } = deps;
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const compact = compactProjectionFor(descriptor);
  const evidenceModel = frameEvidenceModel(matcher);
  // ffmpeg-decoded windows (older indexes); insertion-ordered: the first key is the least recently used.
  const windowCache = new Map<string, Promise<WindowFrame[]>>();

  async function loadQuery(request: ImageSearchRequest): Promise<RawImage> {
    const hasUpload = request.image !== null && request.image !== undefined;
    const hasBase64 = typeof request.imageBase64 === 'string' && request.imageBase64 !== '';
    if (hasUpload === hasBase64) throw new BadInputError('give exactly one of image (upload) or imageBase64');
    const bytes = hasUpload ? request.image! : decodeBase64(request.imageBase64!, limits.maxBytes);
    if (bytes.length > limits.maxBytes) throw new PayloadTooLargeError(`the image is larger than ${limits.maxBytes} bytes`);
    const container = sniffContainer(bytes);
    if (container === null) throw new BadInputError('the upload is not a JPEG, PNG, WebP, GIF or video file');
    let still = bytes;
    if (container === 'gif' || container === 'video') {
      const file = path.join(os.tmpdir(), `vidsearch-query-${randomUUID()}`);
      await writeFile(file, bytes);
      try {
        still = await deps.firstFrame(file);
      } catch (err) {
        throw new UnsupportedMediaError(`no frame could be decoded from the ${container} upload (${err instanceof Error ? err.message : String(err)})`);
      } finally {
        await rm(file, { force: true });
      }
    }
    return decodeImage(still, { label: 'the query image', maxPixels: limits.maxPixels, maxSide: QUERY_MAX_SIDE });
  }

  async function videoIdsFor(filter: ImageSearchFilter | null | undefined): Promise<string[] | null> {
    let ids = filter?.videoIds ? [...filter.videoIds] : null;
    if (filter?.series) {
      const inSeries: string[] = [];
      let after: string | null = null;
      do {
        const page = await store.catalog.listVideos({ series: filter.series }, { first: 500, after });
        inSeries.push(...page.items.map((v) => v.id));
        after = page.hasNextPage ? page.endCursor : null;
      } while (after);
      ids = ids ? ids.filter((id) => inSeries.includes(id)) : inSeries;
    }
    return ids;
  }

  async function colorLayoutSearch(image: RawImage, filter: VectorFilter | undefined, first: number): Promise<Group[]> {
    const layout = colorLayout(image);
    const hits = await store.vectors.search(FRAME_COLORLAYOUT_COLLECTION, colorLayoutVector(layout), SHORTLIST * 2, filter);
    // The index ranks by one weighted L2; LIRE's distance sums three channel distances, so the
    // shortlist is re-ordered with the exact LIRE distance of the stored coefficients.
    const points = await store.vectors.get(FRAME_COLORLAYOUT_COLLECTION, hits.map((h) => h.id));
    const ranked = hits
      .map((hit, i) => ({ hit, distance: points[i] ? colorLayoutDistance(layout, colorLayoutFromVector(points[i]!.vector)) : Infinity }))
      .sort((a, b) => a.distance - b.distance);
    // Not calibrated: a plain monotone map of LIRE's distance, as trace.moe shows it.
    return collapse(
      ranked.map(({ hit, distance }) => ({ hit, score: Math.max(0, 1 - distance / 100), variant: 0 })),
      first,
    );
  }

  async function matchFrame(query: OrientedQuery, frame: WindowFrame, clock: PhaseClock): Promise<Scored> {
    const match = await clock.time('orbMatch', () => matcher.match(query.features, frame.features()));
    return { frame, inliers: match.inliers, homography: match.homography };
  }

  /** Frames around a candidate as the index stored them; null when the video predates stored evidence. */
  async function storedWindow(video: VideoRecord, start: number, end: number, clock: PhaseClock): Promise<WindowFrame[] | null> {
    const rows = await clock.time('verifyRead', () => store.frameEvidence.window(video.id, evidenceModel, start, end));
    if (rows.length === 0) return null;
    return rows.map((row) => {
      let decoded: Promise<RawImage> | null = null;
      let unpacked: LocalFeatures | null = null;
      return {
        time: row.time,
        repeat: row.repeat,
        features: () => (unpacked ??= clock.timeSync('verifyRead', () => unpackFeatures(row.features))),
        image: () => (decoded ??= clock.time('pictureDecode', () => decodeEvidencePicture(row.picture))),
      };
    });
  }

  /** Frames decoded with ffmpeg (indexes without stored evidence), ORB features extracted here. */
  async function decodeWindow(video: VideoRecord, start: number, end: number, clock: PhaseClock): Promise<WindowFrame[]> {
    const decoded = await clock.time('verifyDecode', async () => {
      const frames: VideoFrame[] = [];
      for await (const frame of deps.readFrames(video, { start, end, fps: VERIFY_FPS, width: VERIFY_WIDTH })) frames.push(frame);
      return frames;
    });
    const out: WindowFrame[] = [];
    for (const frame of decoded) {
      const image: RawImage = { data: frame.data, width: frame.width, height: frame.height, channels: 3 };
      const features = await clock.time('orbExtract', () => matcher.extract(image));
      out.push({ time: frame.time, repeat: false, features: () => features, image: async () => image });
    }
    return out;
  }

  /** An ffmpeg-decoded window, from the cache when the same window was decoded lately. */
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

  /**
   * Geometric check: the frames of a window around each candidate group's span (the kept frames
   * the index stored, or every VERIFY_FPS frame that ffmpeg decodes for an older index) are
   * matched to the query; the frame with most inliers gives `at`. The whole screenshot is
   * matched, not the detected region: the homography itself locates the picture inside bars or
   * a player page, so a missed region costs nothing here.
   */
  /** What the verification passes of one search share: the screenshot's features, the match budget, results per group. */
  function verifySession(image: RawImage, clock: PhaseClock): VerifySession {
    const queries = new Map<boolean, Promise<OrientedQuery>>();
    return {
      clock,
      matched: 0,
      checked: new Map(),
      // The screenshot's features per orientation, extracted once per search.
      orientedQuery(mirror) {
        let query = queries.get(mirror);
        if (!query) {
          query = (async () => {
            const picture = mirror ? await mirrored(image) : image;
            return { grey: toGrey(picture), features: await clock.time('orbExtract', () => matcher.extract(picture)) };
          })();
          queries.set(mirror, query);
        }
        return query;
      },
    };
  }

  async function verify(groups: Group[], variants: QueryVariant[], session: VerifySession): Promise<Map<Group, Verification>> {
    const verified = new Map<Group, Verification>();
    for (const group of groups) {
      const key = `${group.videoId}:${group.time}`;
      if (session.checked.has(key)) {
        const earlier = session.checked.get(key);
        if (earlier) verified.set(group, earlier);
        if (earlier && calibratedSimilarity(earlier.inliers) >= CERTAIN_SIMILARITY) break;
        continue;
      }
      // Later groups only while the budget lasts: it bounds the slowest queries (nothing verifies).
      if (session.matched >= MATCH_BUDGET) break;
      const check = await verifyGroup(group, variants, session);
      session.checked.set(key, check);
      if (!check) continue;
      verified.set(group, check);
      // The rest are checked only while the answer is still open.
      if (calibratedSimilarity(check.inliers) >= CERTAIN_SIMILARITY) break;
    }
    return verified;
  }

  async function verifyGroup(group: Group, variants: QueryVariant[], session: VerifySession): Promise<Verification | null> {
    const { clock } = session;
    const video = await store.catalog.getVideo(group.videoId);
    if (!video) return null;
    const start = Math.max(0, group.from - VERIFY_WINDOW_SEC);
    const end = Math.min(video.durationSec > 0 ? video.durationSec : Infinity, group.to + VERIFY_WINDOW_SEC, start + VERIFY_MAX_SPAN_SEC);
    let frames: WindowFrame[];
    let stored = true;
    try {
      frames = (await storedWindow(video, start, end, clock)) ?? ((stored = false), await cachedDecodedWindow(video, start, end, clock));
    } catch (err) {
      // A moved or unreadable file loses its verification, not the whole answer.
      log.warn({ videoId: video.id, err }, 'image search: frames for verification could not be read');
      return null;
    }
    // Seeds: the frames the vector index holds next to the ones the descriptor shortlisted (a
    // window of repeats only: the one nearest the group). The orientation whose descriptor
    // found the group goes first; the other when it finds nothing (a mirrored descriptor can
    // win by chance on symmetric pictures).
    const kept = frames.filter((f) => !f.repeat);
    // A kept frame stands for its repeats: its span runs to the last of them.
    const spanEnd = new Map<WindowFrame, number>();
    let owner: WindowFrame | null = null;
    for (const frame of frames) {
      if (!frame.repeat) owner = frame;
      if (owner) spanEnd.set(owner, frame.time);
    }
    const offShortlist = (f: WindowFrame) => Math.min(...group.shortlisted.map((t) => Math.max(0, f.time - SEED_NEIGHBOUR_SEC - t, t - spanEnd.get(f)! - SEED_NEIGHBOUR_SEC)));
    const nearShortlist = kept.filter((f) => offShortlist(f) === 0).sort((a, b) => Math.abs(a.time - group.time) - Math.abs(b.time - group.time));
    const seeds = (nearShortlist.length > 0 ? nearShortlist : kept.length > 0 ? kept : [frames.reduce((a, b) => (Math.abs(b.time - group.time) < Math.abs(a.time - group.time) ? b : a))]).slice(0, MAX_SEEDS);
    const preferred = variants[group.variant]!.mirror;
    let scored: Scored[] = [];
    let query: OrientedQuery | null = null;
    for (const mirror of [preferred, !preferred]) {
      query = await session.orientedQuery(mirror);
      scored = [];
      for (const frame of seeds) scored.push(await matchFrame(query, frame, clock));
      session.matched += seeds.length;
      if (Math.max(0, ...scored.map((s) => s.inliers)) >= MIN_INLIERS) break;
    }
    let top = Math.max(0, ...scored.map((s) => s.inliers));
    if (top === 0 || !query) return null;
    // The repeats of the strongest seeds: a still shot's frames differ by a mouth or a hand, and
    // the moment is among them.
    if (top >= MIN_INLIERS) {
      const strong = new Set(scored.filter((s) => s.inliers >= 0.7 * top).map((s) => s.frame));
      owner = kept.length > 0 ? null : seeds[0]!;
      for (const frame of frames) {
        if (!frame.repeat) owner = frame;
        else if (owner && strong.has(owner) && !seeds.includes(frame)) {
          scored.push(await matchFrame(query, frame, clock));
          session.matched++;
        }
      }
      top = Math.max(...scored.map((s) => s.inliers));
    }
    // Frames about as good as the best are one stretch (from/to). Within it, `at` is the frame
    // whose pixels agree best with the screenshot aligned by the strongest frame's homography
    // (inliers alone barely separate neighbouring frames of a slow shot, and one shared
    // alignment leaves only the content to differ); without an alignment, the best inlier count.
    const alike = scored.filter((s) => s.inliers >= 0.7 * top);
    const strongest = alike.reduce((a, b) => (b.inliers > a.inliers ? b : a));
    let best = strongest;
    let bestCorrelation = -2;
    if (top >= MIN_INLIERS && strongest.homography) {
      for (const candidate of alike) {
        const pixels = await candidate.frame.image();
        const correlation = clock.timeSync('correlation', () => alignedCorrelation(query!.grey, pixels, strongest.homography!));
        if (correlation !== null && correlation > bestCorrelation) [best, bestCorrelation] = [candidate, correlation];
      }
    }
    return {
      inliers: top,
      at: best.frame.time,
      from: Math.min(...alike.map((s) => s.frame.time)),
      to: Math.max(...alike.map((s) => s.frame.time)),
      alignment: strongest.homography ? { picture: query.grey, homography: strongest.homography, correlation: bestCorrelation } : null,
      video,
      stored,
    };
  }

  /**
   * Fine time pass for an ffmpeg-verified match (indexes without stored evidence): every frame of
   * its stretch at REFINE_FPS is compared with the screenshot under the best frame's homography
   * (no feature matching, so cheap), and the most correlated frame becomes `at`. The ORB pass
   * samples at VERIFY_FPS, which in a slow shot leaves the exact frame unseen. Stored evidence
   * needs no such pass: every sampled frame of the stretch was matched with its own homography.
   */
  async function refineTime(check: Verification, clock: PhaseClock): Promise<void> {
    const alignment = check.alignment;
    if (!alignment || check.stored) return;
    let best = { time: check.at, correlation: alignment.correlation };
    // The whole stretch: capping it at ±1 s around the ORB pass's best frame lost a hard-set
    // query (a still stretch whose true moment lay further off).
    const start = Math.max(0, check.from - 1 / VERIFY_FPS);
    const end = check.to + 1 / VERIFY_FPS;
    try {
      await clock.time('refine', async () => {
        for await (const frame of deps.readFrames(check.video, { start, end, fps: REFINE_FPS, width: VERIFY_WIDTH })) {
          const pixels: RawImage = { data: frame.data, width: frame.width, height: frame.height, channels: 3 };
          const correlation = clock.timeSync('correlation', () => alignedCorrelation(alignment.picture, pixels, alignment.homography));
          if (correlation !== null && correlation > best.correlation) best = { time: frame.time, correlation };
        }
      });
    } catch (err) {
      log.warn({ videoId: check.video.id, err }, 'image search: frames for time refinement could not be read');
      return;
    }
    check.at = best.time;
  }

  /**
   * Two stages: each variant's compact descriptor shortlists frames, then every shortlisted frame
   * is scored by the exact cosine of the full descriptors against every variant (its best counts).
   */
  async function shortlist(
    vectors: readonly Float32Array[],
    scanFrom: number,
    candidates: Map<string, VectorHit>,
    filter: VectorFilter | undefined,
    clock: PhaseClock,
  ): Promise<{ hit: VectorHit; score: number; variant: number }[]> {
    // Variants before scanFrom were scanned by an earlier pass; their candidates are in `candidates`.
    for (const vector of vectors.slice(scanFrom)) {
      const hits = await clock.time('firstStage', () => store.vectors.search(FRAME_COMPACT_COLLECTION, compact.project(vector), FIRST_STAGE_SHORTLIST, filter));
      for (const hit of hits) candidates.set(hit.id, hit);
    }
    const ids = [...candidates.keys()];
    const full = await clock.time('rerank', () => store.vectors.get(FRAME_COLLECTION, ids));
    const perVariant = vectors.map(() => [] as { hit: VectorHit; score: number; variant: number }[]);
    full.forEach((point, i) => {
      if (!point) return;
      const hit = candidates.get(ids[i]!)!;
      vectors.forEach((vector, variant) => perVariant[variant]!.push({ hit, score: dot(vector, point.vector), variant }));
    });
    const best = new Map<string, { hit: VectorHit; score: number; variant: number }>();
    for (const scored of perVariant) {
      for (const candidate of scored.sort((a, b) => b.score - a.score).slice(0, SHORTLIST)) {
        const seen = best.get(candidate.hit.id);
        if (!seen || candidate.score > seen.score) best.set(candidate.hit.id, candidate);
      }
    }
    return [...best.values()].sort((a, b) => b.score - a.score);
  }

  return {
    async matchFrame(videoId, time) {
      // The window may lead with the frame a repeat repeats: only the exact time answers.
      const frames = await store.frameEvidence.window(videoId, evidenceModel, time, time);
      return frames.find((f) => Math.abs(f.time - time) < 0.0005)?.picture ?? null;
    },

    async searchByImage(request, options = {}) {
      const first = request.first ?? DEFAULT_FIRST;
      if (!Number.isInteger(first) || first < 1 || first > limits.maxResults) {
        throw new BadInputError(`first must be a whole number from 1 to ${limits.maxResults}`);
      }
      const clock = phaseClock(options.phases);
      const image = await clock.time('decode', () => loadQuery(request));
      const videoIds = await videoIdsFor(request.filter);
      if (videoIds && videoIds.length === 0) return [];
      const filter: VectorFilter | undefined = videoIds ? { videoIds } : undefined;

      let groups: Group[];
      let verified = new Map<Group, Verification>();
      if (options.method === 'colorlayout') {
        groups = await colorLayoutSearch(image, filter, first);
      } else {
        // Upright variants first; the mirrored ones (CNN passes and first-stage scans) only when
        // the upright pass leaves the answer open: a certain match needs no more candidates, and
        // with the ORB budget spent no new candidate could be verified.
        const found = clock.timeSync('variants', () => queryVariants(image));
        const variants = [...found.filter((v) => !v.mirror), ...found.filter((v) => v.mirror)];
        const upright = variants.filter((v) => !v.mirror).length;
        const describe = (vs: QueryVariant[]) => clock.time('cnn', () => descriptor.describe(vs.map((v) => ({ image, region: v.region, mirror: v.mirror }))));
        const candidates = new Map<string, VectorHit>();
        const session = verifySession(image, clock);
        // The CNN runs on its own thread: the screenshot's ORB features are extracted meanwhile.
        let [vectors] = await Promise.all([describe(variants.slice(0, upright)), session.orientedQuery(false)]);
        groups = collapse(await shortlist(vectors, 0, candidates, filter, clock), Math.max(first, VERIFIED_GROUPS));
        verified = await verify(groups.slice(0, VERIFIED_GROUPS), variants, session);
        if (session.matched < MATCH_BUDGET && ![...verified.values()].some((check) => calibratedSimilarity(check.inliers) >= CERTAIN_SIMILARITY)) {
          const [mirroredVectors] = await Promise.all([describe(variants.slice(upright)), session.orientedQuery(true)]);
          vectors = [...vectors, ...mirroredVectors];
          groups = collapse(await shortlist(vectors, upright, candidates, filter, clock), Math.max(first, VERIFIED_GROUPS));
          verified = await verify(groups.slice(0, VERIFIED_GROUPS), variants, session);
        }
        const strongest = [...verified.entries()].sort((a, b) => b[1].inliers - a[1].inliers)[0];
        if (strongest && strongest[1].inliers >= MIN_INLIERS) await refineTime(strongest[1], clock);
      }

      return clock.time('answer', async () => {
        const videos = new Map((await store.catalog.getVideos([...new Set(groups.map((g) => g.videoId))])).filter((v): v is VideoRecord => v !== null).map((v) => [v.id, v]));
        const matches: ImageMatch[] = [];
        for (const group of groups) {
          const video = videos.get(group.videoId);
          if (!video) continue;
          const check = verified.get(group);
          const inliers = check && check.inliers >= MIN_INLIERS ? check.inliers : 0;
          const at = inliers > 0 ? check!.at : group.time;
          matches.push({
            video,
            at,
            from: inliers > 0 ? Math.min(check!.from, at) : group.from,
            to: inliers > 0 ? Math.max(check!.to, at) : group.to,
            similarity: options.method === 'colorlayout' ? group.score : calibratedSimilarity(inliers),
            segmentId: (await store.catalog.segmentAt(video.id, at))?.id ?? null,
            frameTime: inliers > 0 && check!.stored ? check!.at : null,
            descriptorScore: group.score,
            inliers,
          });
        }
        return mergeSameMoments(matches.sort((a, b) => b.similarity - a.similarity || b.descriptorScore - a.descriptorScore)).slice(0, first);
      });
    },
  };
}

/** Trimmed picture plus inner rectangles (player pages), each in both orientations. */
export function queryVariants(image: RawImage): QueryVariant[] {
  const regions: Box[] = [trimFlatBorders(image)];
  for (const inner of findInnerRectangles(image, MAX_INNER_RECTANGLES)) {
    const region = trimFlatBorders(image, inner.box);
    const duplicate = regions.some((r) => Math.abs(r.x - region.x) + Math.abs(r.y - region.y) + Math.abs(r.width - region.width) + Math.abs(r.height - region.height) < 8);
    if (!duplicate) regions.push(region);
  }
  return regions.flatMap((region) => [
    { region, mirror: false },
    { region, mirror: true },
  ]);
}

/**
 * Two verified groups of one video that overlap are one still stretch found twice (a long shot
 * split by the shortlist): they become one answer spanning both.
 */
function mergeSameMoments(ranked: readonly ImageMatch[]): ImageMatch[] {
  const kept: ImageMatch[] = [];
  for (const match of ranked) {
    const twin = kept.find((k) => k.video.id === match.video.id && match.from <= k.to + SAME_MOMENT_SEC / 2 && match.to >= k.from - SAME_MOMENT_SEC / 2);
    if (!twin) {
      kept.push({ ...match });
      continue;
    }
    if (twin.inliers > 0 && match.inliers >= 0.9 * twin.inliers) {
      twin.from = Math.min(twin.from, match.from);
      twin.to = Math.max(twin.to, match.to);
      // Exactly as good: the moment between the two is the safer guess.
      if (match.inliers === twin.inliers) twin.at = (twin.at + match.at) / 2;
    }
  }
  return kept;
}

/** One answer per (video, moment): the best-scoring frame of each cluster of nearby hits. */
function collapse(ranked: readonly { hit: VectorHit; score: number; variant: number }[], limit: number): Group[] {
  const groups: Group[] = [];
  for (const { hit, score, variant } of ranked) {
    const payload = hit.payload as Partial<FramePayload>;
    if (typeof payload.videoId !== 'string' || typeof payload.time !== 'number') continue;
    const time = payload.time;
    const same = groups.find((g) => g.videoId === payload.videoId && Math.abs(g.time - time) < SAME_MOMENT_SEC);
    if (same) same.shortlisted.push(time);
    else if (groups.length < limit) groups.push({ videoId: payload.videoId, time, from: payload.from ?? time, to: payload.to ?? time, score, variant, shortlisted: [time] });
  }
  return groups;
}

/** Cosine of two L2-normalised descriptors. */
function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/**
 * A stored evidence picture as RGB: the aligned correlation turns both sides grey with the same
 * weights (sharp's own greyscale differs from them and costs ~0.03 correlation).
 */
async function decodeEvidencePicture(jpeg: Uint8Array): Promise<RawImage> {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
}

async function mirrored(image: RawImage): Promise<RawImage> {
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .flop()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: image.channels };
}
/** The media side of the service, on ffmpeg: windows of frames for verification, first frames of uploads. */
export function ffmpegFrameSource(tools: MediaTools): Pick<ImageSearchDeps, 'readFrames' | 'firstFrame'> {
  return {
    async *readFrames(video, opts) {
      // A moved or deleted file fails here in microseconds, not after an ffmpeg start per window.
      await access(video.path);
      // The catalog already holds what a probe would say: saves an ffprobe run per window.
      const probe: MediaProbe = {
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
      for await (const frame of streamFrames(tools, video.path, { ...opts, pixFmt: 'rgb24', probe })) {
        yield { time: frame.time, data: new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.length), width: frame.width, height: frame.height };
      }
    },
    firstFrame: (filePath) => extractFrame(tools, filePath, 0, { format: 'png' }),
  };
}
