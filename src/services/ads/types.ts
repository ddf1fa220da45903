// The contextual-ads service's shapes: what callers send (ads, moments) and get back (matches with
// their reasons, exclusions, breaks), and the scoring weights every part of the matcher shares.
//
// Scoring (documented, additive; each term is 0..its weight):
//   KEYWORD  1.0 × text relevance of the lines at the moment (the cue at `time`, or the segment's cues)
//   CONTEXT  0.3 × text relevance of the lines around it (the segment and ±CONTEXT_SEC)
//   ACTOR    0.8 × span confidence × share of the moment the actor is present
//   OBJECT   0.6 × detector score;  SCENE 0.4 × rule score;  MOOD 0.3 × rule score
//   CATEGORY 0.5 × score of the tag that implies the category (0.25 when only the IAB tier 1 agrees)
import type { AdRecord, BrandSafetyRules, SegmentTagRecord } from '../../store/ads.js';
import type { Connection } from '../pagination.js';

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
