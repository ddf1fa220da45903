// ModerationRepository on Elasticsearch, with the embedded repository's contract
// (test/store/conformance-ads.ts); index family in ads-schema.ts.
//
// Keyword lists: one document per list, changed by scripted updates (a single-document
// read-modify-write is atomic, so concurrent adds never lose a keyword), then the keywords version
// (a counter document, ads.ts ElasticCounter) is bumped: whoever sees the new version finds the
// new lists.
//
// Flags: "replaced per video together with the check record, in one transaction", so a video's
// check and all its flags are ONE document (a single-document write is atomic). A video's flags
// stay modest (one per matched cue and keyword) and are always replaced whole. listFlags pages
// through the video documents in videoId order and their flags in (start, id) order, with the
// embedded repository's cursor; the total is a sum of the documents' flag counts.
//
// Lists and video documents are written with refresh 'wait_for': listKeywordLists, listChecks and
// listFlags search them right after a write.
import type { Client, estypes } from '@elastic/elasticsearch';
import type { Page, PageArgs } from '../../domain.js';
import { BadInputError } from '../../errors.js';
import { decodeCursor, encodeCursor } from '../embedded/cursor.js';
import type { FlagRecord, KeywordListRecord, ModerationCheck, ModerationRepository } from '../moderation.js';
import { ElasticCounter, MODERATION_FAMILY, type ModerationIndex } from './ads-schema.js';
import { DEFAULT_BACKOFF, isNotFound, type ElasticRepositoryOptions } from './client.js';
import { asc, compareKeywords, CONFLICT_RETRIES, ElasticDocuments, filterQuery, migrateIndexFamily, SCAN_PAGE, type Query } from './documents.js';
import type { VersionedIndexResult } from './schema.js';

interface StoredVideoFlags extends ModerationCheck {
  flagCount: number;
  /** In (start, id) order. */
  flags: FlagRecord[];
}

/** Appends the keywords not already there (the editor's order), creating the list on first use. */
const ADD_SCRIPT = `
for (keyword in params.keywords) {
  if (!ctx._source.keywords.contains(keyword)) { ctx._source.keywords.add(keyword); }
}
ctx._source.updatedAt = params.updatedAt;
`.trim();

/** Removes the keywords; a list left empty is deleted. */
const REMOVE_SCRIPT = `
ctx._source.keywords.removeAll(params.keywords);
if (ctx._source.keywords.isEmpty()) { ctx.op = 'delete'; } else { ctx._source.updatedAt = params.updatedAt; }
`.trim();

function flagOrder(a: FlagRecord, b: FlagRecord): number {
  return a.start - b.start || compareKeywords(a.id, b.id);
}

function toFlag(flag: FlagRecord): FlagRecord {
  return {
    id: flag.id,
    videoId: flag.videoId,
    segmentId: flag.segmentId ?? null,
    cueId: flag.cueId,
    list: flag.list,
    keyword: flag.keyword,
    text: flag.text,
    start: flag.start,
    end: flag.end,
    kind: flag.kind,
  };
}

function toList(doc: KeywordListRecord): KeywordListRecord {
  return { name: doc.name, keywords: doc.keywords, updatedAt: doc.updatedAt };
}

interface FlagCursor {
  videoId: string;
  start: number;
  id: string;
}

/** The embedded repository's cursor, so cursors survive a backend switch; BAD_USER_INPUT when malformed. */
function flagCursor(raw: string): FlagCursor {
  const cursor = decodeCursor(raw, { videoId: 'string', start: 'number', id: 'string' });
  return { videoId: String(cursor.videoId), start: Number(cursor.start), id: String(cursor.id) };
}

export class ElasticModerationRepository implements ModerationRepository {
  private readonly version: ElasticCounter;

  constructor(
    private readonly documents: ElasticDocuments,
    private readonly index: Record<ModerationIndex, string>,
  ) {
    this.version = new ElasticCounter(documents, index['moderation-state'], 'keywords');
  }

  static async open(
    client: Client,
    options: ElasticRepositoryOptions = {},
  ): Promise<{ repository: ElasticModerationRepository; migration: Record<ModerationIndex, VersionedIndexResult> }> {
    const { aliases, results } = await migrateIndexFamily(client, options.prefix ?? 'vidsearch', MODERATION_FAMILY);
    return { repository: new ElasticModerationRepository(new ElasticDocuments(client, options.backoff ?? DEFAULT_BACKOFF), aliases), migration: results };
  }

  private updateList(list: string, request: Omit<estypes.UpdateRequest<KeywordListRecord, KeywordListRecord>, 'index' | 'id'>): Promise<estypes.UpdateResponse<KeywordListRecord>> {
    return this.documents.call(() =>
      this.documents.client.update<KeywordListRecord, KeywordListRecord, KeywordListRecord>({
        index: this.index['keyword-lists'],
        id: list,
        retry_on_conflict: CONFLICT_RETRIES,
        refresh: 'wait_for',
        _source: true,
        ...request,
      }),
    );
  }

