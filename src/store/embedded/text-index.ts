// TextIndex on SQLite FTS5 (see text-tokens.ts for the analysis). A query ANDs its terms (each
// Chinese run matching as all its jieba words OR as an exact substring, a bigram phrase); when
// that finds nothing it ORs the words, English ones as prefixes. Ranking is bm25; hits collapse
// to the best document per segment; very common queries rank only their newest matches. Series
// and kind filters are answered by a second FTS5 table of filter tags (see TEXT_TAGS_MIGRATION_SQL)
// and video filters by seeking to the videos' rowid ranges, not by reading every match's row.
// Only the page's candidates are ranked (SQLite keeps the best LIMIT rows of the bm25 order, it
// does not sort every match), and totals are counted up to TEXT_TOTAL_BOUND segments, not further.
// Rankings, rank windows and totals are remembered until the text tables change (VersionedCache):
// bm25 costs ~1.6 µs per ranked document plus a walk over every matching document per query term
// (its IDF), ~10 ms for a common word at 1M segments, and the next page of a search, the best
// score later pages normalise by, and popular queries ask for the same ranking again.
// The tables and their migrations are in text-tables.ts, a query's MATCH and filters in text-match.ts.
import { boundedTotal, TEXT_TOTAL_BOUND, type TextDocument, type TextIndex, type TextQuery, type TextSearchResult } from '../interfaces.js';
import { IN_JSON_LIST, jsonList, StatementCache, type SqliteDatabase } from './db.js';
import { highlight } from './highlight.js';
import { ftsCondition, ftsParams, matchPlans, textFilter, type Filter } from './text-match.js';
import { INDEX_DOC, SLOT_BITS, SLOTS, toDoc, UNINDEX_DOC, type DocRow } from './text-tables.js';
import { indexTokens, queryTerms } from './text-tokens.js';
import { VersionedCache } from './versioned-cache.js';

/**
 * Queries matching more documents than this rank only the newest this-many of them: bm25 costs
 * time per matching document, and a query that common (a stop word) has no better answer anyway.
 * The total still counts every match (up to the total bound).
 */
export const RANK_WINDOW = 5_000;
/** Ranked documents read per search at least; collapsing per segment needs some slack. */
const MIN_CANDIDATES = 256;
/** Candidates per requested hit (offset + limit), for segments with many matching docs. */
const CANDIDATES_PER_HIT = 4;
/** bm25 column weights: a jieba word match ranks above a bare substring match. */
const BM25_WEIGHTS = '1.0, 0.5';
/**
 * `rowid BETWEEN` bounds for FTS5. better-sqlite3 binds every JS number as REAL, and FTS5 ignores a
 * REAL rowid bound (it then walks the whole posting list and SQLite filters afterwards): the cast
 * turns a range search over a common word from a full scan (~10 ms at 1M docs) into a seek.
 */
const ROWID_RANGE = 'BETWEEN CAST(? AS INTEGER) AND CAST(? AS INTEGER)';

/**
 * Exact totals remembered per (match, filter, ranges) until the text tables change: counting a
 * common word's segments is a third of a search's cost at 1M segments, and popular queries repeat.
 */
const COUNT_CACHE_SIZE = 512;
/**
 * Rankings (the best `cap` rowids of a match, filter and ranges) and rank windows remembered until
 * the text tables change. A ranking longer than RANK_CACHE_MAX_ROWS (a deep page) is not kept, so
 * the cache holds at most RANK_CACHE_SIZE × 4096 × (rowid, rank): ~16 MB, typically 256 rows each.
 */
const RANK_CACHE_SIZE = 512;
const RANK_CACHE_MAX_ROWS = 4_096;

/** Inclusive rowid bounds. */
type RowidRange = readonly [number, number];
const ALL_ROWIDS: RowidRange = [0, Number.MAX_SAFE_INTEGER];

const noHits = (): TextSearchResult => ({ hits: [], total: 0, totalIsExact: true });

interface RankedRowid {
  rowid: number;
  rank: number;
}

