// Text normalisation shared by search, OCR cue merging and keyword moderation, so that a query,
// a stored cue and a blocked keyword compare equal whatever way they were written: full-width vs
// half-width forms, traditional vs simplified characters, letter case, and spaces or punctuation
// slipped between characters to dodge a filter ("微 信.号" still matches "微信号").
import { Converter } from 'opencc-js/t2cn';

// 't' (OpenCC's generic traditional) covers Taiwan and Hong Kong variants well enough for matching.
// One converter per process (its tables are a few MB): the text index's tokens use it too.
export const toSimplified = Converter({ from: 't', to: 'cn' });

/** Anything that is not a letter, a digit or a mark: spaces, punctuation, symbols, emoji. */
const SEPARATORS = /[^\p{L}\p{N}\p{M}]+/gu;

/** Only ASCII: NFKC leaves such text as it is, and no OpenCC dictionary entry is made of ASCII. */
const ASCII_ONLY = /^[\x00-\x7f]*$/;

/**
 * NFKC (folds full-width ASCII, compatibility ideographs, circled digits), then traditional →
 * simplified, lower-case, and every space/punctuation/symbol removed. ASCII text skips the first
 * two steps, which cannot change it (the OpenCC pass walks its dictionary trie character by
 * character: most of the cost of normalising an English word).
 */
export function normalizeText(text: string): string {
  const folded = ASCII_ONLY.test(text) ? text : toSimplified(text.normalize('NFKC'));
  return folded.toLowerCase().replace(SEPARATORS, '');
}

/**
 * The looser form the evals use (NFKC, no whitespace, lower-case): punctuation and script are kept,
 * because a recogniser that drops a comma or swaps 們 for 们 made a real error there.
 */
export function normalizeForScoring(text: string): string {
  return text.normalize('NFKC').replace(/\s+/gu, '').toLowerCase();
}
