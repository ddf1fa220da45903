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
import { boundedTotal, TEXT_TOTAL_BOUND, type TextDocKind, type TextDocument, type TextIndex, type TextQuery, type TextSearchResult } from '../interfaces.js';
import { IN_JSON_LIST, jsonList, StatementCache, type SqliteDatabase } from './db.js';
import { highlight } from './highlight.js';
import { cjkRuns, ftsString, gramsPhrase, indexTokens, queryTerms, type QueryTerms } from './text-tokens.js';
import { VersionedCache } from './versioned-cache.js';

/** Document slots per segment: rowid = (segment number << SLOT_BITS) + slot. */
const SLOT_BITS = 16;
const SLOTS = 1 << SLOT_BITS;
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

interface DocRow {
  rowid: number;
  id: string;
  video_id: string;
  segment_id: string;
  cue_id: string | null;
  kind: TextDocKind;
  start: number;
  end: number;
  text: string;
  series: string | null;
}

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

interface Filter {
  /** MATCH expression over text_tags for the series/kind filters, or '' for none. */
  tags: string;
  /** `AND …` clauses over text_docs d (videos, time window), or '' when there are none. */
  sql: string;
  params: (string | number)[];
}

/**
 * Filter tags: one ASCII token per field value (a letter + the value's UTF-8 in hex), kept in step
 * with text_docs by triggers. A separate table because tag tokens in text_fts would lengthen every
 * document and so shift bm25's length normalisation. detail=none: rowid lists only.
 */
export const TEXT_TAGS_MIGRATION_SQL = `
CREATE VIRTUAL TABLE text_tags USING fts5 (tags, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii');
CREATE TRIGGER text_docs_tag AFTER INSERT ON text_docs BEGIN
  INSERT OR REPLACE INTO text_tags (rowid, tags) VALUES (new.rowid,
    'k' || hex(new.kind) || CASE WHEN new.series IS NULL THEN '' ELSE ' s' || hex(new.series) END);
END;
CREATE TRIGGER text_docs_untag AFTER DELETE ON text_docs BEGIN
  DELETE FROM text_tags WHERE rowid = old.rowid;
END;
INSERT INTO text_tags (rowid, tags)
  SELECT rowid, 'k' || hex(kind) || CASE WHEN series IS NULL THEN '' ELSE ' s' || hex(series) END FROM text_docs;
`;

type TagField = 'series' | 'kind';
const TAG_PREFIX: Record<TagField, string> = { series: 's', kind: 'k' };

/** Documents with any of `values` in a field: `("k…" OR "k…")`. */
function anyTag(field: TagField, values: readonly string[]): string {
  const tags = [...new Set(values)].map((value) => `"${TAG_PREFIX[field]}${Buffer.from(value, 'utf8').toString('hex')}"`);
  return `(${tags.join(' OR ')})`;
}

/**
 * The FTS condition of a search: its MATCH, and for tag filters a rowid set. The unary + keeps
 * SQLite from handing the IN list to FTS5 as rowid lookups (one bm25 set-up per rowid, seconds);
 * instead FTS5 walks the matches once and SQLite probes the tag rowids (a Bloom filter first).
 */
function ftsCondition(filter: Filter): string {
  const tagged = filter.tags ? ' AND +text_fts.rowid IN (SELECT rowid FROM text_tags WHERE text_tags MATCH ?)' : '';
  return `text_fts MATCH ?${tagged}`;
}

function ftsParams(match: string, filter: Filter): string[] {
  return filter.tags ? [match, filter.tags] : [match];
}

/**
 * Contentless without contentless_delete: FTS5 then removes a document only through the 'delete'
 * command given the tokens it was indexed with (re-derived from text_docs.text, see unindex), and
 * that is what keeps bm25's statistics (document count, average length per column) exact. A
 * contentless_delete=1 table forgets a document's postings but never its share of those
 * statistics, so every re-index or delete shifted every score (2.08 → 3.12 → 3.71 → 4.13 for the
 * demo's 天气 over four re-indexes). indexTokens is deterministic for a given build; a change to the
 * analysis must ship with a migration that rebuilds the index (as rebuildTextIndex does), or the
 * 'delete' of an old document would name tokens it was not indexed with.
 */
