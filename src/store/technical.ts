// The technical-analysis seam: technical cues per stretch of video (black frames, colour bars,
// slates, letterbox/pillarbox borders, freeze frames, silence), visual quality per shot, and the
// visual-moderation flags the nsfw stage finds on keyframes. Each kind is replaced per video in
// one transaction, so a re-index replaces cleanly.
import type { Box } from '../models/types.js';

/** Rekognition-style technical cue types (its ColorBars, BlackFrames, Slate, … in our casing). */
export type TechnicalCueType = 'BLACK_FRAMES' | 'COLOR_BARS' | 'SLATE' | 'LETTERBOX' | 'PILLARBOX' | 'FREEZE_FRAME' | 'SILENCE';

export interface TechnicalCueRecord {
  /** Deterministic: video + type + start in ms, so a re-run overwrites. */
  id: string;
  videoId: string;
  type: TechnicalCueType;
  start: number;
  end: number;
  /** 0..1: how clearly the measured signal passed its threshold over the span. */
  confidence: number;
  /** Borders only: the active picture area in the video's own pixels. */
  activeArea: Box | null;
}

export interface ShotQualityRecord {
  videoId: string;
  shotIndex: number;
  start: number;
  end: number;
  /** The frame the measures come from. */
  time: number;
  /** 0..1 from the Laplacian variance of the whole (active) picture; low = blurred. */
  sharpness: number;
  /** 0..1 from the Laplacian variance inside detected faces; null when the shot has no face. */
  faceSharpness: number | null;
  /** 0..1: strength of 8-pixel block edges relative to other edges (compression mosaic). */
  blockiness: number;
  /** Mean luma 0..255. */
  brightness: number;
  /** Luma standard deviation 0..128. */
  contrast: number;
  /** No quality issue: may be used as a thumbnail or poster. */
  clean: boolean;
  /** What made the frame unclean: 'blur', 'face-blur', 'blocky', 'dark', 'bright', 'flat'. */
  issues: string[];
}

export type VisualModerationLabel = 'PORN' | 'HENTAI' | 'SEXY';

/** On the graded visual-risk scale every label's flag line sits here; a segment above it is flagged. */
export const FLAG_RISK = 0.5;

export interface VisualFlagRecord {
  /** Deterministic: segment id + label. */
  id: string;
  videoId: string;
  segmentId: string;
  label: VisualModerationLabel;
  start: number;
  end: number;
  /** The segment's score for the label: what two frames agree on, or one frame far above the line. */
  score: number;
  /** Graded risk 0..1 on a scale shared by every label (0.5 = the label's flag line). */
  risk: number;
  /** Risk above 0.5: the segment counts as flagged (moderation view, default ad tolerance). */
  flagged: boolean;
  /** Times of the frames with the strongest evidence, best first. */
  evidenceTimes: number[];
  modelId: string;
}

export interface TechnicalRepository {
  replaceCues(videoId: string, cues: readonly TechnicalCueRecord[]): Promise<void>;
  /** In time order. */
  getCues(videoId: string): Promise<TechnicalCueRecord[]>;
  replaceShotQuality(videoId: string, rows: readonly ShotQualityRecord[]): Promise<void>;
  /** In shot order. */
  getShotQuality(videoId: string): Promise<ShotQualityRecord[]>;
  replaceVisualFlags(videoId: string, flags: readonly VisualFlagRecord[]): Promise<void>;
  /** In time order. */
  getVisualFlags(videoId: string): Promise<VisualFlagRecord[]>;
  /** Drops everything of the video (its video is gone). */
  deleteVideo(videoId: string): Promise<void>;
}
