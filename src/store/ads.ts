// The contextual-ads seams: the ad inventory, the tags the objects/scenes stages put on segments,
// and the highlight signals, editor feedback and learned weights. Services read and write these
// only through the interfaces below; the embedded backend lives in embedded/ads.ts.
import type { Page, PageArgs } from '../domain.js';
import type { Box } from '../models/types.js';
import { FLAG_RISK } from './technical.js';

/** Per-ad brand-safety rules, checked before an ad is offered for a moment. */
export interface BrandSafetyRules {
  /** Never next to lines that match the moderation keyword lists. */
  avoidFlagged: boolean;
  /** Only these moderation lists count (empty: every list). */
  avoidLists: string[];
  /** Scene/mood tags the ad must not appear next to (e.g. "night", "tense"). */
  avoidScenes: string[];
  /**
   * Highest graded visual risk (0..1, 0.5 = the NSFW flag line) of a segment the ad may run in.
   * Default: 0.5 when the ad avoids flagged moments of every list or of the "visual" list, else 1.
   */
  maxVisualRisk: number;
}

/** The moderation list name that stands for visual (NSFW) flags in `avoidLists`. */
export const VISUAL_FLAG_LIST = 'visual';

/** The tolerance an ad gets when it names none (also for ads stored before tolerances existed). */
export function defaultMaxVisualRisk(rules: Pick<BrandSafetyRules, 'avoidFlagged' | 'avoidLists'>): number {
  const avoidsVisual = rules.avoidFlagged && (rules.avoidLists.length === 0 || rules.avoidLists.includes(VISUAL_FLAG_LIST));
  return avoidsVisual ? FLAG_RISK : 1;
}

/** Rules as stored, with the tolerance filled in for records written before it existed. */
export function brandSafetyRules(stored: Omit<BrandSafetyRules, 'maxVisualRisk'> & { maxVisualRisk?: number | null }): BrandSafetyRules {
  return {
    avoidFlagged: stored.avoidFlagged,
    avoidLists: stored.avoidLists,
    avoidScenes: stored.avoidScenes,
    maxVisualRisk: stored.maxVisualRisk ?? defaultMaxVisualRisk(stored),
  };
}

export interface AdRecord {
  id: string;
  advertiser: string | null;
  title: string;
  creativeUrl: string | null;
  /** Keywords in any language (zh/en), matched against the dialogue around the moment. */
  keywords: string[];
  /** IAB content categories (e.g. "IAB8", "IAB8-18"). */
  categories: string[];
  /** Actor ids whose appearance makes the ad relevant. */
  actors: string[];
  /** COCO object labels (English or Chinese) the ad goes well with. */
  objects: string[];
  /** Scene tags (e.g. "indoor", "close-up", "dialogue"). */
  scenes: string[];
  /** Mood tags (e.g. "calm", "tense", "upbeat"). */
  moods: string[];
  /** Any of these in the dialogue around the moment rules the ad out. */
  excludeKeywords: string[];
  brandSafety: BrandSafetyRules;
  /** ISO dates (inclusive); null = open-ended. */
  flightStart: string | null;
  flightEnd: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface AdRepository {
  /** Insert or replace by id. */
  putAd(ad: AdRecord): Promise<void>;
  getAd(id: string): Promise<AdRecord | null>;
  deleteAd(id: string): Promise<boolean>;
  /** By id. */
  listAds(page: PageArgs): Promise<Page<AdRecord>>;
  /** The whole inventory (the matcher keeps it in memory, rebuilt when `inventoryVersion` moves). */
  allAds(): Promise<AdRecord[]>;
  /** Grows on every put/delete, from any process sharing the store. */
  inventoryVersion(): Promise<number>;
}

export type TagKind = 'OBJECT' | 'SCENE' | 'MOOD';
/** MODEL: a detector's output; HEURISTIC: a documented rule over measured signals. */
export type TagSource = 'MODEL' | 'HEURISTIC';

export interface SegmentTagRecord {
  videoId: string;
  segmentId: string;
  kind: TagKind;
  /** Canonical English label ("cup", "close-up", "calm"). */
  label: string;
  /** 0..1 confidence. */
  score: number;
  source: TagSource;
  /** Objects only: box in the video's own pixels on the shot keyframe. */
  box: Box | null;
}

export interface TagRepository {
  /** Replaces the video's tags of these kinds in one transaction (re-index replaces cleanly). */
  replaceVideoTags(videoId: string, kinds: readonly TagKind[], tags: readonly SegmentTagRecord[]): Promise<void>;
  /** Same order as `segmentIds`; empty arrays where none. */
  getTagsOfSegments(segmentIds: readonly string[]): Promise<SegmentTagRecord[][]>;
  getTagsOfVideo(videoId: string): Promise<SegmentTagRecord[]>;
  /** Drops the video's tags (its video is gone). */
  deleteVideo(videoId: string): Promise<void>;
}

/** One segment's highlight signals, each normalised within its video (see indexers/highlights.ts). */
export interface HighlightSignalsRecord {
  videoId: string;
  segmentId: string;
  start: number;
  end: number;
  /** In HIGHLIGHT_FEATURES order. */
  features: number[];
}

export interface HighlightFeedbackRecord {
  id: string;
  videoId: string;
  start: number;
  end: number;
  good: boolean;
  /** The clip's features when it was judged (what the weights learnt from). */
  features: number[];
  createdAt: string;
}

/** Logistic-regression weights learnt from editors' feedback. */
export interface HighlightModelRecord {
  weights: number[];
  bias: number;
  /** Feedback examples learnt so far. */
  updates: number;
  updatedAt: string;
}

export interface HighlightRepository {
  replaceVideoSignals(videoId: string, rows: readonly HighlightSignalsRecord[]): Promise<void>;
  getSignalsOfVideo(videoId: string): Promise<HighlightSignalsRecord[]>;
  /** Records the feedback and stores the updated model in one transaction. */
  addFeedback(feedback: HighlightFeedbackRecord, model: HighlightModelRecord): Promise<void>;
  getModel(): Promise<HighlightModelRecord | null>;
  countFeedback(): Promise<number>;
  /** Drops the video's signals and feedback (its video is gone); the learnt weights stay. */
  deleteVideo(videoId: string): Promise<void>;
}
