// Full-text search over subtitle/OCR cues and segment metadata, one hit per segment, with the
// segment, its video and the matching cue loaded in three batched reads per page. Given a picture
// too, the search is hybrid: the image search's matches (mapped onto the segments that contain
// them) are fused with the text hits by a weighted sum of normalised scores (see fusion.ts).
import { createHash } from 'node:crypto';
import type { CueRecord, SegmentRecord, VideoRecord } from '../domain.js';
import { BadInputError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store, TextDocKind, TextHit } from '../store/interfaces.js';
import { DEFAULT_FUSION_WEIGHTS, fuseScores, type FusionWeights } from './fusion.js';
import type { ImageMatch, ImageSearchService } from './image-search/index.js';
import { offsetAfter, offsetCursor, pageSize, type Connection } from './pagination.js';

export interface SegmentSearchFilter {
  videoIds?: readonly string[] | null;
  series?: string | null;
  /** Only segments overlapping [from, to] seconds of their video. */
  from?: number | null;
  to?: number | null;
  /** Which texts may match; the picture side of a hybrid search is not text and ignores it. */
  kinds?: readonly TextDocKind[] | null;
}

/** A picture to search by alongside the text ("looks like this and they say …"): one of the two. */
export interface SegmentSearchPicture {
  /** The encoded image bytes (an upload). */
  image?: Buffer | null;
  imageBase64?: string | null;
}

export interface SegmentHit {
  segment: SegmentRecord;
  video: VideoRecord;
  /** Text only: the text engine's relevance. Hybrid: the fused score, 0..1. */
  score: number;
  /** The matched text with query terms wrapped in <em>…</em> ('' when only the picture matched). */
  snippet: string;
  /** The subtitle/on-screen-text line that matched, when the match was a cue. */
  cue: CueRecord | null;
  /** The text relevance divided by this search's best (0..1); null when the text did not match. */
  textScore: number | null;
  /** The picture's calibrated similarity (0..1); null without a picture or when it did not match. */
  vectorScore: number | null;
}

/** A page of hits; `totalCount` is exact up to TEXT_TOTAL_BOUND segments, and `totalCountIsExact` says whether it is. */
export interface SegmentHitConnection extends Connection<SegmentHit> {
  totalCountIsExact: boolean;
}

export interface SearchService {
  searchSegments(
    query: string,
    filter?: SegmentSearchFilter | null,
    first?: number | null,
    after?: string | null,
    picture?: SegmentSearchPicture | null,
  ): Promise<SegmentHitConnection>;
}

/**
 * Hybrid searches fuse at most this many text hits and picture matches (the best of each side),
 * so at most HYBRID_MAX_CANDIDATES segments; pages walk that fused list. 50 is the most matches
 * the image search returns.
 */
export const HYBRID_TEXT_CANDIDATES = 100;
export const HYBRID_IMAGE_CANDIDATES = 50;
export const HYBRID_MAX_CANDIDATES = HYBRID_TEXT_CANDIDATES + HYBRID_IMAGE_CANDIDATES;

const MAX_QUERY_LENGTH = 500;
const MAX_VIDEO_IDS = 1000;

function checkFilter(filter: SegmentSearchFilter): void {
  for (const [name, value] of [['from', filter.from], ['to', filter.to]] as const) {
    if (value !== null && value !== undefined && (!Number.isFinite(value) || value < 0)) {
      throw new BadInputError(`filter.${name} must be a number of seconds ≥ 0`, { [name]: value });
    }
  }
  if (filter.from != null && filter.to != null && filter.from > filter.to) {
    throw new BadInputError('filter.from must not be after filter.to', { from: filter.from, to: filter.to });
  }
  if (filter.videoIds && filter.videoIds.length > MAX_VIDEO_IDS) {
    throw new BadInputError(`filter.videoIds holds more than ${MAX_VIDEO_IDS} ids`);
  }
}

function byId<T extends { id: string }>(rows: readonly (T | null)[]): Map<string, T> {
  return new Map(rows.filter((row): row is T => row !== null).map((row) => [row.id, row]));
}

export interface SearchServiceDeps {
  store: Store;
  log: Logger;
  /** The picture side of hybrid searches; without it a search with a picture is refused. */
  imageSearch?: ImageSearchService;
  /** Hybrid fusion weights (normalised, see fusion.ts); the documented defaults when absent. */
  hybridWeights?: FusionWeights;
}

function overlaps(segment: SegmentRecord, filter: SegmentSearchFilter): boolean {
  return (filter.from == null || segment.end >= filter.from) && (filter.to == null || segment.start <= filter.to);
}

/**
 * Picture matches of recent hybrid searches, by picture and filter: paging through one search
 * would otherwise rerun the image search (~0.1–0.5 s) for every page. Short-lived, so a library
 * that changed shows up soon; segments deleted meanwhile are dropped when a page is built.
 */
