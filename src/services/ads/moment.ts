// What one moment of a video gives the matcher: the lines said at it and around it, who is
// present, its tags and its segment's visual risk.
import type { CueRecord, SegmentRecord } from '../../domain.js';
import type { SegmentTagRecord } from '../../store/ads.js';
import type { AppearanceSpanRecord } from '../../store/appearances.js';
import type { MomentEvidence } from './ranking.js';

/** Lines this far around the moment are its context. */
export const CONTEXT_SEC = 8;
/** With `time`, cues within this distance count as "at the moment" when none covers it. */
const FOCUS_SLACK_SEC = 1;
/** With `time`, presence is judged over [time − h, time + h]. */
const PRESENCE_HALF_WINDOW_SEC = 1;

/** What a video gives every moment of it: its lines, presence spans and each segment's visual risk. */
export interface VideoEvidence {
  /** The video's lines in time order: all of them, or at least those the moments ranked can use (momentWindow). */
  cues: CueRecord[];
  /** The video's presence spans: all of them, or at least those touching the moments' presenceWindow. */
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

/**
 * The span of the video whose lines can count for a moment (focus and context): the segment and
 * CONTEXT_SEC around it, or around `time`. Lines touching it are all a moment reads, besides the
 * lines assigned to its segment (momentEvidence).
 */
export function momentWindow(segment: SegmentRecord, time: number | null): { from: number; to: number } {
  return { from: Math.min(segment.start, (time ?? segment.start) - CONTEXT_SEC), to: Math.max(segment.end, (time ?? segment.end) + CONTEXT_SEC) };
}

/** The span over which presence counts for a moment: its segment, or `time` ± PRESENCE_HALF_WINDOW_SEC. */
export function presenceWindow(segment: SegmentRecord, time: number | null): { from: number; to: number } {
  return time === null ? { from: segment.start, to: segment.end } : { from: time - PRESENCE_HALF_WINDOW_SEC, to: time + PRESENCE_HALF_WINDOW_SEC };
}

/** The evidence of one moment: the segment's or the time's lines, presence and tags. */
export function momentEvidence(segment: SegmentRecord, time: number | null, video: VideoEvidence, tags: SegmentTagRecord[]): MomentEvidence {
  const { from: contextFrom, to: contextTo } = momentWindow(segment, time);
  const { cues, spans } = video;
  let focus = cues.filter((c) => (time === null ? overlap(c.start, c.end, segment.start, segment.end) > 0 || c.segmentId === segment.id : c.start <= time && c.end >= time));
  if (time !== null && focus.length === 0) focus = cues.filter((c) => c.end >= time - FOCUS_SLACK_SEC && c.start <= time + FOCUS_SLACK_SEC);
  const focusIds = new Set(focus.map((c) => c.id));
  const context = cues.filter((c) => !focusIds.has(c.id) && c.end > contextFrom && c.start < contextTo);

  const { from: windowFrom, to: windowTo } = presenceWindow(segment, time);
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