export class EmbeddedTextIndex implements TextIndex {
  /** Preparing costs as much as a rare-word search. */
  private readonly statements: StatementCache;
  private readonly counts = new VersionedCache<number>(COUNT_CACHE_SIZE, () => this.textVersion());
  private readonly rankings = new VersionedCache<RankedRowid[]>(RANK_CACHE_SIZE, () => this.textVersion());
  private readonly rankWindows = new VersionedCache<RowidRange[]>(RANK_CACHE_SIZE, () => this.textVersion());
  /** Bumped by this connection's own writes, which PRAGMA data_version does not report. */
  private ownWrites = 0;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly rankWindow = RANK_WINDOW,
    private readonly totalBound = TEXT_TOTAL_BOUND,
  ) {
    this.statements = new StatementCache(db);
  }

  private statement(sql: string) {
    return this.statements.get(sql);
  }

  async upsert(docs: readonly TextDocument[]): Promise<void> {
    this.db.transaction(() => this.write(docs))();
  }

  async deleteByVideo(videoId: string): Promise<void> {
    this.db.transaction(() => this.deleteVideoDocs(videoId))();
  }

  async replaceVideo(videoId: string, docs: readonly TextDocument[]): Promise<void> {
    this.db.transaction(() => {
      this.deleteVideoDocs(videoId);
      this.write(docs);
    })();
  }

  async search(query: TextQuery): Promise<TextSearchResult> {
    if (query.videoIds?.length === 0 || query.kinds?.length === 0) return noHits();
    const terms = queryTerms(query.query);
    const filter = textFilter(query);
    const wanted = query.offset + query.limit;
    const videoRanges = query.videoIds ? this.videoRanges(query.videoIds) : null;
    for (const plan of matchPlans(terms)) {
      let ranges = videoRanges ?? this.rankingRanges(plan.match, filter);
      let cap = Math.max(MIN_CANDIDATES, wanted * CANDIDATES_PER_HIT);
      for (;;) {
        const ranked = this.ranked(plan.match, filter, ranges, cap);
        const best = new Map<number, RankedRowid>();
        for (const row of ranked) {
          const segment = Math.floor(row.rowid / SLOTS);
          if (!best.has(segment)) best.set(segment, row);
        }
        const exhausted = ranked.length < cap;
        if (best.size < wanted && !exhausted) {
          cap *= 4; // Not enough distinct segments among the candidates for this page: read deeper.
          continue;
        }
        const windowed = ranges !== videoRanges && ranges[0]![0] > 0;
        if (best.size < wanted && windowed) {
          ranges = [ALL_ROWIDS]; // The time window left too little of the rank window: rank every match.
          continue;
        }
        if (best.size === 0) break;
        const page = [...best.values()].slice(query.offset, wanted);
        const docs = this.docsByRowid(page.map((row) => row.rowid));
        const hits = page.map((row) => {
          const doc = docs.get(row.rowid)!;
          return { doc: toDoc(doc), score: -row.rank, snippet: highlight(doc.text, terms, plan.prefixes) };
        });
        const count = exhausted && !windowed ? best.size : this.countSegments(plan.match, filter, videoRanges ?? [ALL_ROWIDS]);
        return { hits, ...boundedTotal(count, this.totalBound) };
      }
    }
    return noHits();
  }

  /**
   * Where to rank: every rowid, or (for a query matching more than the rank window) only the
   * newest window of matches. FTS5 walks a posting list backwards from its end, so finding the
   * window's oldest rowid reads the window only, not the whole list as count(*) would.
   */
  private rankingRanges(match: string, filter: Filter): RowidRange[] {
    return this.rankWindows.get(JSON.stringify([match, filter.tags]), () => this.rankingRangesNow(match, filter));
  }

  private rankingRangesNow(match: string, filter: Filter): RowidRange[] {
    const oldest = this.statement(`SELECT rowid FROM text_fts WHERE ${ftsCondition(filter)} ORDER BY rowid DESC LIMIT 1 OFFSET ?`).get(
      ...ftsParams(match, filter),
      this.rankWindow,
    ) as { rowid: number } | undefined;
    return [oldest ? [oldest.rowid + 1, ALL_ROWIDS[1]] : ALL_ROWIDS];
  }

  /**
   * The rowid ranges holding the given videos' documents. A video's segments are numbered
   * together when it is indexed, so its documents sit in one tight range that FTS5 can seek to;
   * the video filter itself still applies (a range may hold other videos' segments).
   */
  private videoRanges(videoIds: readonly string[]): RowidRange[] {
    const rows = this.statement(`SELECT min(seg_no) AS lo, max(seg_no) AS hi FROM text_segments WHERE video_id IN ${IN_JSON_LIST} GROUP BY video_id ORDER BY lo`).all(
      jsonList(videoIds),
    ) as { lo: number; hi: number }[];
    const merged: [number, number][] = [];
    for (const { lo, hi } of rows) {
      const range: [number, number] = [lo * SLOTS, hi * SLOTS + SLOTS - 1];
      const last = merged.at(-1);
      if (last && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
      else merged.push(range);
    }
    return merged;
  }

  /**
   * Matching rowids best first (ties: newest first). Without a time window the FTS index answers
   * alone; with one, CROSS JOIN keeps FTS as the outer loop (SQLite would otherwise walk the
   * documents and run the full-text query once per row, ~100x slower).
   */
  private ranked(match: string, filter: Filter, ranges: readonly RowidRange[], limit: number): RankedRowid[] {
    const key = JSON.stringify([match, filter.tags, filter.sql, filter.params, ranges, limit]);
    return this.rankings.get(key, () => this.rankedNow(match, filter, ranges, limit), (rows) => rows.length <= RANK_CACHE_MAX_ROWS);
  }

  private rankedNow(match: string, filter: Filter, ranges: readonly RowidRange[], limit: number): RankedRowid[] {
    const sql = filter.sql
      ? `SELECT text_fts.rowid AS rowid, bm25(text_fts, ${BM25_WEIGHTS}) AS rank FROM text_fts CROSS JOIN text_docs d ON d.rowid = text_fts.rowid
         WHERE ${ftsCondition(filter)} AND text_fts.rowid ${ROWID_RANGE} ${filter.sql} ORDER BY rank, rowid DESC LIMIT ?`
      : `SELECT rowid, bm25(text_fts, ${BM25_WEIGHTS}) AS rank FROM text_fts
         WHERE ${ftsCondition(filter)} AND rowid ${ROWID_RANGE} ORDER BY rank, rowid DESC LIMIT ?`;
    const statement = this.statement(sql);
    const rows = ranges.flatMap(([lo, hi]) => statement.all(...ftsParams(match, filter), lo, hi, ...filter.params, limit) as RankedRowid[]);
    if (ranges.length > 1) rows.sort((a, b) => a.rank - b.rank || b.rowid - a.rowid);
    return rows.slice(0, limit);
  }

  private docsByRowid(rowids: readonly number[]): Map<number, DocRow> {
    const rows = this.statement(`SELECT * FROM text_docs WHERE rowid IN ${IN_JSON_LIST}`).all(jsonList(rowids)) as DocRow[];
    return new Map(rows.map((row) => [row.rowid, row]));
  }

  /**
   * Changes whenever the text tables may have: data_version moves on every commit by another
   * connection (the worker process), ownWrites on ours.
   */
  private textVersion(): string {
    // A kept statement: db.pragma() would prepare one on each of a search's three cache reads.
    const { data_version: dataVersion } = this.statement('PRAGMA data_version').get() as { data_version: number };
    return `${dataVersion}:${this.ownWrites}`;
  }

  /** Distinct matching segments up to one past the bound, from the cache while the text tables are unchanged. */
  private countSegments(match: string, filter: Filter, ranges: readonly RowidRange[]): number {
    return this.counts.get(JSON.stringify([match, filter.tags, filter.sql, filter.params, ranges]), () => this.countSegmentsNow(match, filter, ranges));
  }

  /**
   * Distinct matching segments, counted until one more than the bound is seen (the LIMIT stops
   * FTS5's walk there: a common word's count reads ~bound segments' postings, not its whole list).
   * `ranges` are disjoint and whole segments, so their counts add up.
   */
  private countSegmentsNow(match: string, filter: Filter, ranges: readonly RowidRange[]): number {
    const distinct = filter.sql
      ? `SELECT DISTINCT text_fts.rowid >> ${SLOT_BITS} FROM text_fts CROSS JOIN text_docs d ON d.rowid = text_fts.rowid
         WHERE ${ftsCondition(filter)} AND text_fts.rowid ${ROWID_RANGE} ${filter.sql} LIMIT ?`
      : `SELECT DISTINCT rowid >> ${SLOT_BITS} FROM text_fts WHERE ${ftsCondition(filter)} AND rowid ${ROWID_RANGE} LIMIT ?`;
    const statement = this.statement(`SELECT count(*) AS n FROM (${distinct})`);
    let count = 0;
    for (const [lo, hi] of ranges) {
      if (count > this.totalBound) break;
      count += (statement.get(...ftsParams(match, filter), lo, hi, ...filter.params, this.totalBound + 1 - count) as { n: number }).n;
    }
    return count;
  }

  private write(docs: readonly TextDocument[]): void {
    this.ownWrites += 1;
    const existing = this.db.prepare('SELECT rowid, segment_id, text FROM text_docs WHERE id = ?');
    const segmentNumber = this.db.prepare(
      'INSERT INTO text_segments (segment_id, video_id) VALUES (?, ?) ON CONFLICT (segment_id) DO UPDATE SET video_id = excluded.video_id RETURNING seg_no',
    );
    const lastSlot = this.db.prepare('SELECT max(rowid) AS last FROM text_docs WHERE rowid BETWEEN ? AND ?');
    const removeDoc = this.db.prepare('DELETE FROM text_docs WHERE rowid = ?');
    const putDoc = this.db.prepare(
      `INSERT OR REPLACE INTO text_docs (rowid, id, video_id, segment_id, cue_id, kind, start, "end", text, series)
       VALUES (@rowid, @id, @videoId, @segmentId, @cueId, @kind, @start, @end, @text, @series)`,
    );
    const indexDoc = this.db.prepare(INDEX_DOC);
    for (const doc of docs) {
      const previous = existing.get(doc.id) as IndexedDoc & { segment_id: string } | undefined;
      if (previous) unindex(this.db, [previous]);
      let rowid: number;
      if (previous && previous.segment_id === doc.segmentId) {
        rowid = previous.rowid;
      } else {
        if (previous) removeDoc.run(previous.rowid);
        const { seg_no: segment } = segmentNumber.get(doc.segmentId, doc.videoId) as { seg_no: number };
        const first = segment * SLOTS;
        const { last } = lastSlot.get(first, first + SLOTS - 1) as { last: number | null };
        rowid = last === null ? first : last + 1;
        if (rowid >= first + SLOTS) throw new Error(`segment ${doc.segmentId} has more than ${SLOTS} text documents`);
      }
      putDoc.run({ ...doc, rowid });
      const tokens = indexTokens(doc.text);
      indexDoc.run(rowid, tokens.words, tokens.grams);
    }
  }

  private deleteVideoDocs(videoId: string): void {
    this.ownWrites += 1;
    deleteVideoText(this.db, videoId);
  }
}

interface IndexedDoc {
  rowid: number;
  text: string;
}

/** Takes documents out of text_fts with the tokens they were indexed with (see CREATE_TEXT_FTS in text-tables.ts). */
function unindex(db: SqliteDatabase, docs: readonly IndexedDoc[]): void {
  const remove = db.prepare(UNINDEX_DOC);
  for (const doc of docs) {
    const tokens = indexTokens(doc.text);
    remove.run(doc.rowid, tokens.words, tokens.grams);
  }
}

/** Removes a video's text documents from every text table; the caller holds the transaction. */
export function deleteVideoText(db: SqliteDatabase, videoId: string): void {
  db.prepare('DELETE FROM text_segments WHERE segment_id IN (SELECT segment_id FROM text_docs WHERE video_id = ?)').run(videoId);
  unindex(db, db.prepare('SELECT rowid, text FROM text_docs WHERE video_id = ?').all(videoId) as IndexedDoc[]);
  db.prepare('DELETE FROM text_docs WHERE video_id = ?').run(videoId);
}
