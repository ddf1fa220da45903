// Terms for matching dialogue against ad keywords: jieba words for Chinese (precise mode), words
// for everything else, each normalised like the rest of the project (NFKC, traditional →
// simplified, lower case) and Latin words Porter-stemmed, so "Papers"/"paper" and "蓝色"/"藍色" meet.
import { stemmer } from 'stemmer';
import { normalizeText } from '../text/normalize.js';
import { wordSegmenter } from '../text/segmenter.js';

const LATIN = /^[a-z]+$/;
/** Words that carry no topic (English); Chinese function words are dropped by length/normalisation only. */
const STOP_WORDS = new Set(['a', 'an', 'the', 'and', 'or', 'of', 'to', 'in', 'on', 'at', 'by', 'with', 'is', 'are', 'be', 'it', 'for']);

/** Distinct-order-preserving list of the text's terms (duplicates kept: callers count them). */
export function textTerms(text: string): string[] {
  const terms: string[] = [];
  for (const word of wordSegmenter().cut(text.normalize('NFKC'), false)) {
    const normal = normalizeText(word);
    if (!normal || STOP_WORDS.has(normal)) continue;
    terms.push(LATIN.test(normal) ? stemmer(normal) : normal);
  }
  return terms;
}
