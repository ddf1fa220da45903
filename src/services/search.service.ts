// Full-text search over subtitle/OCR cues and segment metadata, one hit per segment, with the
// segment, its video and the matching cue loaded in three batched reads per page.
import type { CueRecord, SegmentRecord, VideoRecord } from '../domain.js';
import { BadInputError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store, TextDocKind } from '../store/interfaces.js';
import { offsetAfter, offsetCursor, pageSize, type Connection } from './pagination.js';

export interface SegmentSearchFilter {
  videoIds?: readonly string[] | null;
  series?: string | null;
  /** Only segments overlapping [from, to] seconds of their video. */
  from?: number | null;
  to?: number | null;
  kinds?: readonly TextDocKind[] | null;
}

export interface SegmentHit {
  segment: SegmentRecord;
  video: VideoRecord;
  score: number;
  /** The matched text with query terms wrapped in <em>…</em>. */
  snippet: string;
  /** The subtitle/on-screen-text line that matched, when the match was a cue. */
  cue: CueRecord | null;
}

export interface SearchService {
  searchSegments(query: string, filter?: SegmentSearchFilter | null, first?: number | null, after?: string | null): Promise<Connection<SegmentHit>>;
}

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

export function createSearchService(deps: { store: Store; log: Logger }): SearchService {
  const { store, log } = deps;
  return {
    async searchSegments(query, filter, first, after) {
      const text = typeof query === 'string' ? query.trim() : '';
      if (text === '') throw new BadInputError('query must not be empty');
      if (text.length > MAX_QUERY_LENGTH) throw new BadInputError(`query is longer than ${MAX_QUERY_LENGTH} characters`);
      const size = pageSize(first);
      const offset = offsetAfter(after);
      const where = filter ?? {};
      checkFilter(where);

      const { hits, total } = await store.text.search({
        query: text,
        videoIds: where.videoIds ?? null,
        series: where.series ?? null,
        from: where.from ?? null,
        to: where.to ?? null,
        kinds: where.kinds?.length ? where.kinds : null,
        limit: size,
        offset,
      });
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
          // The text index outlived a deleted or re-indexed video: skip rather than fail the page.
          log.warn({ docId: hit.doc.id, segmentId: hit.doc.segmentId }, 'search hit without a catalog segment');
          return [];
        }
        const cue = hit.doc.cueId ? (cues.get(hit.doc.cueId) ?? null) : null;
        return [{ cursor: offsetCursor(offset + i + 1), node: { segment, video, score: hit.score, snippet: hit.snippet, cue } }];
      });
      return {
        edges,
        pageInfo: { hasNextPage: offset + hits.length < total, endCursor: edges.at(-1)?.cursor ?? after ?? null },
        totalCount: total,
      };
    },
  };
}
