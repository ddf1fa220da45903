// The voice link of identity propagation: a face track nobody could name from its faces takes the
// name of the voice it speaks with, when that voice was identified by its own match against the
// enrolled voices (not through a face) and the track is the active speaker — alone on screen for
// most of that voice's speech. Turned, small or blurred faces of a person who is talking get named.
// Such names are stored like every propagated one: no similarity of the track's own, confidence < 1.
import type { FaceTrackRecord } from '../store/appearances.js';
import { trackIdentitySource } from '../store/appearances.js';

const MAX_LINKED_CONFIDENCE = 0.99;

export interface SpeakerLink {
  trackId: string;
  /** The active speaker's share of the voice's speech (diarisation.ts activeSpeakerTrack). */
  share: number;
  /** The actor the voice itself matched, and that match's confidence. */
  actorId: string;
  confidence: number;
}

export type LinkableTrack = Pick<FaceTrackRecord, 'id' | 'actorId' | 'similarity' | 'confidence' | 'start' | 'end'>;

/**
 * Which unknown tracks a voice names: the link must hold for at least `minShare` of the speech (the
 * stricter bar the stage already uses before a face teaches a voice, TEMPLATE_LINK_MIN_SHARE: a
 * listener shown during someone else's line must not take their name); a track two voices claim for
 * different actors stays unknown; a track overlapping in time a track already named after that
 * actor is someone else (two faces of one person are not on screen at once); editors' decisions stay.
 */
export function namesFromVoices(links: readonly SpeakerLink[], tracks: readonly LinkableTrack[], minShare: number): Map<string, { actorId: string; confidence: number }> {
  const claims = new Map<string, SpeakerLink[]>();
  for (const link of links) if (link.share >= minShare) claims.set(link.trackId, [...(claims.get(link.trackId) ?? []), link]);
  const names = new Map<string, { actorId: string; confidence: number }>();
  for (const [trackId, list] of claims) {
    const track = tracks.find((t) => t.id === trackId);
    if (!track || trackIdentitySource(track) !== null) continue;
    if (new Set(list.map((l) => l.actorId)).size > 1) continue;
    const actorId = list[0]!.actorId;
    const overlaps = tracks.some((t) => t.id !== trackId && t.actorId === actorId && t.start < track.end && t.end > track.start);
    if (overlaps) continue;
    // Below an editor's 1, so the stored track still reads as propagated (trackIdentitySource).
    names.set(trackId, { actorId, confidence: Math.min(MAX_LINKED_CONFIDENCE, Math.max(...list.map((l) => l.confidence))) });
  }
  return names;
}
