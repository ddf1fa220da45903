// TextIndex on SQLite FTS5 (see text-tokens.ts for the analysis). A query ANDs its terms, each
// term matching as a jieba word OR as an exact CJK substring (bigram phrase); when that finds
// nothing it ORs the terms with English prefixes. Ranking is bm25; hits collapse to the best
// document per segment.
import type { TextDocKind, TextDocument, TextHit, TextIndex, TextQuery } from '../interfaces.js';
import { IN_JSON_LIST, jsonList, type SqliteDatabase } from './db.js';
import { highlight } from './highlight.js';
import { cjkRuns, ftsString, gramsPhrase, indexTokens, queryTerms, type QueryTerms } from './text-tokens.js';

/** Ranked documents read per search at least; collapsing per segment needs some slack. */
const MIN_CANDIDATES = 256;
/** Candidates per requested hit (offset + limit), for segments with many matching docs. */
const CANDIDATES_PER_HIT = 4;
/** bm25 column weights: a jieba word match ranks above a bare substring match. */
const BM25_WEIGHTS = '1.0, 0.5';

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

interface RankedRow extends DocRow {
  rank: number;
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

/** One query term: a word, or for Chinese also the exact substring (jieba may cut the text differently). */
function termExpression(word: string): string {
  const word_ = `(words : ${ftsString(word)})`;
  return cjkRuns(word).length > 0 ? `(${word_} OR ${gramsPhrase(word)})` : word_;
}

interface MatchPlan {
  match: string;
  prefixes: boolean;
}

/** The FTS5 MATCH expressions to try in order, or none when the query has no searchable term. */
function matchPlans(terms: QueryTerms): MatchPlan[] {
  if (terms.words.length === 0) return [];
  const expressions = terms.words.map(termExpression);
  const plans: MatchPlan[] = [{ match: expressions.join(' AND '), prefixes: false }];
  const latinPrefixes = terms.latinWords.map((w) => `(words : ${ftsString(w)}*)`);
  if (expressions.length > 1 || latinPrefixes.length > 0) {
    plans.push({ match: [...expressions, ...latinPrefixes].join(' OR '), prefixes: true });
  }
  return plans;
}

export class EmbeddedTextIndex implements TextIndex {
  constructor(private readonly db: SqliteDatabase) {}

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

  async search(query: TextQuery): Promise<{ hits: TextHit[]; total: number }> {
    const terms = queryTerms(query.query);
    const filter = this.filterSql(query);
    const wanted = query.offset + query.limit;
    for (const plan of matchPlans(terms)) {
      let cap = Math.max(MIN_CANDIDATES, wanted * CANDIDATES_PER_HIT);
      for (;;) {
        const rows = this.db
          .prepare(
            `SELECT d.*, bm25(text_fts, ${BM25_WEIGHTS}) AS rank FROM text_fts JOIN text_docs d ON d.rowid = text_fts.rowid
             WHERE text_fts MATCH ? ${filter.sql} ORDER BY rank, d.rowid LIMIT ?`,
          )
          .all(plan.match, ...filter.params, cap) as RankedRow[];
        if (rows.length === 0) break;
        const best = new Map<string, RankedRow>();
        for (const row of rows) if (!best.has(row.segment_id)) best.set(row.segment_id, row);
        const exhausted = rows.length < cap;
        // Not enough distinct segments among the candidates for this page: read deeper.
        if (!exhausted && best.size < wanted) {
          cap *= 4;
          continue;
        }
        const total = exhausted ? best.size : this.countSegments(plan.match, filter);
        const hits = [...best.values()].slice(query.offset, wanted).map((row) => ({
          doc: toDoc(row),
          score: -row.rank,
          snippet: highlight(row.text, terms, plan.prefixes),
        }));
        return { hits, total };
      }
    }
    return { hits: [], total: 0 };
  }

  private countSegments(match: string, filter: { sql: string; params: (string | number)[] }): number {
    return (
      this.db
        .prepare(
          `SELECT count(DISTINCT d.segment_id) AS n FROM text_fts JOIN text_docs d ON d.rowid = text_fts.rowid
           WHERE text_fts MATCH ? ${filter.sql}`,
        )
        .get(match, ...filter.params) as { n: number }
    ).n;
  }

  private filterSql(query: TextQuery): { sql: string; params: (string | number)[] } {
    const clauses: string[] = [];
    const params: (string | number)[] = [];
    if (query.videoIds) {
      clauses.push(`d.video_id IN ${IN_JSON_LIST}`);
      params.push(jsonList(query.videoIds));
    }
    if (query.series != null) {
      clauses.push('d.series = ?');
      params.push(query.series);
    }
    if (query.from != null) {
      clauses.push('d."end" >= ?');
      params.push(query.from);
    }
    if (query.to != null) {
      clauses.push('d.start <= ?');
      params.push(query.to);
    }
    if (query.kinds) {
      clauses.push(`d.kind IN ${IN_JSON_LIST}`);
      params.push(jsonList(query.kinds));
    }
    return { sql: clauses.map((c) => `AND ${c}`).join(' '), params };
  }

  private write(docs: readonly TextDocument[]): void {
    const upsertDoc = this.db.prepare(
      `INSERT INTO text_docs (id, video_id, segment_id, cue_id, kind, start, "end", text, series)
       VALUES (@id, @videoId, @segmentId, @cueId, @kind, @start, @end, @text, @series)
       ON CONFLICT (id) DO UPDATE SET video_id = excluded.video_id, segment_id = excluded.segment_id, cue_id = excluded.cue_id,
         kind = excluded.kind, start = excluded.start, "end" = excluded."end", text = excluded.text, series = excluded.series
       RETURNING rowid`,
    );
    const indexDoc = this.db.prepare('INSERT OR REPLACE INTO text_fts (rowid, words, grams) VALUES (?, ?, ?)');
    for (const doc of docs) {
      const { rowid } = upsertDoc.get(doc) as { rowid: number };
      const tokens = indexTokens(doc.text);
      indexDoc.run(rowid, tokens.words, tokens.grams);
    }
  }

  private deleteVideoDocs(videoId: string): void {
    this.db.prepare('DELETE FROM text_fts WHERE rowid IN (SELECT rowid FROM text_docs WHERE video_id = ?)').run(videoId);
    this.db.prepare('DELETE FROM text_docs WHERE video_id = ?').run(videoId);
  }
}
