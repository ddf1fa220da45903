// One moderation view of a video: keyword flags (subtitle/OCR lines matching the editors' lists,
// computed from stored cues exactly as the moderation service does) merged per segment with the
// nsfw stage's visual flags. Ads brand safety and editors read the same view.
import type { SegmentRecord } from '../domain.js';
import { NotFoundError } from '../errors.js';
import type { Store } from '../store/interfaces.js';
import type { FlagRecord } from '../store/moderation.js';
import type { VisualFlagRecord, VisualModerationLabel } from '../store/technical.js';
import { buildKeywordMatcher, flagsOfCues } from './moderation.js';

export interface ModeratedSegment {
  segment: SegmentRecord;
  keywordFlags: FlagRecord[];
  /** Visual labels over their line (graded risk above 0.5). */
  visualFlags: VisualFlagRecord[];
  /** Highest graded risk of the segment over every label (0 when none was recorded). */
  visualRisk: number;
}

export interface VideoModeration {
  videoId: string;
  flagged: boolean;
  /** Highest visual score per label over the video, flagged or not. */
  maxVisualScore: Partial<Record<VisualModerationLabel, number>>;
  /** Only segments with at least one flag, in time order. */
  segments: ModeratedSegment[];
}

export interface VisualModerationService {
  moderation(videoId: string): Promise<VideoModeration>;
}

export function createVisualModerationService(deps: { store: Store }): VisualModerationService {
  const { store } = deps;
  return {
    async moderation(videoId) {
      if (!(await store.catalog.getVideo(videoId))) throw new NotFoundError('video', videoId);
      const [segments, cues, lists, visual] = await Promise.all([
        store.catalog.getSegmentsOfVideo(videoId),
        store.catalog.getCues(videoId),
        store.moderation.listKeywordLists(),
        store.technical.getVisualFlags(videoId),
      ]);
      const keyword = flagsOfCues(cues, buildKeywordMatcher(lists));
      const maxVisualScore: Partial<Record<VisualModerationLabel, number>> = {};
      for (const f of visual) maxVisualScore[f.label] = Math.max(maxVisualScore[f.label] ?? 0, f.score);
      const moderated = segments
        .map((segment) => {
          const graded = visual.filter((f) => f.segmentId === segment.id);
          return {
            segment,
            keywordFlags: keyword.filter((f) => f.segmentId === segment.id),
            visualFlags: graded.filter((f) => f.flagged),
            visualRisk: graded.reduce((max, f) => Math.max(max, f.risk), 0),
          };
        })
        .filter((s) => s.keywordFlags.length > 0 || s.visualFlags.length > 0);
      return { videoId, flagged: moderated.length > 0, maxVisualScore, segments: moderated };
    },
  };
}
