// One jieba word segmenter per process, shared by the text index (search and indexing) and ad
// keyword matching: each instance holds its own copy of the dictionary, ~35 MB of native memory,
// and both used the same dictionary, so a serving process held it twice.
import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';

let jieba: Jieba | null = null;

/** The process's jieba with the default dictionary, loaded on first use (~0.3 s). */
export function wordSegmenter(): Jieba {
  jieba ??= Jieba.withDict(dict);
  return jieba;
}