const PICTURE_CACHE_SIZE = 32;
const PICTURE_CACHE_TTL_MS = 2 * 60_000;

export function createSearchService(deps: SearchServiceDeps): SearchService {
  const { store, log } = deps;
  const weights = deps.hybridWeights ?? DEFAULT_FUSION_WEIGHTS;
  // Insertion-ordered: the first key is the least recently used.
  const pictureMatches = new Map<string, { since: number; matches: Promise<ImageMatch[]> }>();

  function matchesOfPicture(imageSearch: ImageSearchService, picture: SegmentSearchPicture, where: SegmentSearchFilter): Promise<ImageMatch[]> {
    const filter = { series: where.series ?? null, videoIds: where.videoIds ?? null };
    const key = createHash('sha256')
      .update(picture.image ?? picture.imageBase64 ?? '')
      .update(JSON.stringify(filter))
      .digest('hex');
    const now = Date.now();
    const cached = pictureMatches.get(key);
    pictureMatches.delete(key);
    if (cached && now - cached.since < PICTURE_CACHE_TTL_MS) {
      pictureMatches.set(key, cached);
      return cached.matches;
    }
    const entry = { since: now, matches: imageSearch.searchByImage({ image: picture.image ?? null, imageBase64: picture.imageBase64 ?? null, filter, first: HYBRID_IMAGE_CANDIDATES }) };
    // A refused picture is not remembered: its typed error reaches the caller every time.
    entry.matches.catch(() => {
      if (pictureMatches.get(key) === entry) pictureMatches.delete(key);
    });
    pictureMatches.set(key, entry);
    if (pictureMatches.size > PICTURE_CACHE_SIZE) pictureMatches.delete(pictureMatches.keys().next().value!);
    return entry.matches;
  }

  function textQuery(text: string, where: SegmentSearchFilter, limit: number, offset: number) {
    return store.text.search({
      query: text,
      videoIds: where.videoIds ?? null,
      series: where.series ?? null,
      from: where.from ?? null,
      to: where.to ?? null,
      kinds: where.kinds?.length ? where.kinds : null,
      limit,
      offset,
    });
  }

  /** The text index outlived a deleted or re-indexed video: skip the hit rather than fail the page. */
  function warnOrphan(hit: TextHit): void {
    log.warn({ docId: hit.doc.id, segmentId: hit.doc.segmentId }, 'search hit without a catalog segment');
  }

  async function textSearch(text: string, where: SegmentSearchFilter, size: number, offset: number, after: string | null | undefined): Promise<SegmentHitConnection> {
    // One hit more than the page says whether another page follows: past the total bound the
    // total no longer can.
    const found = await textQuery(text, where, size + 1, offset);
    const hits = found.hits.slice(0, size);
    // textScore needs the query's best score: the first hit, or (on later pages) one more read.
    const best = offset === 0 || hits.length === 0 ? (hits[0]?.score ?? 0) : ((await textQuery(text, where, 1, 0)).hits[0]?.score ?? 0);
    const segmentIds = hits.map((hit) => hit.doc.segmentId);
    const videoIds = [...new Set(hits.map((hit) => hit.doc.videoId))];
    const cueIds = hits.map((hit) => hit.doc.cueId).filter((id): id is string => id !== null);
    const [segments, videos, cues] = await Promise.all([
      segmentIds.length ? store.catalog.getSegmentsByIds(segmentIds).then(byId) : new Map<string, SegmentRecord>(),
      videoIds.length ? store.catalog.getVideos(videoIds).then(byId) : new Map<string, VideoRecord>(),
      cueIds.length ? store.catalog.getCuesByIds(cueIds).then(byId) : new Map<string, CueRecord>(),
    ]);

    const edges = hits.flatMap((hit, i) => {
      const segment = segments.get(hit.doc.segmentId);
      const video = videos.get(hit.doc.videoId);
      if (!segment || !video) {
        warnOrphan(hit);
        return [];
      }
      const cue = hit.doc.cueId ? (cues.get(hit.doc.cueId) ?? null) : null;
      const textScore = best > 0 ? Math.min(1, Math.max(0, hit.score) / best) : 0;
      const node: SegmentHit = { segment, video, score: hit.score, snippet: hit.snippet, cue, textScore, vectorScore: null };
      return [{ cursor: offsetCursor(offset + i + 1), node }];
    });
    return {
      edges,
      pageInfo: { hasNextPage: found.hits.length > size, endCursor: edges.at(-1)?.cursor ?? after ?? null },
      totalCount: found.total,
      totalCountIsExact: found.totalIsExact,
    };
  }

  /**
   * Text hits and picture matches fused into one list of at most HYBRID_MAX_CANDIDATES segments,
   * rebuilt per page (the text side is deterministic, the picture side cached), with offset
   * cursors over it.
   */
  async function hybridSearch(
    text: string,
    picture: SegmentSearchPicture,
    where: SegmentSearchFilter,
    size: number,
    offset: number,
    after: string | null | undefined,
  ): Promise<SegmentHitConnection> {
    if (!deps.imageSearch) throw new BadInputError('this server does not search by image');
    const [textSide, matches] = await Promise.all([
      text === '' ? { hits: [] } : textQuery(text, where, HYBRID_TEXT_CANDIDATES, 0),
      matchesOfPicture(deps.imageSearch, picture, where),
    ]);

    // A match stands for the segment containing its best moment; several matches in one segment
    // count once, with the best similarity (matches arrive best first).
    const matchBySegment = new Map<string, ImageMatch>();
    for (const match of matches) {
      if (match.segmentId && !matchBySegment.has(match.segmentId)) matchBySegment.set(match.segmentId, match);
    }
    const candidateIds = [...new Set([...textSide.hits.map((hit) => hit.doc.segmentId), ...matchBySegment.keys()])];
    const segments = candidateIds.length ? byId(await store.catalog.getSegmentsByIds(candidateIds)) : new Map<string, SegmentRecord>();
    // Segments gone from the catalog, and picture matches outside the time filter (the text
    // index applied it to its side), are no candidates: totalCount counts only what can be paged.
    const textHits = textSide.hits.filter((hit) => {
      if (!segments.has(hit.doc.segmentId)) warnOrphan(hit);
      return segments.has(hit.doc.segmentId);
    });
    const pictureSide = [...matchBySegment].filter(([segmentId]) => {
      const segment = segments.get(segmentId);
      return segment !== undefined && overlaps(segment, where);
    });
    const fused = fuseScores(
      textHits.map((hit) => ({ key: hit.doc.segmentId, score: hit.score })),
      pictureSide.map(([segmentId, match]) => ({ key: segmentId, similarity: match.similarity })),
      weights,
    );

    const page = fused.slice(offset, offset + size);
    const textBySegment = new Map(textHits.map((hit) => [hit.doc.segmentId, hit]));
    const pageText = page.map((item) => textBySegment.get(item.key)).filter((hit): hit is TextHit => hit !== undefined);
    const knownVideos = new Map(pictureSide.map(([, match]) => [match.video.id, match.video]));
    const videoIds = [...new Set(pageText.map((hit) => hit.doc.videoId))].filter((id) => !knownVideos.has(id));
    const cueIds = pageText.map((hit) => hit.doc.cueId).filter((id): id is string => id !== null);
    const [videos, cues] = await Promise.all([
      videoIds.length ? store.catalog.getVideos(videoIds).then(byId) : new Map<string, VideoRecord>(),
      cueIds.length ? store.catalog.getCuesByIds(cueIds).then(byId) : new Map<string, CueRecord>(),
    ]);

    const edges = page.flatMap((item, i) => {
      const segment = segments.get(item.key)!;
      const hit = textBySegment.get(item.key);
      const video = knownVideos.get(segment.videoId) ?? videos.get(segment.videoId);
      if (!video) {
        log.warn({ segmentId: segment.id, videoId: segment.videoId }, 'search hit without a catalog video');
        return [];
      }
      const node: SegmentHit = {
        segment,
        video,
        score: item.score,
        snippet: hit?.snippet ?? '',
        cue: hit?.doc.cueId ? (cues.get(hit.doc.cueId) ?? null) : null,
        textScore: item.textScore,
        vectorScore: item.vectorScore,
      };
      return [{ cursor: offsetCursor(offset + i + 1), node }];
    });
    return {
      edges,
      pageInfo: { hasNextPage: offset + page.length < fused.length, endCursor: edges.at(-1)?.cursor ?? after ?? null },
      totalCount: fused.length,
      totalCountIsExact: true,
    };
  }

  return {
    async searchSegments(query, filter, first, after, picture) {
      const text = typeof query === 'string' ? query.trim() : '';
      const hasPicture = picture != null && (picture.image != null || picture.imageBase64 != null);
      if (text === '' && !hasPicture) throw new BadInputError('query must not be empty (it may be empty only when an image is given)');
      if (text.length > MAX_QUERY_LENGTH) throw new BadInputError(`query is longer than ${MAX_QUERY_LENGTH} characters`);
      const size = pageSize(first);
      const offset = offsetAfter(after);
      const where = filter ?? {};
      checkFilter(where);
      return hasPicture ? hybridSearch(text, picture, where, size, offset, after) : textSearch(text, where, size, offset, after);
    },
  };
}
