// The moderation seam: named keyword lists, and the flags found by matching them against the
// stored subtitle/OCR cues. Flags are recomputed from stored cues (never by re-reading video), and
// each video remembers which version of the lists and of itself it was last checked against.
import type { CueKind, Page, PageArgs } from '../domain.js';

export interface KeywordListRecord {
  name: string;
  /** As the editor typed them, in the order added. */
  keywords: string[];
  updatedAt: string;
}

export interface FlagRecord {
  /** Deterministic: cue id + list + normalised keyword, so a re-check overwrites. */
  id: string;
  videoId: string;
  segmentId: string | null;
  cueId: string;
  list: string;
  keyword: string;
  /** The cue's text as stored. */
  text: string;
  start: number;
  end: number;
  kind: CueKind;
}

/** What a video was last checked against: a list change or a re-index makes it stale. */
export interface ModerationCheck {
  videoId: string;
  keywordsVersion: number;
  /** The video's updatedAt when checked (re-indexing changes it). */
  videoUpdatedAt: string;
}

export interface ModerationRepository {
  /** Adds the keywords (duplicates ignored), creating the list; bumps the keywords version. */
  addKeywords(list: string, keywords: readonly string[]): Promise<KeywordListRecord>;
  /** Removes the keywords; a list left empty is deleted (null). Bumps the keywords version. */
  removeKeywords(list: string, keywords: readonly string[]): Promise<KeywordListRecord | null>;
  /** All lists by name. */
  listKeywordLists(): Promise<KeywordListRecord[]>;
  /** Grows on every change to any list. */
  keywordsVersion(): Promise<number>;

  /** Replaces the video's flags and records what it was checked against, in one transaction. */
  replaceFlags(check: ModerationCheck, flags: readonly FlagRecord[]): Promise<void>;
  listChecks(): Promise<ModerationCheck[]>;
  /** Drops the video's flags and check (its video is gone). */
  deleteVideo(videoId: string): Promise<void>;
  /** Flags ordered by video, then cue start, then id. */
  listFlags(page: PageArgs): Promise<Page<FlagRecord>>;
}