  async addKeywords(list: string, keywords: readonly string[]): Promise<KeywordListRecord> {
    const updatedAt = new Date().toISOString();
    const response = await this.updateList(list, {
      script: { source: ADD_SCRIPT, lang: 'painless', params: { keywords: [...keywords], updatedAt } },
      upsert: { name: list, keywords: [], updatedAt },
      scripted_upsert: true,
    });
    await this.version.increment();
    const saved = response.get?._source;
    if (!saved) throw new Error(`Elasticsearch returned no source for keyword list ${list}`);
    return toList(saved);
  }

  async removeKeywords(list: string, keywords: readonly string[]): Promise<KeywordListRecord | null> {
    let saved: KeywordListRecord | null = null;
    try {
      const response = await this.updateList(list, {
        script: { source: REMOVE_SCRIPT, lang: 'painless', params: { keywords: [...keywords], updatedAt: new Date().toISOString() } },
      });
      saved = response.result === 'deleted' ? null : (response.get?._source ?? null);
    } catch (err) {
      // No such list: nothing to remove (the version still moves, as in the embedded store).
      if (!isNotFound(err)) throw err;
    }
    await this.version.increment();
    return saved ? toList(saved) : null;
  }

  async listKeywordLists(): Promise<KeywordListRecord[]> {
    return (await this.documents.searchAll<KeywordListRecord>(this.index['keyword-lists'], { match_all: {} }, [asc('name')])).map(toList);
  }

  keywordsVersion(): Promise<number> {
    return this.version.read();
  }

  async replaceFlags(check: ModerationCheck, flags: readonly FlagRecord[]): Promise<void> {
    const foreign = flags.find((f) => f.videoId !== check.videoId);
    if (foreign) throw new BadInputError(`flag ${foreign.id} belongs to video ${foreign.videoId}, not ${check.videoId}`, { videoId: check.videoId });
    // Flag ids are keys: a repeated id keeps the last record, as the embedded upsert does.
    const byId = new Map(flags.map((f) => [f.id, toFlag(f)]));
    const ordered = [...byId.values()].sort(flagOrder);
    const document: StoredVideoFlags = {
      videoId: check.videoId,
      keywordsVersion: check.keywordsVersion,
      videoUpdatedAt: check.videoUpdatedAt,
      flagCount: ordered.length,
      flags: ordered,
    };
    await this.documents.call(() => this.documents.client.index({ index: this.index['moderation-videos'], id: check.videoId, document, refresh: 'wait_for' }));
  }

  async listChecks(): Promise<ModerationCheck[]> {
    const docs = await this.documents.searchAll<ModerationCheck>(this.index['moderation-videos'], { match_all: {} }, [asc('videoId')], {
      includes: ['videoId', 'keywordsVersion', 'videoUpdatedAt'],
    });
    return docs.map((doc) => ({ videoId: doc.videoId, keywordsVersion: doc.keywordsVersion, videoUpdatedAt: doc.videoUpdatedAt }));
  }

  async deleteVideo(videoId: string): Promise<void> {
    await this.documents.deleteOne(this.index['moderation-videos'], videoId, 'wait_for');
  }

  async listFlags(page: PageArgs): Promise<Page<FlagRecord>> {
    const after = page.after ? flagCursor(page.after) : null;
    const wanted = page.first + 1;
    const isAfter = (flag: FlagRecord): boolean =>
      !after || flag.videoId !== after.videoId || flag.start > after.start || (flag.start === after.start && compareKeywords(flag.id, after.id) > 0);
    const filters: Query[] = [{ range: { flagCount: { gt: 0 } } }];
    if (after) filters.push({ range: { videoId: { gte: after.videoId } } });

    const found: FlagRecord[] = [];
    let totalCount = 0;
    let searchAfter: estypes.SortResults | undefined;
    // Each video document holds at least one flag: `wanted` documents are always enough for a page.
    const size = Math.min(wanted, SCAN_PAGE);
    for (let first = true; ; first = false) {
      const from = searchAfter;
      const response = await this.documents.call(() =>
        this.documents.client.search<StoredVideoFlags>({
          index: this.index['moderation-videos'],
          query: filterQuery(...filters),
          sort: [asc('videoId')],
          size,
          track_total_hits: false,
          // The total is of every flag, not of those after the cursor: a global sum, once.
          ...(first ? { aggs: { all: { global: {}, aggs: { flags: { sum: { field: 'flagCount' } } } } } } : {}),
          ...(from ? { search_after: from } : {}),
        }),
      );
      if (first) totalCount = (response.aggregations?.all as { flags?: { value: number | null } } | undefined)?.flags?.value ?? 0;
      const hits = response.hits.hits;
      for (const hit of hits) for (const flag of hit._source?.flags ?? []) if (found.length < wanted && isAfter(flag)) found.push(toFlag(flag));
      const last = hits.at(-1);
      if (found.length >= wanted || hits.length < size || !last?.sort) break;
      searchAfter = last.sort;
    }
    const items = found.slice(0, page.first);
    const last = items.at(-1);
    return {
      items,
      hasNextPage: found.length > page.first,
      endCursor: last ? encodeCursor({ videoId: last.videoId, start: last.start, id: last.id }) : (page.after ?? null),
      totalCount,
    };
  }
}
