// TextIndex on Elasticsearch, with the same contract as the embedded FTS5 index
// (test/store/conformance.ts): every term must match (falling back to any term when no document
// has them all), BM25 ranking, one hit per segment (field collapsing on segmentId, the best
// document of each segment wins), `total` = distinct matching segments up to TEXT_TOTAL_BOUND (past
// it the bound, with `totalIsExact` false), and a snippet that is the original text, HTML-escaped,
// with matched terms in <em>…</em>. The count is a cardinality aggregation on segmentId, not
// track_total_hits: hits.total counts documents, and a segment has several.
//
// Writes: the shared bulk helper (bulk.ts) with idempotent `_id`s (= TextDocument.id), retries of
// 429/503 with back-off; `refresh: wait_for` so a finished indexing job is searchable at once.
import type { Client, estypes } from '@elastic/elasticsearch';
import { boundedTotal, TEXT_TOTAL_BOUND, type TextDocument, type TextHit, type TextIndex, type TextQuery, type TextSearchResult } from '../interfaces.js';
import { bulkIndex } from './bulk.js';
import { elasticClient, type ElasticOptions } from './client.js';
import { migrateTextIndex, textIndexNames, type MigrationResult } from './schema.js';

/** Fields queried together; see schema.ts for what each analyses. */
const FIELDS = ['text', 'text.en', 'text.gram'] as const;
/**
 * Distinct segments are counted exactly up to this many (Elasticsearch's maximum), more than the
 * total bound, so every count at or under the bound is exact.
 */
const CARDINALITY_PRECISION = 40_000;
// Control characters never appear in subtitle text, so they mark highlights unambiguously.
const MARK_OPEN = '\u0001';
const MARK_CLOSE = '\u0002';

