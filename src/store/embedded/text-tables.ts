// The tables of the embedded text index: text_docs (one row per document, rowid numbered by
// segment), text_fts (the contentless FTS5 index over it), text_tags (filter tags), their
// migrations and the row shape.
import type { TextDocKind, TextDocument } from '../interfaces.js';
import type { SqliteDatabase } from './db.js';
import { indexTokens } from './text-tokens.js';

/** Document slots per segment: rowid = (segment number << SLOT_BITS) + slot. */
export const SLOT_BITS = 16;
export const SLOTS = 1 << SLOT_BITS;

export interface DocRow {
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
export const INDEX_DOC = 'INSERT INTO text_fts (rowid, words, grams) VALUES (?, ?, ?)';
export const UNINDEX_DOC = "INSERT INTO text_fts (text_fts, rowid, words, grams) VALUES ('delete', ?, ?, ?)";
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

export function toDoc(row: DocRow): TextDocument {
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
