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
// Excluded before scoring: ads outside their flight dates, ads whose excludeKeywords occur around
// the moment, ads with brand-safety rules broken by moderation flags or avoided scenes.
import { randomUUID } from 'node:crypto';
import { categoriesOfTag, iabTier1, isIabCode } from '../ads/iab-map.js';
import { canonicalMoodLabel, canonicalSceneLabel } from '../ads/tags.js';
import { textTerms } from '../ads/terms.js';
import type { CueRecord, SegmentRecord, ShotRecord } from '../domain.js';
import { BadInputError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import { canonicalObjectLabel } from '../models/objects/labels.js';
import type { AdRecord, BrandSafetyRules, SegmentTagRecord } from '../store/ads.js';
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
  brandSafety?: Partial<BrandSafetyRules> | null;
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

export function buildInventory(ads: readonly AdRecord[], version: number): Inventory {
  const postings = new Map<string, Posting[]>();
  const docLength = new Float64Array(ads.length);
  const keywordTerms: string[][][] = [];
  const inv: Inventory = {
    version,
    ads: [...ads],
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

/** Text relevance per ad (0..1) of a set of query terms, with the terms that matched. */
function textRelevance(inv: Inventory, terms: ReadonlySet<string>): Map<number, { rel: number; matched: string[] }> {
  const raw = new Map<number, { score: number; matched: string[] }>();
  for (const term of terms) {
    const list = inv.postings.get(term);
    if (!list) continue;
    const idf = inv.idf.get(term)!;
    for (const p of list) {
      const entry = raw.get(p.ad) ?? { score: 0, matched: [] };
      entry.score += idf * bm25Part(p.tf, inv.docLength[p.ad]!, inv.avgDocLength);
      entry.matched.push(term);
      raw.set(p.ad, entry);
    }
  }
  const out = new Map<number, { rel: number; matched: string[] }>();
  for (const [ad, { score, matched }] of raw) {
    const self = inv.selfScore[ad]!;
    if (self > 0) out.set(ad, { rel: Math.min(1, score / self), matched });
  }
  return out;
}

/** What the matcher knows about one moment of a video. */
export interface MomentEvidence {
  focusText: string[];
  contextText: string[];
  /** actorId → presence (confidence × share of the moment). */
  actors: Map<string, number>;
  tags: SegmentTagRecord[];
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** Ranks the inventory for one moment (pure: everything it needs is passed in). */
export function rankAds(
  inv: Inventory,
  moment: MomentEvidence,
  options: { first: number; today: string; flagsOf: (texts: readonly string[]) => { list: string }[] },
): AdMatch[] {
  const reasons = new Map<number, MatchReason[]>();
  const add = (ad: number, reason: MatchReason): void => {
    if (reason.weight <= 0) return;
    const list = reasons.get(ad);
    if (list) list.push(reason);
    else reasons.set(ad, [reason]);
  };

  const focusTerms = new Set(moment.focusText.flatMap(textTerms));
  const contextTerms = new Set(moment.contextText.flatMap(textTerms));
  for (const [ad, { rel, matched }] of textRelevance(inv, focusTerms)) add(ad, { kind: 'KEYWORD', value: matched.join(' '), weight: MATCH_WEIGHTS.KEYWORD * rel });
  for (const [ad, { rel, matched }] of textRelevance(inv, contextTerms)) add(ad, { kind: 'CONTEXT', value: matched.join(' '), weight: MATCH_WEIGHTS.CONTEXT * rel });

  for (const [actorId, presence] of moment.actors) {
    for (const ad of inv.byActor.get(actorId) ?? []) add(ad, { kind: 'ACTOR', value: actorId, weight: MATCH_WEIGHTS.ACTOR * presence });
  }

  // Best score per tag label, and per category the best tag implying it.
  const bestTag = new Map<string, SegmentTagRecord>();
  for (const tag of moment.tags) {
    const key = `${tag.kind}:${tag.label}`;
    if ((bestTag.get(key)?.score ?? -1) < tag.score) bestTag.set(key, tag);
  }
  const categoryScore = new Map<string, { score: number; from: string }>();
  for (const tag of bestTag.values()) {
    const index = tag.kind === 'OBJECT' ? inv.byObject : tag.kind === 'SCENE' ? inv.byScene : inv.byMood;
    for (const ad of index.get(tag.label) ?? []) add(ad, { kind: tag.kind, value: tag.label, weight: MATCH_WEIGHTS[tag.kind] * tag.score });
    for (const category of categoriesOfTag(tag.kind, tag.label)) {
      if ((categoryScore.get(category)?.score ?? -1) < tag.score) categoryScore.set(category, { score: tag.score, from: tag.label });
    }
  }
  const categoryReasons = new Map<number, MatchReason>();
  const offerCategory = (ad: number, reason: MatchReason): void => {
    const current = categoryReasons.get(ad);
    if (!current || current.weight < reason.weight) categoryReasons.set(ad, reason);
  };
  for (const [category, { score, from }] of categoryScore) {
    for (const ad of inv.byCategory.get(category) ?? []) offerCategory(ad, { kind: 'CATEGORY', value: `${category} (${from})`, weight: MATCH_WEIGHTS.CATEGORY * score });
    for (const ad of inv.byTier1.get(iabTier1(category)) ?? []) {
      offerCategory(ad, { kind: 'CATEGORY', value: `${iabTier1(category)} (${from})`, weight: (MATCH_WEIGHTS.CATEGORY / 2) * score });
    }
  }
  for (const [ad, reason] of categoryReasons) add(ad, reason);

  const allText = [...moment.focusText, ...moment.contextText];
  const normalizedText = allText.map(normalizeText).join('\n');
  let flags: { list: string }[] | null = null;
  const sceneScore = (label: string): number => Math.max(0, ...moment.tags.filter((t) => t.kind !== 'OBJECT' && t.label === label).map((t) => t.score));

  const matches: AdMatch[] = [];
  for (const [index, list] of reasons) {
    const ad = inv.ads[index]!;
    if ((ad.flightStart && options.today < ad.flightStart) || (ad.flightEnd && options.today > ad.flightEnd)) continue;
    if (inv.excludes[index]!.some((k) => normalizedText.includes(k))) continue;
    if (ad.brandSafety.avoidFlagged) {
      flags ??= options.flagsOf(allText);
      const lists = ad.brandSafety.avoidLists;
      if (flags.some((f) => lists.length === 0 || lists.includes(f.list))) continue;
    }
    if (ad.brandSafety.avoidScenes.some((label) => sceneScore(label) >= AVOID_SCENE_MIN_SCORE)) continue;
    const sorted = list.map((r) => ({ ...r, weight: round(r.weight) })).sort((a, b) => b.weight - a.weight || a.kind.localeCompare(b.kind));
    matches.push({ ad, score: round(list.reduce((sum, r) => sum + r.weight, 0)), reasons: sorted });
  }
  return matches.sort((a, b) => b.score - a.score || a.ad.id.localeCompare(b.ad.id)).slice(0, options.first);
}

// ---------------------------------------------------------------- the service

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

  /** The evidence of one moment: the segment's or the time's lines, presence and tags. */
  async function evidence(query: MatchQuery): Promise<{ segment: SegmentRecord; moment: MomentEvidence }> {
    const hasTime = query.time !== null && query.time !== undefined;
    if (query.segmentId && (query.videoId || hasTime)) throw new BadInputError('give either segmentId, or videoId and time, not both');
    let segment: SegmentRecord | null;
    let time: number | null = null;
    if (query.segmentId) {
      segment = await store.catalog.getSegment(query.segmentId);
      if (!segment) throw new NotFoundError('segment', query.segmentId);
    } else {
      if (!query.videoId || !hasTime) throw new BadInputError('give segmentId, or videoId and time');
      time = query.time!;
      if (!Number.isFinite(time) || time < 0) throw new BadInputError('time must be a number of seconds ≥ 0', { time });
      const video = await store.catalog.getVideo(query.videoId);
      if (!video) throw new NotFoundError('video', query.videoId);
      if (time > video.durationSec + 1) throw new BadInputError(`time ${time} is past the end of the video (${video.durationSec} s)`, { time });
      segment = await store.catalog.segmentAt(query.videoId, time);
      if (!segment) throw new NotFoundError('segment of video at time', `${query.videoId}@${time}`);
    }
    const focusFrom = time ?? segment.start;
    const focusTo = time ?? segment.end;
    const [cues, spans, [tags]] = await Promise.all([
      store.catalog.getCues(segment.videoId),
      store.appearances.getSpansOfVideo(segment.videoId),
      store.tags.getTagsOfSegments([segment.id]),
    ]);
    const contextFrom = Math.min(segment.start, focusFrom - CONTEXT_SEC);
    const contextTo = Math.max(segment.end, focusTo + CONTEXT_SEC);
    let focus = cues.filter((c) => (time === null ? overlap(c.start, c.end, segment.start, segment.end) > 0 || c.segmentId === segment.id : c.start <= time && c.end >= time));
    if (time !== null && focus.length === 0) focus = cues.filter((c) => c.end >= time - FOCUS_SLACK_SEC && c.start <= time + FOCUS_SLACK_SEC);
    const focusIds = new Set(focus.map((c) => c.id));
    const context = cues.filter((c: CueRecord) => !focusIds.has(c.id) && c.end > contextFrom && c.start < contextTo);

    const windowFrom = time === null ? segment.start : time - PRESENCE_HALF_WINDOW_SEC;
    const windowTo = time === null ? segment.end : time + PRESENCE_HALF_WINDOW_SEC;
    const windowLength = Math.max(1e-6, windowTo - windowFrom);
    const actors = new Map<string, number>();
    for (const span of spans) {
      const share = Math.min(1, overlap(span.start, span.end, windowFrom, windowTo) / windowLength);
      if (share <= 0) continue;
      actors.set(span.actorId, Math.max(actors.get(span.actorId) ?? 0, span.confidence * share));
    }
    return {
      segment,
      moment: { focusText: focus.map((c) => c.text), contextText: context.map((c) => c.text), actors, tags: tags ?? [] },
    };
  }

  async function matchAds(query: MatchQuery, first?: number | null): Promise<AdMatch[]> {
    const count = matchCount(first);
    const [{ moment }, inv, matcher] = await Promise.all([evidence(query), currentInventory(), moderationMatcher()]);
    return rankAds(inv, moment, { first: count, today: today(), flagsOf: (texts) => texts.flatMap((t) => matcher(t)) });
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
          avoidFlagged: safety.avoidFlagged ?? true,
          avoidLists: cleanList('brandSafety.avoidLists', safety.avoidLists),
          avoidScenes: canonicalList(
            'brandSafety.avoidScenes',
            cleanList('brandSafety.avoidScenes', safety.avoidScenes),
            (v) => canonicalSceneLabel(v) ?? canonicalMoodLabel(v),
          ),
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
    matchAds,
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
      const breaks: AdBreak[] = [];
      for (const cut of quietCuts) {
        const before = await store.catalog.segmentAt(videoId, Math.max(0, cut.start - 0.05));
        if (!before) continue;
        breaks.push({ videoId, time: cut.start, segmentId: before.id, ads: await matchAds({ segmentId: before.id }, perBreak) });
      }
      return breaks;
    },
  };
}
