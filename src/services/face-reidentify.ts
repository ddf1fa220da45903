// Re-identifies a video's STORED face tracks in place, without decoding the video again: the
// faces' embeddings are in the faces vector collection, their quality and boxes in the store, so
// the same decision the faces stage makes (indexers/face-video-identity.ts) runs on them again.
// Used when updateVideo changes a video's cast: identification becomes closed-set over the new
// cast (or open-set again when the cast is cleared). Editors' decisions are kept. Clusters are
// left alone: a track that gains a name keeps its cluster (as a named track does), one that loses
// its name stays out of the clusters until the video is next indexed.
import type { VideoRecord } from '../domain.js';
import { FACE_DECODE_WIDTH } from '../indexers/faces.js';
import { CAST_TRACK_IDENTITY_RULE, DEFAULT_TRACK_IDENTITY_RULE } from '../indexers/face-identity.js';
import { faceSpansFromTracks, pairKey } from '../indexers/face-tracking.js';
import type { PropagationRule } from '../indexers/face-propagation.js';
import { identifyVideoTracks, isPropagated, type FaceScorer, type SecondOpinionScorer, type TrackEvidence } from '../indexers/face-video-identity.js';
import { FACES_COLLECTION, trackIdentitySource, type FaceRecord, type FaceTrackRecord } from '../store/appearances.js';
import type { Store } from '../store/interfaces.js';

export interface ReidentifyResult {
  tracks: number;
  /** Tracks whose actor changed. */
  changed: number;
}

/** Faces scored per track: the most any identity rule looks at. */
const FACES_PER_TRACK = Math.max(DEFAULT_TRACK_IDENTITY_RULE.maxFaces, CAST_TRACK_IDENTITY_RULE.maxFaces);

/** Pairs of tracks with a face in the same sampled frame (same time): two people. */
export function storedCannotLink(tracks: readonly FaceTrackRecord[], faces: readonly FaceRecord[]): Set<string> {
  const indexOf = new Map(tracks.map((t, k) => [t.id, k]));
  const byTime = new Map<number, Set<number>>();
  for (const face of faces) {
    const k = indexOf.get(face.trackId);
    if (k === undefined) continue;
    byTime.set(face.time, (byTime.get(face.time) ?? new Set()).add(k));
  }
  const pairs = new Set<string>();
  for (const members of byTime.values()) {
    const list = [...members];
    for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) pairs.add(pairKey(list[i]!, list[j]!));
  }
  return pairs;
}

/** The evidence the faces stage had for each stored track (its best faces with their vectors). */
async function storedEvidence(store: Store, video: VideoRecord, tracks: readonly FaceTrackRecord[], faces: readonly FaceRecord[]): Promise<TrackEvidence[]> {
  // The stage scored boxes in decoded pixels; stored boxes are in the video's own.
  const scale = video.width > 0 ? video.width / Math.min(FACE_DECODE_WIDTH, video.width) : 1;
  // getFacesOfTracks lists each track's faces best quality first.
  const best = tracks.map((t) => faces.filter((f) => f.trackId === t.id).slice(0, FACES_PER_TRACK));
  const points = await store.vectors.get(FACES_COLLECTION, best.flat().map((f) => f.id));
  const vectorOf = new Map(points.flatMap((p) => (p ? [[p.id, p.vector] as const] : [])));
  return tracks.map((track, k) => {
    const withVectors = best[k]!.flatMap((f) => {
      const embedding = vectorOf.get(f.id);
      return embedding ? [{ quality: f.quality, side: Math.min(f.box.width, f.box.height) / scale, embedding }] : [];
    });
    const source = trackIdentitySource(track);
    // A track whose vectors are gone (another embedder since) cannot be judged again: it stays.
    const keep = source === 'EDITOR' || withVectors.length === 0;
    // A kept name lends itself on only when it is evidence (an editor's, a match): a propagated
    // one passed on would start the chain propagation never builds.
    const identity = track.actorId && source !== 'PROPAGATED' ? { actorId: track.actorId, similarity: track.similarity ?? 1, runnerUp: 0, confidence: track.confidence } : null;
    const thumbnails = faces.filter((f) => f.trackId === track.id && f.thumbnail).map((f) => ({ quality: f.quality, jpeg: f.thumbnail! }));
    return { embedding: track.embedding, faces: withVectors, thumbnails, editorDecision: keep ? { identity } : null };
  });
}

export interface ReidentifyOptions {
  /** The rule to propagate names with (default the fitted one; bench/propagation-fit.ts sweeps it). */
  propagation?: PropagationRule;
  /** Asked about small unknown tracks when the video has a cast, as the faces stage asks it. */
  secondOpinion?: SecondOpinionScorer | null;
}

export async function reidentifyVideoFaces(store: Store, video: VideoRecord, score: FaceScorer, options: ReidentifyOptions = {}): Promise<ReidentifyResult> {
  const tracks = await store.appearances.getTracksOfVideo(video.id);
  if (tracks.length === 0) return { tracks: 0, changed: 0 };
  const faces = await store.appearances.getFacesOfTracks(tracks.map((t) => t.id));
  const evidence = await storedEvidence(store, video, tracks, faces);
  const identities = await identifyVideoTracks(evidence, storedCannotLink(tracks, faces), score, { cast: video.cast ?? null, ...options });
  let changed = 0;
  const updated = tracks.map((track, k): FaceTrackRecord => {
    if (evidence[k]!.editorDecision) return track;
    const identity = identities[k] ?? null;
    if ((identity?.actorId ?? null) !== track.actorId) changed++;
    return {
      ...track,
      actorId: identity?.actorId ?? null,
      similarity: identity && !isPropagated(identity) ? identity.similarity : null,
      confidence: identity?.confidence ?? 0,
    };
  });
  await store.appearances.replaceVideoFaces(video.id, { tracks: updated, faces, spans: faceSpansFromTracks(video.id, updated), clusters: [] });
  return { tracks: tracks.length, changed };
}
