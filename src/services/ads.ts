// Contextual ads (情景广告, seed 000): an inventory editors and the ad system maintain, and a
// matcher that ranks ads for a moment of a video from what is said (BM25 of the dialogue against
// ad keywords), who is on screen (presence spans), what is seen (objects, via the IAB table) and
// what kind of scene it is (HEURISTIC scene/mood tags). Every score comes with its reasons.
//
// Scoring (documented, additive; each term is 0..its weight):
//   KEYWORD  1.0 × text relevance of the lines at the moment (the cue at `time`, or the segment's cues)
//   CONTEXT  0.3 × text relevance of the lines around it (the segment and ±CONTEXT_SEC)
//   ACTOR    0.8 × span confidence × share of the moment the actor is present
//   OBJECT   0.6 × detector score;  SCENE 0.4 × rule score;  MOOD 0.3 × rule score
//   CATEGORY 0.5 × score of the tag that implies the category (0.25 when only the IAB tier 1 agrees)
// Text relevance is BM25 over the inventory (ads are the documents, their keywords the terms),
// divided by the ad's own best single-keyword score and capped at 1: saying one of an ad's
// keywords in full is full relevance, however many ads the inventory holds.
// Left out of the answer, each counted by reason in `excluded`: ads outside their flight dates,
// ads whose excludeKeywords occur around the moment, ads avoiding the keyword lists that flag
// its lines, ads whose visual-risk tolerance (`maxVisualRisk`) the segment's graded NSFW risk
// exceeds, and ads avoiding one of the moment's scenes.
import { randomUUID } from 'node:crypto';
import { categoriesOfTag, iabTier1, isIabCode } from '../ads/iab-map.js';
import { canonicalMoodLabel, canonicalSceneLabel } from '../ads/tags.js';
import { textTerms } from '../ads/terms.js';
import type { CueRecord, SegmentRecord, ShotRecord } from '../domain.js';
import { BadInputError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import { canonicalObjectLabel } from '../models/objects/labels.js';
import { defaultMaxVisualRisk, type AdRecord, type BrandSafetyRules, type SegmentTagRecord } from '../store/ads.js';
import type { AppearanceSpanRecord } from '../store/appearances.js';
import type { Store } from '../store/interfaces.js';
import { normalizeText } from '../text/normalize.js';
import { buildKeywordMatcher, type KeywordMatcher } from './moderation.js';
import { pageFromStore, type Connection } from './pagination.js';

export const MATCH_WEIGHTS = {
  KEYWORD: 1.0,
  CONTEXT: 0.3,
  ACTOR: 0.8,
  OBJECT: 0.6,
  SCENE: 0.4,
  MOOD: 0.3,
  CATEGORY: 0.5,
} as const;
export type MatchReasonKind = keyof typeof MATCH_WEIGHTS;

/** Lines this far around the moment are its context. */
export const CONTEXT_SEC = 8;
/** With `time`, cues within this distance count as "at the moment" when none covers it. */
const FOCUS_SLACK_SEC = 1;
/** With `time`, presence is judged over [time − h, time + h]. */
const PRESENCE_HALF_WINDOW_SEC = 1;
/** An avoided scene counts when its tag is at least this sure. */
const AVOID_SCENE_MIN_SCORE = 0.5;
const BM25_K1 = 1.2;
const BM25_B = 0.75;
export const DEFAULT_MATCHES = 10;
export const MAX_MATCHES = 100;
const MAX_LIST = 200;
const MAX_TEXT = 500;
/** A break needs this much quiet on each side of the cut. */
const BREAK_QUIET_SEC = 0.5;
/** No breaks this close to the start or end of the video. */
const BREAK_EDGE_SEC = 2;

export interface AdInput {
  id?: string | null;
  advertiser?: string | null;
  title: string;
  creativeUrl?: string | null;
  keywords?: string[] | null;
  categories?: string[] | null;
  actors?: string[] | null;
  objects?: string[] | null;
  scenes?: string[] | null;
  moods?: string[] | null;
  excludeKeywords?: string[] | null;
  brandSafety?: (Partial<Omit<BrandSafetyRules, 'maxVisualRisk'>> & { maxVisualRisk?: number | null }) | null;
  flightStart?: string | null;
  flightEnd?: string | null;
}

export interface MatchReason {
  kind: MatchReasonKind;
  value: string;
  weight: number;
}

export interface AdMatch {
  ad: AdRecord;
  score: number;
  reasons: MatchReason[];
}

/** Why an ad that scored for a moment was left out. */
export type ExclusionReason = 'OUT_OF_FLIGHT' | 'EXCLUDE_KEYWORD' | 'FLAGGED_LINES' | 'VISUAL_RISK' | 'AVOIDED_SCENE';

export interface AdExclusion {
  reason: ExclusionReason;
  count: number;
  /** The first few ads left out for this reason, best-scoring first. */
  adIds: string[];
}

/** The ranked ads of one moment, what brand safety and targeting left out, and the segment's risk. */
export interface AdMatching {
  matches: AdMatch[];
  /**
   * Ads that scored for the moment but were left out, by reason, among those ranked above the last
   * match returned (all of them when fewer than `first` matched).
   */
  excluded: AdExclusion[];
  /** The segment's highest graded visual (NSFW) risk, 0..1 (0.5 = the flag line). */
  visualRisk: number;
}

export interface MatchQuery {
  segmentId?: string | null;
  videoId?: string | null;
  time?: number | null;
}

export interface AdBreak {
  videoId: string;
  /** The cut where the break goes (start of the next shot). */
  time: number;
  /** The segment that ends at the cut: the moment the ads are matched to. */
  segmentId: string;
  ads: AdMatch[];
}

export interface AdsService {
  upsertAd(input: AdInput): Promise<AdRecord>;
  deleteAd(id: string): Promise<boolean>;
  ad(id: string): Promise<AdRecord | null>;
  ads(first?: number | null, after?: string | null): Promise<Connection<AdRecord>>;
  matchAds(query: MatchQuery, first?: number | null): Promise<AdMatch[]>;
  /** matchAds with what was left out and why. */
  adMatching(query: MatchQuery, first?: number | null): Promise<AdMatching>;
  adBreaks(videoId: string, first?: number | null, adsPerBreak?: number | null): Promise<AdBreak[]>;
  /** Tags of each segment (same order; empty where none), for Segment.tags. */
  tagsOfSegments(segmentIds: readonly string[]): Promise<SegmentTagRecord[][]>;
}

export interface AdsDeps {
  store: Store;
  log: Logger;
  /** Today as YYYY-MM-DD (flight dates); injectable for tests. */
  today?: () => string;
}

/** Speech stretches the scenes stage stored (its artifact), used to find quiet cuts. */
export interface SpeechIntervals {
  speech: { start: number; end: number }[];
}

// ---------------------------------------------------------------- input checks

function cleanText(name: string, value: string | null | undefined, required = false): string | null {
  const trimmed = typeof value === 'string' ? value.trim() : '';
  if (!trimmed) {
    if (required) throw new BadInputError(`${name} must not be empty`, { field: name });
    return null;
  }
  if (trimmed.length > MAX_TEXT) throw new BadInputError(`${name} is longer than ${MAX_TEXT} characters`, { field: name });
  return trimmed;
}

function cleanList(name: string, values: readonly string[] | null | undefined): string[] {
  const list = (values ?? []).map((v) => (typeof v === 'string' ? v.trim() : '')).filter(Boolean);
  if (list.length > MAX_LIST) throw new BadInputError(`${name}: at most ${MAX_LIST} entries`, { field: name });
  for (const v of list) if (v.length > MAX_TEXT) throw new BadInputError(`${name}: an entry is longer than ${MAX_TEXT} characters`, { field: name });
  return [...new Set(list)];
}

function canonicalList(name: string, values: readonly string[], canonical: (v: string) => string | null): string[] {
  return [
    ...new Set(
      values.map((v) => {
        const c = canonical(v);
        if (!c) throw new BadInputError(`${name}: unknown value "${v}"`, { field: name, value: v });
        return c;
      }),
    ),
  ];
}

function cleanDate(name: string, value: string | null | undefined): string | null {
  const text = cleanText(name, value);
  if (text === null) return null;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`))) {
    throw new BadInputError(`${name} must be a date YYYY-MM-DD`, { field: name, value: text });
  }
  return text;
}

function cleanRisk(value: number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new BadInputError('brandSafety.maxVisualRisk must be a number from 0 to 1', { field: 'brandSafety.maxVisualRisk', value });
  }
  return value;
}

function cleanUrl(value: string | null | undefined): string | null {
  const text = cleanText('creativeUrl', value);
  if (text === null) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BadInputError('creativeUrl must be an absolute http(s) URL', { field: 'creativeUrl' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BadInputError('creativeUrl must be an http(s) URL', { field: 'creativeUrl' });
  return url.toString();
}

// ---------------------------------------------------------------- the in-memory matcher

interface Posting {
  ad: number;
  tf: number;
}

interface Inventory {
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
function textRelevance(inv: Inventory, terms: ReadonlySet<string>, touched: number[], seen: Uint8Array): Float64Array {
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

/** What the matcher knows about one moment of a video. */
export interface MomentEvidence {
  focusText: string[];
  contextText: string[];
  /** actorId → presence (confidence × share of the moment). */
  actors: Map<string, number>;
  tags: SegmentTagRecord[];
  /** The segment's highest graded visual risk (0 when the nsfw stage recorded none). */
  visualRisk: number;
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** The moment's signals, indexed for scoring any ad against them. */
interface MomentIndex {
  focusTerms: Set<string>;
  contextTerms: Set<string>;
  focusRel: Float64Array;
  contextRel: Float64Array;
  actors: Map<string, number>;
  /** "KIND:label" → best score. */
  tagScore: Map<string, number>;
  /** IAB category → best score of a tag implying it, and that tag's label. */
  categories: Map<string, { score: number; from: string }>;
  /** Tier-1 code → best of its categories. */
  tier1: Map<string, { score: number; from: string; code: string }>;
}

/** One ad's score against one moment: the sum of its reasons' weights, computed without allocating. */
function scoreOf(inv: Inventory, index: number, m: MomentIndex): number {
  const ad = inv.ads[index]!;
  let score = MATCH_WEIGHTS.KEYWORD * m.focusRel[index]! + MATCH_WEIGHTS.CONTEXT * m.contextRel[index]!;
  for (const actor of ad.actors) score += MATCH_WEIGHTS.ACTOR * (m.actors.get(actor) ?? 0);
  for (const { key, weight } of inv.adTagKeys[index]!) score += weight * (m.tagScore.get(key) ?? 0);
  let category = 0;
  const tier1 = inv.adTier1[index]!;
  for (let c = 0; c < ad.categories.length; c++) {
    category = Math.max(category, MATCH_WEIGHTS.CATEGORY * (m.categories.get(ad.categories[c]!)?.score ?? 0), (MATCH_WEIGHTS.CATEGORY / 2) * (m.tier1.get(tier1[c]!)?.score ?? 0));
  }
  return score + category;
}

/** One ad against one moment: its reasons (weights unrounded), in no particular order. */
function explain(inv: Inventory, index: number, m: MomentIndex): MatchReason[] {
  const ad = inv.ads[index]!;
  const reasons: MatchReason[] = [];
  const matchedTerms = (terms: Set<string>): string => [...terms].filter((t) => inv.adTerms[index]!.has(t)).join(' ');
  if (m.focusRel[index]! > 0) reasons.push({ kind: 'KEYWORD', value: matchedTerms(m.focusTerms), weight: MATCH_WEIGHTS.KEYWORD * m.focusRel[index]! });
  if (m.contextRel[index]! > 0) reasons.push({ kind: 'CONTEXT', value: matchedTerms(m.contextTerms), weight: MATCH_WEIGHTS.CONTEXT * m.contextRel[index]! });
  for (const actor of ad.actors) {
    const presence = m.actors.get(actor);
    if (presence) reasons.push({ kind: 'ACTOR', value: actor, weight: MATCH_WEIGHTS.ACTOR * presence });
  }
  const tagged = (kind: 'OBJECT' | 'SCENE' | 'MOOD', labels: readonly string[]): void => {
    for (const label of labels) {
      const score = m.tagScore.get(`${kind}:${label}`);
      if (score) reasons.push({ kind, value: label, weight: MATCH_WEIGHTS[kind] * score });
    }
  };
  tagged('OBJECT', ad.objects);
  tagged('SCENE', ad.scenes);
  tagged('MOOD', ad.moods);
  let category: MatchReason | null = null;
  for (const code of ad.categories) {
    const exact = m.categories.get(code);
    const related = m.tier1.get(iabTier1(code));
    const offers: MatchReason[] = [];
    if (exact) offers.push({ kind: 'CATEGORY', value: `${code} (${exact.from})`, weight: MATCH_WEIGHTS.CATEGORY * exact.score });
    if (related) offers.push({ kind: 'CATEGORY', value: `${iabTier1(code)} (${related.from})`, weight: (MATCH_WEIGHTS.CATEGORY / 2) * related.score });
    for (const offer of offers) if (!category || offer.weight > category.weight) category = offer;
  }
  if (category) reasons.push(category);
  return reasons.filter((r) => r.weight > 0);
}

function indexMoment(inv: Inventory, moment: MomentEvidence, candidates: number[], seen: Uint8Array): MomentIndex {
  const focusTerms = new Set(moment.focusText.flatMap(textTerms));
  const contextTerms = new Set(moment.contextText.flatMap(textTerms));
  const tagScore = new Map<string, number>();
  const categories = new Map<string, { score: number; from: string }>();
  for (const tag of moment.tags) {
    const key = `${tag.kind}:${tag.label}`;
    if ((tagScore.get(key) ?? -1) < tag.score) tagScore.set(key, tag.score);
    for (const code of categoriesOfTag(tag.kind, tag.label)) {
      if ((categories.get(code)?.score ?? -1) < tag.score) categories.set(code, { score: tag.score, from: tag.label });
    }
  }
  const tier1 = new Map<string, { score: number; from: string; code: string }>();
  for (const [code, c] of categories) {
    const top = iabTier1(code);
    if ((tier1.get(top)?.score ?? -1) < c.score) tier1.set(top, { ...c, code });
  }
  const mark = (ads: readonly number[] | undefined): void => {
    for (const ad of ads ?? []) {
      if (!seen[ad]) {
        seen[ad] = 1;
        candidates.push(ad);
      }
    }
  };
  const focusRel = textRelevance(inv, focusTerms, candidates, seen);
  const contextRel = textRelevance(inv, contextTerms, candidates, seen);
  for (const actor of moment.actors.keys()) mark(inv.byActor.get(actor));
  for (const key of tagScore.keys()) {
    const [kind, label] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    mark((kind === 'OBJECT' ? inv.byObject : kind === 'SCENE' ? inv.byScene : inv.byMood).get(label));
  }
  for (const code of categories.keys()) mark(inv.byCategory.get(code));
  for (const top of tier1.keys()) mark(inv.byTier1.get(top));
  return { focusTerms, contextTerms, focusRel, contextRel, actors: moment.actors, tagScore, categories, tier1 };
}

/** At most this many ad ids are named per exclusion reason. */
const EXCLUDED_IDS = 5;

/**
 * Ranks the inventory for one moment (pure: everything it needs is passed in). Candidates come
 * from the inverted indexes; each is scored without allocating, and reasons are built for the
 * winners only, so a moment that touches thousands of ads stays cheap.
 */
export function rankAds(
  inv: Inventory,
  moment: MomentEvidence,
  options: { first: number; today: string; flagsOf: (texts: readonly string[]) => { list: string }[] },
): AdMatching {
  const candidates: number[] = [];
  const m = indexMoment(inv, moment, candidates, new Uint8Array(inv.ads.length));
  const score = new Float64Array(inv.ads.length);
  for (const index of candidates) score[index] = scoreOf(inv, index, m);
  // The inventory is in id order, so the index breaks ties by ad id.
  const ranked = candidates.filter((i) => score[i]! > 0).sort((a, b) => score[b]! - score[a]! || a - b);

  const allText = [...moment.focusText, ...moment.contextText];
  const normalizedText = allText.map(normalizeText).join('\n');
  let flags: { list: string }[] | null = null;
  const sceneScore = (label: string): number => Math.max(m.tagScore.get(`SCENE:${label}`) ?? 0, m.tagScore.get(`MOOD:${label}`) ?? 0);
  const exclusionOf = (index: number): ExclusionReason | null => {
    const ad = inv.ads[index]!;
    if ((ad.flightStart && options.today < ad.flightStart) || (ad.flightEnd && options.today > ad.flightEnd)) return 'OUT_OF_FLIGHT';
    if (inv.excludes[index]!.some((k) => normalizedText.includes(k))) return 'EXCLUDE_KEYWORD';
    if (ad.brandSafety.avoidFlagged) {
      flags ??= options.flagsOf(allText);
      const lists = ad.brandSafety.avoidLists;
      if (flags.some((f) => lists.length === 0 || lists.includes(f.list))) return 'FLAGGED_LINES';
    }
    if (moment.visualRisk > ad.brandSafety.maxVisualRisk) return 'VISUAL_RISK';
    if (ad.brandSafety.avoidScenes.some((label) => sceneScore(label) >= AVOID_SCENE_MIN_SCORE)) return 'AVOIDED_SCENE';
    return null;
  };

  const matches: AdMatch[] = [];
  const excluded = new Map<ExclusionReason, AdExclusion>();
  for (const index of ranked) {
    if (matches.length >= options.first) break;
    const reason = exclusionOf(index);
    if (reason) {
      const entry = excluded.get(reason) ?? { reason, count: 0, adIds: [] };
      entry.count++;
      if (entry.adIds.length < EXCLUDED_IDS) entry.adIds.push(inv.ads[index]!.id);
      excluded.set(reason, entry);
      continue;
    }
    const reasons = explain(inv, index, m)
      .map((r) => ({ ...r, weight: round(r.weight) }))
      .sort((a, b) => b.weight - a.weight || a.kind.localeCompare(b.kind));
    matches.push({ ad: inv.ads[index]!, score: round(score[index]!), reasons });
  }
  return { matches, excluded: [...excluded.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)), visualRisk: moment.visualRisk };
}

// ---------------------------------------------------------------- the service

/** What a video gives every moment of it: its lines, presence spans and each segment's visual risk. */
interface VideoEvidence {
  cues: CueRecord[];
  spans: AppearanceSpanRecord[];
  /** segment id → highest graded visual risk over the labels (absent: none recorded). */
  visualRisk: Map<string, number>;
}

/** The segment whose [start, end) holds `time`; in a gap or past the end, the latest one started by then (as Catalog.segmentAt). */
export function segmentContaining(segments: readonly SegmentRecord[], time: number): SegmentRecord | null {
  let started: SegmentRecord | null = null;
  for (const segment of segments) {
    if (segment.start > time) continue;
    if (time < segment.end) return segment;
    if (!started || segment.index > started.index) started = segment;
  }
  return started;
}

/** The evidence of one moment: the segment's or the time's lines, presence and tags. */
export function momentEvidence(segment: SegmentRecord, time: number | null, video: VideoEvidence, tags: SegmentTagRecord[]): MomentEvidence {
  const focusFrom = time ?? segment.start;
  const focusTo = time ?? segment.end;
  const contextFrom = Math.min(segment.start, focusFrom - CONTEXT_SEC);
  const contextTo = Math.max(segment.end, focusTo + CONTEXT_SEC);
  const { cues, spans } = video;
  let focus = cues.filter((c) => (time === null ? overlap(c.start, c.end, segment.start, segment.end) > 0 || c.segmentId === segment.id : c.start <= time && c.end >= time));
  if (time !== null && focus.length === 0) focus = cues.filter((c) => c.end >= time - FOCUS_SLACK_SEC && c.start <= time + FOCUS_SLACK_SEC);
  const focusIds = new Set(focus.map((c) => c.id));
  const context = cues.filter((c) => !focusIds.has(c.id) && c.end > contextFrom && c.start < contextTo);

  const windowFrom = time === null ? segment.start : time - PRESENCE_HALF_WINDOW_SEC;
  const windowTo = time === null ? segment.end : time + PRESENCE_HALF_WINDOW_SEC;
  const windowLength = Math.max(1e-6, windowTo - windowFrom);
  const actors = new Map<string, number>();
  for (const span of spans) {
    const share = Math.min(1, overlap(span.start, span.end, windowFrom, windowTo) / windowLength);
    if (share <= 0) continue;
    actors.set(span.actorId, Math.max(actors.get(span.actorId) ?? 0, span.confidence * share));
  }
  return { focusText: focus.map((c) => c.text), contextText: context.map((c) => c.text), actors, tags, visualRisk: video.visualRisk.get(segment.id) ?? 0 };
}

function overlap(aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  return Math.max(0, Math.min(aEnd, bEnd) - Math.max(aStart, bStart));
}

function matchCount(first: number | null | undefined, fallback = DEFAULT_MATCHES): number {
  if (first === null || first === undefined) return fallback;
  if (!Number.isInteger(first) || first < 1 || first > MAX_MATCHES) {
    throw new BadInputError(`first must be a whole number from 1 to ${MAX_MATCHES}`, { first, max: MAX_MATCHES });
  }
  return first;
}

export function createAdsService(deps: AdsDeps): AdsService {
  const { store, log } = deps;
  const today = deps.today ?? (() => new Date().toISOString().slice(0, 10));
  let inventory: Inventory | null = null;
  let building: Promise<Inventory> | null = null;
  let moderation: { version: number; matcher: KeywordMatcher } | null = null;

  async function currentInventory(): Promise<Inventory> {
    const version = await store.ads.inventoryVersion();
    if (inventory?.version === version) return inventory;
    building ??= (async () => {
      const started = performance.now();
      const built = buildInventory(await store.ads.allAds(), version);
      log.debug({ ads: built.ads.length, ms: Math.round(performance.now() - started) }, 'ad inventory indexed');
      return built;
    })().finally(() => {
      building = null;
    });
    inventory = await building;
    return inventory;
  }

  async function moderationMatcher(): Promise<KeywordMatcher> {
    const version = await store.moderation.keywordsVersion();
    if (moderation?.version !== version) moderation = { version, matcher: buildKeywordMatcher(await store.moderation.listKeywordLists()) };
    return moderation.matcher;
  }

  async function validateActors(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const found = await store.actors.getActors(ids);
    const missing = ids.filter((_, i) => !found[i]);
    if (missing.length) throw new BadInputError(`actors: unknown actor ids ${missing.join(', ')}`, { field: 'actors', missing });
  }

  /** The moment a query names: its segment, and the time when one was given. */
  async function locate(query: MatchQuery): Promise<{ segment: SegmentRecord; time: number | null }> {
    const hasTime = query.time !== null && query.time !== undefined;
    if (query.segmentId && (query.videoId || hasTime)) throw new BadInputError('give either segmentId, or videoId and time, not both');
    if (query.segmentId) {
      const segment = await store.catalog.getSegment(query.segmentId);
      if (!segment) throw new NotFoundError('segment', query.segmentId);
      return { segment, time: null };
    }
    if (!query.videoId || !hasTime) throw new BadInputError('give segmentId, or videoId and time');
    const time = query.time!;
    if (!Number.isFinite(time) || time < 0) throw new BadInputError('time must be a number of seconds ≥ 0', { time });
    const video = await store.catalog.getVideo(query.videoId);
    if (!video) throw new NotFoundError('video', query.videoId);
    if (time > video.durationSec + 1) throw new BadInputError(`time ${time} is past the end of the video (${video.durationSec} s)`, { time });
    const segment = await store.catalog.segmentAt(query.videoId, time);
    if (!segment) throw new NotFoundError('segment of video at time', `${query.videoId}@${time}`);
    return { segment, time };
  }

  /** Read once per call, however many moments of the video are ranked (adBreaks ranks up to 100). */
  async function videoEvidence(videoId: string): Promise<VideoEvidence> {
    const [cues, spans, risks] = await Promise.all([store.catalog.getCues(videoId), store.appearances.getSpansOfVideo(videoId), store.technical.getVisualFlags(videoId)]);
    const visualRisk = new Map<string, number>();
    for (const r of risks) visualRisk.set(r.segmentId, Math.max(visualRisk.get(r.segmentId) ?? 0, r.risk));
    return { cues, spans, visualRisk };
  }

  /** Everything ranking needs besides the moment, read in parallel with it. */
  async function rankingInputs(): Promise<{ inv: Inventory; matcher: KeywordMatcher }> {
    const [inv, matcher] = await Promise.all([currentInventory(), moderationMatcher()]);
    return { inv, matcher };
  }

  function rankMoment(
    segment: SegmentRecord,
    time: number | null,
    video: VideoEvidence,
    tags: SegmentTagRecord[],
    ranking: { inv: Inventory; matcher: KeywordMatcher },
    count: number,
  ): AdMatching {
    return rankAds(ranking.inv, momentEvidence(segment, time, video, tags), {
      first: count,
      today: today(),
      flagsOf: (texts) => texts.flatMap((t) => ranking.matcher(t)),
    });
  }

  async function adMatching(query: MatchQuery, first?: number | null): Promise<AdMatching> {
    const count = matchCount(first);
    const { segment, time } = await locate(query);
    const [video, [tags], ranking] = await Promise.all([videoEvidence(segment.videoId), store.tags.getTagsOfSegments([segment.id]), rankingInputs()]);
    return rankMoment(segment, time, video, tags ?? [], ranking, count);
  }

  return {
    async upsertAd(input) {
      const now = new Date().toISOString();
      const id = cleanText('id', input.id) ?? randomUUID();
      const existing = await store.ads.getAd(id);
      const actors = cleanList('actors', input.actors);
      await validateActors(actors);
      const categories = cleanList('categories', input.categories).map((c) => c.toUpperCase());
      const badCategory = categories.find((c) => !isIabCode(c));
      if (badCategory) throw new BadInputError(`categories: "${badCategory}" is not an IAB code like IAB8 or IAB8-18`, { field: 'categories' });
      const safety = input.brandSafety ?? {};
      const avoidFlagged = safety.avoidFlagged ?? true;
      const avoidLists = cleanList('brandSafety.avoidLists', safety.avoidLists);
      const ad: AdRecord = {
        id,
        advertiser: cleanText('advertiser', input.advertiser),
        title: cleanText('title', input.title, true)!,
        creativeUrl: cleanUrl(input.creativeUrl),
        keywords: cleanList('keywords', input.keywords),
        categories,
        actors,
        objects: canonicalList('objects', cleanList('objects', input.objects), canonicalObjectLabel),
        scenes: canonicalList('scenes', cleanList('scenes', input.scenes), canonicalSceneLabel),
        moods: canonicalList('moods', cleanList('moods', input.moods), canonicalMoodLabel),
        excludeKeywords: cleanList('excludeKeywords', input.excludeKeywords),
        brandSafety: {
          avoidFlagged,
          avoidLists,
          avoidScenes: canonicalList(
            'brandSafety.avoidScenes',
            cleanList('brandSafety.avoidScenes', safety.avoidScenes),
            (v) => canonicalSceneLabel(v) ?? canonicalMoodLabel(v),
          ),
          maxVisualRisk: cleanRisk(safety.maxVisualRisk) ?? defaultMaxVisualRisk({ avoidFlagged, avoidLists }),
        },
        flightStart: cleanDate('flightStart', input.flightStart),
        flightEnd: cleanDate('flightEnd', input.flightEnd),
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      };
      if (ad.flightStart && ad.flightEnd && ad.flightStart > ad.flightEnd) throw new BadInputError('flightStart is after flightEnd');
      await store.ads.putAd(ad);
      return ad;
    },
    deleteAd: (id) => store.ads.deleteAd(id),
    ad: (id) => store.ads.getAd(id),
    ads: (first, after) => pageFromStore((page) => store.ads.listAds(page), first, after),
    adMatching,
    matchAds: async (query, first) => (await adMatching(query, first)).matches,
    tagsOfSegments: (segmentIds) => store.tags.getTagsOfSegments(segmentIds),
    async adBreaks(videoId, first, adsPerBreak) {
      const count = matchCount(first, 20);
      const perBreak = matchCount(adsPerBreak, 3);
      const video = await store.catalog.getVideo(videoId);
      if (!video) throw new NotFoundError('video', videoId);
      const [shots, speech, cues] = await Promise.all([
        store.catalog.getShots(videoId),
        store.catalog.getArtifact<SpeechIntervals>(videoId, 'scenes'),
        store.catalog.getCues(videoId, ['SUBTITLE']),
      ]);
      // Speech as the scenes stage heard it; a video without that stage falls back to its subtitles.
      const talking = speech?.speech ?? cues.map((c) => ({ start: c.start, end: c.end }));
      const quietCuts = shots
        .filter((s: ShotRecord) => s.index > 0 && s.start >= BREAK_EDGE_SEC && s.start <= video.durationSec - BREAK_EDGE_SEC)
        .filter((s) => !talking.some((t) => t.end > s.start - BREAK_QUIET_SEC && t.start < s.start + BREAK_QUIET_SEC))
        .slice(0, count);
      if (quietCuts.length === 0) return [];
      // One read of the video's segments, lines, spans, flags and the breaks' tags for all breaks
      // (not one round per break).
      const segments = await store.catalog.getSegmentsOfVideo(videoId);
      const placed = quietCuts
        .map((cut) => ({ cut, before: segmentContaining(segments, Math.max(0, cut.start - 0.05)) }))
        .filter((b): b is { cut: ShotRecord; before: SegmentRecord } => b.before !== null);
      const [evidenceOfVideo, tags, ranking] = await Promise.all([
        videoEvidence(videoId),
        store.tags.getTagsOfSegments(placed.map((b) => b.before.id)),
        rankingInputs(),
      ]);
      return placed.map(({ cut, before }, i) => ({
        videoId,
        time: cut.start,
        segmentId: before.id,
        ads: rankMoment(before, null, evidenceOfVideo, tags[i] ?? [], ranking, perBreak).matches,
      }));
    },
  };
}
