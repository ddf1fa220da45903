// normalizeText's ASCII shortcut must give what the full pipeline (NFKC, OpenCC, lower case,
// separators out) gives: it fails if an OpenCC dictionary ever maps an ASCII sequence.
import { describe, expect, it } from 'vitest';
import { normalizeText, toSimplified } from '../../src/text/normalize.js';

const fullPipeline = (text: string): string => toSimplified(text.normalize('NFKC')).toLowerCase().replace(/[^\p{L}\p{N}\p{M}]+/gu, '');

describe('normalizeText on ASCII', () => {
  it('matches the full pipeline on every ASCII character and pair of printable characters', () => {
    const chars = Array.from({ length: 128 }, (_, code) => String.fromCharCode(code));
    const printable = chars.slice(32, 127);
    const texts = [...chars, ...printable.flatMap((a) => printable.map((b) => a + b))];
    const differing = texts.filter((text) => normalizeText(text) !== fullPipeline(text));
    expect(differing).toEqual([]);
  });

  it('matches it on sentences, and still folds non-ASCII text', () => {
    for (const text of ['The Weather, today!', 'Papers & PENS: 50% off', 'a\tb\nc', '']) expect(normalizeText(text)).toBe(fullPipeline(text));
    expect(normalizeText('Ｔea 藍色')).toBe('tea蓝色');
  });
});
