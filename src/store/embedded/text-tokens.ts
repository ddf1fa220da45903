// Text analysis for the embedded FTS5 index, shared by indexing and querying so both sides agree:
// NFKC + traditional→simplified + lowercase, jieba words (Chinese) for ranking, and CJK character
// bigrams and single characters so any Chinese substring can still be found as an exact phrase
// when jieba segments query and text differently.
import { toSimplified } from '../../text/normalize.js';
import { wordSegmenter } from '../../text/segmenter.js';

/** NFKC, traditional → simplified ('t' covers Taiwan and Hong Kong variants: 們 and 们 index alike), lower case. */
export function normalizeText(text: string): string {
  return toSimplified(text.normalize('NFKC')).toLowerCase();
}

/** Han ideographs, kana and hangul: scripts written without spaces between words. */
const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+/gu;
/** A token worth indexing or searching: contains a letter or digit (drops spaces and punctuation). */
const WORD_LIKE = /[\p{L}\p{N}]/u;

export function cjkRuns(normalized: string): string[] {
  return normalized.match(CJK_RUN) ?? [];
}

/**
 * Overlapping bigrams of one CJK run, then its characters: "今天天气" → 今天 天天 天气 今 天 天 气.
 * A one-character query is then one posting list instead of a prefix query merging every bigram
 * that starts with it; the characters also keep two runs' bigrams from forming one phrase.
 */
function runGrams(run: string): string[] {
  const chars = [...run];
  const grams: string[] = [];
  for (let i = 0; i + 1 < chars.length; i += 1) grams.push(chars[i]! + chars[i + 1]!);
  return [...grams, ...chars];
}

export interface IndexedTokens {
  /** jieba search-mode words, space-joined (FTS5's unicode61 + porter splits the non-CJK ones). */
  words: string;
  /** CJK bigrams and characters of every run. A bigram lies inside one run, so a bigram phrase never spans two. */
  grams: string;
}

export function indexTokens(text: string): IndexedTokens {
  const normalized = normalizeText(text);
  const words = wordSegmenter()
    .cutForSearch(normalized, true)
    .filter((token) => WORD_LIKE.test(token));
  const grams = cjkRuns(normalized).map((run) => runGrams(run).join(' '));
  return { words: words.join(' '), grams: grams.join(' ') };
}

export interface QueryTerms {
  /** The query's CJK runs, each to be found by its jieba words or as an exact substring. */
  cjkRuns: { run: string; words: string[] }[];
  /** Space-separated non-CJK terms ("joy-con", "running"), normalised. */
  latinTerms: string[];
  /** The letter/digit words inside latinTerms (for highlighting). */
  latinWords: string[];
}

/**
 * Function words that occur in a large share of all lines. A query drops them when it has other
 * terms: requiring "the" or 的 costs a walk over a posting list covering much of the library and
 * barely changes which lines match (as the stop filters of Elasticsearch's analyzers do).
 */
const STOP_WORDS = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is', 'it', 'no', 'not', 'of',
  'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they', 'this', 'to', 'was', 'will', 'with',
  '的', '了', '是', '在', '和', '就', '都', '而', '及', '与', '着', '也', '吧', '呢', '啊', '吗',
]);

/** The terms without stop words, unless nothing else is left. */
function withoutStopWords(terms: string[], othersLeft: boolean): string[] {
  const content = terms.filter((term) => !STOP_WORDS.has(term));
  return content.length > 0 || othersLeft ? content : terms;
}

export function queryTerms(query: string): QueryTerms {
  const normalized = normalizeText(query);
  const runs = [...new Set(cjkRuns(normalized))].map((run) => ({
    run,
    words: withoutStopWords([...new Set(wordSegmenter().cut(run, true))].filter((token) => WORD_LIKE.test(token)), false),
  }));
  const latinTerms = withoutStopWords(
    [...new Set(normalized.replace(CJK_RUN, ' ').split(/\s+/).filter((term) => WORD_LIKE.test(term)))],
    runs.length > 0,
  );
  const latinWords = latinTerms.flatMap((term) => term.match(/[\p{L}\p{N}]+/gu) ?? []);
  return { cjkRuns: runs, latinTerms, latinWords };
}

/** An FTS5 string literal: the tokenizer splits it, so "joy-con" becomes the phrase joy + con. */
export function ftsString(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

/** The FTS5 phrase that matches `run` as an exact substring in the grams column. */
export function gramsPhrase(run: string): string {
  const chars = [...run];
  if (chars.length === 1) return `(grams : ${ftsString(run)})`;
  const bigrams: string[] = [];
  for (let i = 0; i + 1 < chars.length; i += 1) bigrams.push(chars[i]! + chars[i + 1]!);
  return `(grams : ${ftsString(bigrams.join(' '))})`;
}
