// VOICE appearance spans from attributed speech turns (pure): the voices stage and the voice-cluster
// service (renaming a cluster rebuilds its video's spans) both make spans this way.
import type { VideoRecord } from '../domain.js';
import type { AppearanceSpanRecord } from '../store/appearances.js';
import type { SpeakerTurn } from './diarisation.js';

/** Turns of one identified voice closer than this are one span (pauses between sentences). */
export const SPAN_MERGE_GAP_SEC = 1.0;

/** A speech turn and who it was given to (null: an unknown voice). */
export interface AttributedTurn extends SpeakerTurn {
  actorId: string | null;
  confidence: number;
}

/** Consecutive turns of one actor, gaps under SPAN_MERGE_GAP_SEC bridged, as VOICE spans (unknown turns make none). */
export function voiceSpans(video: Pick<VideoRecord, 'id'>, turns: readonly AttributedTurn[]): AppearanceSpanRecord[] {
  const spans: AppearanceSpanRecord[] = [];
  const byActor = new Map<string, AttributedTurn[]>();
  for (const turn of turns) if (turn.actorId !== null) byActor.set(turn.actorId, [...(byActor.get(turn.actorId) ?? []), turn]);
  for (const [actorId, own] of byActor) {
    let current: AppearanceSpanRecord | null = null;
    for (const turn of [...own].sort((a, b) => a.start - b.start)) {
      if (current && turn.start - current.end <= SPAN_MERGE_GAP_SEC) {
        current.end = Math.max(current.end, turn.end);
        current.confidence = Math.max(current.confidence, turn.confidence);
        current.sourceIds.push(turn.id);
        continue;
      }
      current = { id: '', videoId: video.id, actorId, start: turn.start, end: turn.end, confidence: turn.confidence, evidence: 'VOICE', sourceIds: [turn.id], bestFaceId: null };
      spans.push(current);
    }
  }
  spans.sort((a, b) => a.start - b.start || a.actorId.localeCompare(b.actorId));
  spans.forEach((span, i) => (span.id = `${video.id}:voice:${i}`));
  return spans;
}
