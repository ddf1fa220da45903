// Snippets: the ORIGINAL text (HTML-escaped) with the query's matched terms wrapped in <em>…</em>.
// Matching runs on a per-character normalised copy that maps back to the original offsets, so
// full-width or upper-case text is highlighted where it stands.
import { stemmer } from 'stemmer';
import { normalizeText, type QueryTerms } from './text-tokens.js';

/** Letters/digits outside the CJK scripts (those are matched as substrings instead). */
const LATIN_WORD = /(?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}])[\p{L}\p{N}])+/gu;

interface Normalized {
  text: string;
  /** For each UTF-16 index of `text`: [start, end) of the original code point it came from. */
  origin: [number, number][];
}

function normalizeWithOrigin(original: string): Normalized {
  let text = '';
  const origin: [number, number][] = [];
  let offset = 0;
  for (const char of original) {
    const normalized = normalizeText(char);
    for (let i = 0; i < normalized.length; i += 1) origin.push([offset, offset + char.length]);
    text += normalized;
    offset += char.length;
  }
  return { text, origin };
}

/** Porter stem without diacritics: what the FTS5 tokenizer 'porter unicode61 remove_diacritics 2' compares. */
function wordKey(word: string): string {
  return stemmer(word.normalize('NFD').replace(/\p{M}/gu, ''));
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}

/**
 * @param prefixes when the search fell back to prefix matching, a word also matches when it starts
 *   with one of the query's words.
 */
export function highlight(original: string, terms: QueryTerms, prefixes = false): string {
  const { text, origin } = normalizeWithOrigin(original);
  const ranges: [number, number][] = [];

  const cjkNeedles = new Set(terms.cjkRuns.flatMap(({ run, words }) => [run, ...words]));
  for (const needle of cjkNeedles) {
    for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) ranges.push([at, at + needle.length]);
  }

  const latin = terms.latinWords.map((w) => ({ word: w, key: wordKey(w) }));
  if (latin.length > 0) {
    for (const match of text.matchAll(LATIN_WORD)) {
      const word = match[0];
      const key = wordKey(word);
      if (latin.some((q) => q.key === key || (prefixes && word.startsWith(q.word)))) ranges.push([match.index, match.index + word.length]);
    }
  }
  if (ranges.length === 0) return escapeHtml(original);

  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const range of ranges) {
    const last = merged.at(-1);
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([...range]);
  }
  let out = '';
  let cursor = 0;
  for (const [start, end] of merged) {
    const from = origin[start]![0];
    const to = origin[end - 1]![1];
    if (from < cursor) continue;
    out += `${escapeHtml(original.slice(cursor, from))}<em>${escapeHtml(original.slice(from, to))}</em>`;
    cursor = to;
  }
  return out + escapeHtml(original.slice(cursor));
}