const CREATE_TEXT_FTS = `CREATE VIRTUAL TABLE text_fts USING fts5 (
  words, grams,
  content = '',
  tokenize = 'porter unicode61 remove_diacritics 2'
)`;
const INDEX_DOC = 'INSERT INTO text_fts (rowid, words, grams) VALUES (?, ?, ?)';
const UNINDEX_DOC = "INSERT INTO text_fts (text_fts, rowid, words, grams) VALUES ('delete', ?, ?, ?)";
/** Documents re-tokenised per read while rebuilding the index. */
const REBUILD_BATCH = 5_000;

/**
 * Schema migration: builds the full-text index again from text_docs (about 1.5 min per million
 * documents). Used when traditional→simplified folding and single-character grams changed every
 * document's tokens, and again when the table left contentless_delete (which also resets the
 * statistics earlier deletes had left behind).
 */
export function rebuildTextIndex(db: SqliteDatabase): void {
  db.exec(`DROP TABLE text_fts; ${CREATE_TEXT_FTS}`);
  const read = db.prepare('SELECT rowid, text FROM text_docs WHERE rowid > ? ORDER BY rowid LIMIT ?');
  const index = db.prepare(INDEX_DOC);
  for (let after = -1; ; ) {
    const rows = read.all(after, REBUILD_BATCH) as { rowid: number; text: string }[];
    for (const row of rows) {
      const tokens = indexTokens(row.text);
      index.run(row.rowid, tokens.words, tokens.grams);
    }
    if (rows.length < REBUILD_BATCH) return;
    after = rows.at(-1)!.rowid;
  }
}

function toDoc(row: DocRow): TextDocument {
  return {
    id: row.id,
    videoId: row.video_id,
    segmentId: row.segment_id,
    cueId: row.cue_id,
    kind: row.kind,
    start: row.start,
    end: row.end,
    text: row.text,
    series: row.series,
  };
}

/** A word in the jieba column, or (for Chinese) the exact substring: jieba may cut text and query differently. */
function wordOrSubstring(word: string): string {
  return cjkRuns(word).length > 0 ? `((words : ${ftsString(word)}) OR ${gramsPhrase(word)})` : `(words : ${ftsString(word)})`;
}

interface MatchPlan {
  match: string;
  prefixes: boolean;
}

/**
 * The FTS5 MATCH expressions to try in order, or none when the query has no searchable term.
 * Strict: every CJK run as all its words or as an exact substring, AND every other term (a
 * hyphenated term is a phrase). Loose: any multi-character word, any term as a prefix.
 */
function matchPlans(terms: QueryTerms): MatchPlan[] {
  const runs = terms.cjkRuns.map(({ run, words }) => {
    const substring = gramsPhrase(run);
    return words.length ? `((words : ${words.map(ftsString).join(' AND ')}) OR ${substring})` : substring;
  });
  const latin = terms.latinTerms.map((term) => `(words : ${ftsString(term)})`);
  const strict = [...runs, ...latin];
  if (strict.length === 0) return [];
  const plans: MatchPlan[] = [{ match: strict.join(' AND '), prefixes: false }];
  const looseWords = terms.cjkRuns.flatMap(({ words }) => words.filter((w) => [...w].length > 1)).map(wordOrSubstring);
  const loose = [...new Set([...looseWords, ...terms.latinTerms.map((term) => `(words : ${ftsString(term)}*)`)])];
  if (loose.length > 0 && (strict.length > 1 || loose.length > 1 || terms.latinTerms.length > 0)) {
    plans.push({ match: loose.join(' OR '), prefixes: true });
  }
  return plans;
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
    const filter = this.filter(query);
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

  private filter(query: TextQuery): Filter {
    const tags: string[] = [];
    if (query.series != null) tags.push(anyTag('series', [query.series]));
    if (query.kinds) tags.push(anyTag('kind', query.kinds));
    const clauses: string[] = [];
    const params: (string | number)[] = [];
    if (query.videoIds) {
      clauses.push(`AND d.video_id IN ${IN_JSON_LIST}`);
      params.push(jsonList(query.videoIds));
    }
    if (query.from != null) {
      clauses.push('AND d."end" >= ?');
      params.push(query.from);
    }
    if (query.to != null) {
      clauses.push('AND d.start <= ?');
      params.push(query.to);
    }
    return { tags: tags.join(' AND '), sql: clauses.join(' '), params };
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

/** Takes documents out of text_fts with the tokens they were indexed with (see CREATE_TEXT_FTS). */
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