/** The indexed document: exactly a TextDocument's fields (stored() drops anything else). */
type StoredDoc = TextDocument;

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const escapeHtml = (text: string): string => text.replace(/[&<>"]/g, (c) => HTML_ENTITIES[c]!);

/** [start, end) ranges of the original text that a marked-up highlight wraps. */
export function markedRanges(marked: string): [number, number][] {
  const ranges: [number, number][] = [];
  let offset = 0;
  let open = -1;
  for (const char of marked) {
    if (char === MARK_OPEN) open = offset;
    else if (char === MARK_CLOSE) {
      if (open >= 0) ranges.push([open, offset]);
      open = -1;
    } else offset += char.length;
  }
  return ranges;
}

/** The original text, HTML-escaped, with the union of every field's highlighted ranges in <em>. */
export function renderSnippet(text: string, highlights: readonly string[]): string {
  const ranges = highlights.flatMap(markedRanges).sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: [number, number][] = [];
  for (const [start, end] of ranges) {
    const last = merged[merged.length - 1];
    // Touching ranges merge too: bigrams 技术|术上|上的 highlight one run, not three.
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  let out = '';
  let at = 0;
  for (const [start, end] of merged) {
    out += `${escapeHtml(text.slice(at, start))}<em>${escapeHtml(text.slice(start, end))}</em>`;
    at = end;
  }
  return out + escapeHtml(text.slice(at));
}

function filterClauses(query: TextQuery): estypes.QueryDslQueryContainer[] {
  const filters: estypes.QueryDslQueryContainer[] = [];
  if (query.videoIds) filters.push({ terms: { videoId: [...query.videoIds] } });
  if (query.series !== undefined && query.series !== null) filters.push({ term: { series: query.series } });
  if (query.kinds) filters.push({ terms: { kind: [...query.kinds] } });
  // Overlap with [from, to]: the document ends at or after `from` and starts at or before `to`.
  if (query.from !== undefined && query.from !== null) filters.push({ range: { end: { gte: query.from } } });
  if (query.to !== undefined && query.to !== null) filters.push({ range: { start: { lte: query.to } } });
  return filters;
}

/** The search request for one pass: every term (`and`) or any term (`or`). */
export function searchRequest(index: string, query: TextQuery, operator: 'and' | 'or'): estypes.SearchRequest {
  return {
    index,
    from: query.offset,
    size: query.limit,
    track_total_hits: false,
    query: {
      bool: {
        // most_fields: a document matches when one view (words, English, bigrams) has every term;
        // its score adds the views that match, so exact words outrank bigram-only matches.
        must: [{ multi_match: { query: query.query, fields: [...FIELDS], type: 'most_fields', operator } }],
        filter: filterClauses(query),
      },
    },
    collapse: { field: 'segmentId' },
    // Ties break on the id so pages never overlap.
    sort: [{ _score: { order: 'desc' } }, { id: { order: 'asc' } }],
    aggs: { segments: { cardinality: { field: 'segmentId', precision_threshold: CARDINALITY_PRECISION } } },
    highlight: {
      pre_tags: [MARK_OPEN],
      post_tags: [MARK_CLOSE],
      number_of_fragments: 0,
      require_field_match: true,
      fields: Object.fromEntries(FIELDS.map((f) => [f, {}])),
    },
  };
}

export class ElasticTextIndex implements TextIndex {
  private readonly alias: string;

  constructor(
    readonly client: Client,
    prefix = 'vidsearch',
    private readonly totalBound = TEXT_TOTAL_BOUND,
  ) {
    this.alias = textIndexNames(prefix).alias;
  }

  /** Opens the index, migrating it forward to this build's schema first. */
  static async open(options: ElasticOptions): Promise<{ index: ElasticTextIndex; migration: MigrationResult }> {
    const client = elasticClient(options);
    const prefix = options.prefix ?? 'vidsearch';
    const migration = await migrateTextIndex(client, prefix);
    return { index: new ElasticTextIndex(client, prefix), migration };
  }

  async upsert(docs: readonly TextDocument[]): Promise<void> {
    await bulkIndex(this.client, docs.map((doc) => ({ index: this.alias, id: doc.id, source: stored(doc) })), 'wait_for');
  }

  async deleteByVideo(videoId: string): Promise<void> {
    await this.client.deleteByQuery({ index: this.alias, query: { term: { videoId } }, refresh: true, conflicts: 'proceed' });
  }

  /**
   * New documents first, then the video's documents that are not among them: the video never
   * has an empty moment in search, and a failed write leaves the old documents in place.
   */
  async replaceVideo(videoId: string, docs: readonly TextDocument[]): Promise<void> {
    await this.upsert(docs);
    await this.client.deleteByQuery({
      index: this.alias,
      query: { bool: { filter: [{ term: { videoId } }], must_not: docs.length ? [{ ids: { values: docs.map((d) => d.id) } }] : [] } },
      refresh: true,
      conflicts: 'proceed',
    });
  }

  async search(query: TextQuery): Promise<TextSearchResult> {
    const none: TextSearchResult = { hits: [], total: 0, totalIsExact: true };
    if (!query.query.trim() || query.videoIds?.length === 0 || query.kinds?.length === 0 || query.limit <= 0) return none;
    for (const operator of ['and', 'or'] as const) {
      const response = await this.client.search<StoredDoc, { segments: estypes.AggregationsCardinalityAggregate }>(searchRequest(this.alias, query, operator));
      const count = response.aggregations?.segments.value ?? 0;
      if (count === 0) continue;
      const hits = response.hits.hits.flatMap((hit): TextHit[] => {
        if (!hit._source) return [];
        const doc = fromStored(hit._source);
        const highlights = FIELDS.flatMap((field) => hit.highlight?.[field] ?? []);
        return [{ doc, score: hit._score ?? 0, snippet: renderSnippet(doc.text, highlights) }];
      });
      return { hits, ...boundedTotal(count, this.totalBound) };
    }
    return none;
  }
}

function stored(doc: TextDocument): StoredDoc {
  return { id: doc.id, videoId: doc.videoId, segmentId: doc.segmentId, cueId: doc.cueId, kind: doc.kind, start: doc.start, end: doc.end, text: doc.text, series: doc.series };
}

function fromStored(doc: StoredDoc): TextDocument {
  return {
    id: doc.id,
    videoId: doc.videoId,
    segmentId: doc.segmentId,
    cueId: doc.cueId ?? null,
    kind: doc.kind,
    start: doc.start,
    end: doc.end,
    text: doc.text,
    series: doc.series ?? null,
  };
}
