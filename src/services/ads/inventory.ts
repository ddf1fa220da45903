// The in-memory matcher's inventory: every ad indexed once per inventory version (inverted
// indexes by keyword term, actor, object, scene, mood and IAB category) for scoring any moment.
// Text relevance is BM25 over the inventory (ads are the documents, their keywords the terms),
// divided by the ad's own best single-keyword score and capped at 1: saying one of an ad's
// keywords in full is full relevance, however many ads the inventory holds.
import { iabTier1 } from '../../ads/iab-map.js';
import { textTerms } from '../../ads/terms.js';
import type { AdRecord } from '../../store/ads.js';
import { normalizeText } from '../../text/normalize.js';
import { MATCH_WEIGHTS } from './types.js';

const BM25_K1 = 1.2;
const BM25_B = 0.75;

interface Posting {
  ad: number;
  tf: number;
}

export interface Inventory {
  version: number;
  ads: AdRecord[];
  postings: Map<string, Posting[]>;
  idf: Map<string, number>;
  docLength: Float64Array;
  avgDocLength: number;
  /** Per ad: BM25 of its best single keyword against itself (the normaliser). */
  selfScore: Float64Array;
  byActor: Map<string, number[]>;
  byObject: Map<string, number[]>;
  byScene: Map<string, number[]>;
  byMood: Map<string, number[]>;
  /** Exact category → ads, and tier-1 code → ads (for the weaker parent/child match). */
  byCategory: Map<string, number[]>;
  byTier1: Map<string, number[]>;
  /** Per ad: normalised exclude keywords. */
  excludes: string[][];
  /** Per ad: its keyword terms (to name the matched words). */
  adTerms: Set<string>[];
  /** Per ad: its targeted tags as "KIND:label" keys, and its categories' tier-1 codes (precomputed for scoring). */
  adTagKeys: { key: string; weight: number }[][];
  adTier1: string[][];
}

function push(map: Map<string, number[]>, key: string, ad: number): void {
  const list = map.get(key);
  if (list) {
    if (list[list.length - 1] !== ad) list.push(ad);
  } else map.set(key, [ad]);
}

function bm25Part(tf: number, docLength: number, avgDocLength: number): number {
  return (tf * (BM25_K1 + 1)) / (tf + BM25_K1 * (1 - BM25_B + (BM25_B * docLength) / (avgDocLength || 1)));
}

export function buildInventory(unsorted: readonly AdRecord[], version: number): Inventory {
  // Id order: rankAds breaks score ties by inventory index.
  const ads = [...unsorted].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const postings = new Map<string, Posting[]>();
  const docLength = new Float64Array(ads.length);
  const keywordTerms: string[][][] = [];
  const inv: Inventory = {
    version,
    ads,
    postings,
    idf: new Map(),
    docLength,
    avgDocLength: 0,
    selfScore: new Float64Array(ads.length),
    byActor: new Map(),
    byObject: new Map(),
    byScene: new Map(),
    byMood: new Map(),
    byCategory: new Map(),
    byTier1: new Map(),
    excludes: [],
    adTerms: [],
    adTagKeys: [],
    adTier1: [],
  };
  ads.forEach((ad, i) => {
    const perKeyword = ad.keywords.map((k) => [...new Set(textTerms(k))]).filter((t) => t.length > 0);
    keywordTerms.push(perKeyword);
    const tf = new Map<string, number>();
    for (const terms of perKeyword) for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [term, count] of tf) {
      const list = postings.get(term);
      if (list) list.push({ ad: i, tf: count });
      else postings.set(term, [{ ad: i, tf: count }]);
      docLength[i] += count;
    }
    for (const a of ad.actors) push(inv.byActor, a, i);
    for (const o of ad.objects) push(inv.byObject, o, i);
    for (const s of ad.scenes) push(inv.byScene, s, i);
    for (const m of ad.moods) push(inv.byMood, m, i);
    for (const c of ad.categories) {
      push(inv.byCategory, c, i);
      push(inv.byTier1, iabTier1(c), i);
    }
    inv.excludes.push(ad.excludeKeywords.map(normalizeText).filter(Boolean));
    inv.adTerms.push(new Set(tf.keys()));
    inv.adTagKeys.push([
      ...ad.objects.map((label) => ({ key: `OBJECT:${label}`, weight: MATCH_WEIGHTS.OBJECT })),
      ...ad.scenes.map((label) => ({ key: `SCENE:${label}`, weight: MATCH_WEIGHTS.SCENE })),
      ...ad.moods.map((label) => ({ key: `MOOD:${label}`, weight: MATCH_WEIGHTS.MOOD })),
    ]);
    inv.adTier1.push(ad.categories.map(iabTier1));
  });
  inv.avgDocLength = ads.length ? docLength.reduce((a, b) => a + b, 0) / ads.length : 0;
  for (const [term, list] of postings) {
    // BM25+ style floor keeps a term every ad uses slightly positive.
    inv.idf.set(term, Math.log(1 + (ads.length - list.length + 0.5) / (list.length + 0.5)));
  }
  keywordTerms.forEach((perKeyword, i) => {
    let best = 0;
    for (const terms of perKeyword) {
      let score = 0;
      for (const t of terms) {
        const tf = postings.get(t)!.find((p) => p.ad === i)!.tf;
        score += inv.idf.get(t)! * bm25Part(tf, docLength[i]!, inv.avgDocLength);
      }
      best = Math.max(best, score);
    }
    inv.selfScore[i] = best;
  });
  return inv;
}

/**
 * Text relevance per ad (0..1) of a set of query terms: BM25 accumulated into a dense array (no
 * per-ad objects: a common word can touch thousands of ads), then divided by the ad's self score.
 */
export function textRelevance(inv: Inventory, terms: ReadonlySet<string>, touched: number[], seen: Uint8Array): Float64Array {
  const scores = new Float64Array(inv.ads.length);
  for (const term of terms) {
    const list = inv.postings.get(term);
    if (!list) continue;
    const idf = inv.idf.get(term)!;
    for (const p of list) {
      scores[p.ad]! += idf * bm25Part(p.tf, inv.docLength[p.ad]!, inv.avgDocLength);
      if (!seen[p.ad]) {
        seen[p.ad] = 1;
        touched.push(p.ad);
      }
    }
  }
  for (const ad of touched) {
    const self = inv.selfScore[ad]!;
    scores[ad] = self > 0 ? Math.min(1, scores[ad]! / self) : 0;
  }
  return scores;
}
