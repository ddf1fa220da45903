// What a text query becomes in SQL: the FTS5 MATCH expressions to try (text-tokens.ts analyses
// the query) and the filters (series/kind tags over text_tags, videos and time over text_docs).
import type { TextQuery } from '../interfaces.js';
import { IN_JSON_LIST, jsonList } from './db.js';
import { cjkRuns, ftsString, gramsPhrase, type QueryTerms } from './text-tokens.js';

export interface Filter {
  /** MATCH expression over text_tags for the series/kind filters, or '' for none. */
  tags: string;
  /** `AND …` clauses over text_docs d (videos, time window), or '' when there are none. */
  sql: string;
  params: (string | number)[];
}

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
export function ftsCondition(filter: Filter): string {
  const tagged = filter.tags ? ' AND +text_fts.rowid IN (SELECT rowid FROM text_tags WHERE text_tags MATCH ?)' : '';
  return `text_fts MATCH ?${tagged}`;
}

export function ftsParams(match: string, filter: Filter): string[] {
  return filter.tags ? [match, filter.tags] : [match];
}

/** The series/kind tags and the SQL clauses over text_docs d (videos, time window) of a query. */
export function textFilter(query: TextQuery): Filter {
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

/** A word in the jieba column, or (for Chinese) the exact substring: jieba may cut text and query differently. */
function wordOrSubstring(word: string): string {
  return cjkRuns(word).length > 0 ? `((words : ${ftsString(word)}) OR ${gramsPhrase(word)})` : `(words : ${ftsString(word)})`;
}

export interface MatchPlan {
  match: string;
  prefixes: boolean;
}

/**
 * The FTS5 MATCH expressions to try in order, or none when the query has no searchable term.
 * Strict: every CJK run as all its words or as an exact substring, AND every other term (a
 * hyphenated term is a phrase). Loose: any multi-character word, any term as a prefix.
 */
export function matchPlans(terms: QueryTerms): MatchPlan[] {
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
