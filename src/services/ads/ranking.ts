// Ranks the inventory for one moment, with every score's reasons and what brand safety and
// targeting left out.
//
// Scoring (documented, additive; each term is 0..its weight):
//   KEYWORD  1.0 × text relevance of the lines at the moment (the cue at `time`, or the segment's cues)
//   CONTEXT  0.3 × text relevance of the lines around it (the segment and ±CONTEXT_SEC)
//   ACTOR    0.8 × span confidence × share of the moment the actor is present
//   OBJECT   0.6 × detector score;  SCENE 0.4 × rule score;  MOOD 0.3 × rule score
//   CATEGORY 0.5 × score of the tag that implies the category (0.25 when only the IAB tier 1 agrees)
// Left out of the answer, each counted by reason in `excluded`: ads outside their flight dates,
// ads whose excludeKeywords occur around the moment, ads avoiding the keyword lists that flag
// its lines, ads whose visual-risk tolerance (`maxVisualRisk`) the segment's graded NSFW risk
// exceeds, and ads avoiding one of the moment's scenes.
import { categoriesOfTag, iabTier1 } from '../../ads/iab-map.js';
import { textTerms } from '../../ads/terms.js';
import type { SegmentTagRecord } from '../../store/ads.js';
import { normalizeText } from '../../text/normalize.js';
import { textRelevance, type Inventory } from './inventory.js';
import { MATCH_WEIGHTS, type AdExclusion, type AdMatch, type AdMatching, type ExclusionReason, type MatchReason } from './types.js';

/** An avoided scene counts when its tag is at least this sure. */
const AVOID_SCENE_MIN_SCORE = 0.5;

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
  // Both worked out on first need: an ad without exclude keywords or flag avoidance needs neither.
  let normalizedText: string | null = null;
  let flags: { list: string }[] | null = null;
  const sceneScore = (label: string): number => Math.max(m.tagScore.get(`SCENE:${label}`) ?? 0, m.tagScore.get(`MOOD:${label}`) ?? 0);
  const exclusionOf = (index: number): ExclusionReason | null => {
    const ad = inv.ads[index]!;
    if ((ad.flightStart && options.today < ad.flightStart) || (ad.flightEnd && options.today > ad.flightEnd)) return 'OUT_OF_FLIGHT';
    const excludes = inv.excludes[index]!;
    if (excludes.length > 0) {
      const text = (normalizedText ??= allText.map(normalizeText).join('\n'));
      if (excludes.some((k) => text.includes(k))) return 'EXCLUDE_KEYWORD';
    }
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
