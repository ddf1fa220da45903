// The index families of the contextual-ads repositories and moderation on Elasticsearch (ads.ts,
// moderation.ts): strict mappings, each family versioned behind `<prefix>-<name>` aliases
// (documents.ts). What is only read back whole (boxes, brand-safety rules, flag lists, signal
// rows) is kept in _source unmapped; numeric vectors (features, weights) are float64 bytes.
// Also the cluster-wide counter both the inventory and the keywords versions are.
import type { TagKind } from '../ads.js';
import { BINARY, BOOLEAN, CONFLICT_RETRIES, DOUBLE, INTEGER, KEYWORD, LONG, OPAQUE, STORED_ONLY, type ElasticDocuments, type IndexFamily } from './documents.js';

export const TAG_KINDS: readonly TagKind[] = ['OBJECT', 'SCENE', 'MOOD'];

/** One counter document per state index, grown by a painless `+= 1`. */
const COUNTER = { version: LONG };

export type AdIndex = 'ads' | 'ad-state';
export const AD_FAMILY: IndexFamily<AdIndex> = {
  version: 1,
  properties: {
    ads: {
      id: KEYWORD,
      advertiser: KEYWORD,
      title: STORED_ONLY,
      creativeUrl: STORED_ONLY,
      keywords: KEYWORD,
      categories: KEYWORD,
      actors: KEYWORD,
      objects: KEYWORD,
      scenes: KEYWORD,
      moods: KEYWORD,
      excludeKeywords: KEYWORD,
      brandSafety: OPAQUE,
      flightStart: KEYWORD,
      flightEnd: KEYWORD,
      createdAt: KEYWORD,
      updatedAt: KEYWORD,
    },
    'ad-state': COUNTER,
  },
};

export type TagIndex = 'tags' | 'tag-sets';
export const TAG_FAMILY: IndexFamily<TagIndex> = {
  version: 1,
  properties: {
    tags: {
      videoId: KEYWORD,
      segmentId: KEYWORD,
      kind: KEYWORD,
      label: KEYWORD,
      score: DOUBLE,
      source: KEYWORD,
      box: OPAQUE,
      // Millisecond clock readings (ads.ts), beyond the integer range.
      generation: LONG,
      /** Place in the replace call: with videoId and generation, a unique sort tie-break. */
      position: INTEGER,
    },
    // Per video: the current generation of each tag kind.
    'tag-sets': {
      videoId: KEYWORD,
      generations: { type: 'object', properties: Object.fromEntries(TAG_KINDS.map((kind) => [kind, LONG])) },
    },
  },
};

export type HighlightIndex = 'highlight-signals' | 'highlight-feedback' | 'highlight-model';
export const HIGHLIGHT_FAMILY: IndexFamily<HighlightIndex> = {
  version: 1,
  properties: {
    // One document per video: its rows (segment, start, end, feature count) and all features.
    'highlight-signals': { videoId: KEYWORD, rows: OPAQUE, features: BINARY },
    'highlight-feedback': { id: KEYWORD, videoId: KEYWORD, start: DOUBLE, end: DOUBLE, good: BOOLEAN, features: BINARY, createdAt: KEYWORD },
    'highlight-model': { weights: BINARY, bias: DOUBLE, updates: LONG, updatedAt: KEYWORD },
  },
};

export type ModerationIndex = 'keyword-lists' | 'moderation-state' | 'moderation-videos';
export const MODERATION_FAMILY: IndexFamily<ModerationIndex> = {
  version: 1,
  properties: {
    'keyword-lists': { name: KEYWORD, keywords: KEYWORD, updatedAt: KEYWORD },
    'moderation-state': COUNTER,
    // One document per checked video: the check and its flags together (moderation.ts).
    'moderation-videos': { videoId: KEYWORD, keywordsVersion: LONG, videoUpdatedAt: KEYWORD, flagCount: INTEGER, flags: OPAQUE },
  },
};

/** Float64 little-endian bytes as base64 (BINARY fields): exact, and a quarter of JSON's size. */
export function encodeDoubles(values: readonly number[]): string {
  const bytes = Buffer.alloc(values.length * 8);
  values.forEach((value, i) => bytes.writeDoubleLE(value, i * 8));
  return bytes.toString('base64');
}

export function decodeDoubles(base64: string): number[] {
  const bytes = Buffer.from(base64, 'base64');
  return Array.from({ length: bytes.length / 8 }, (_, i) => bytes.readDoubleLE(i * 8));
}


/** A cluster-wide counter: one document grown by a scripted `+= 1`, read by real-time GET. */
export class ElasticCounter {
  constructor(
    private readonly documents: ElasticDocuments,
    private readonly index: string,
    private readonly id: string,
  ) {}

  async increment(): Promise<void> {
    await this.documents.call(() =>
      this.documents.client.update({
        index: this.index,
        id: this.id,
        script: { source: 'ctx._source.version += 1', lang: 'painless' },
        upsert: { version: 1 },
        retry_on_conflict: CONFLICT_RETRIES,
      }),
    );
  }

  async read(): Promise<number> {
    return (await this.documents.getOne<{ version: number }>(this.index, this.id))?.version ?? 0;
  }
}
