// Who every face track of one video is: each track judged on its own best faces (face-identity.ts,
// open set, or closed set over the video's cast), tracks on screen together kept apart, then names
// propagated from confidently identified tracks to linked unknown ones (face-propagation.ts), and,
// with a cast, a second recogniser's opinion on the small tracks still unknown (face-second-opinion.ts).
// Shared by the faces stage (fresh tracks) and by re-identification of a video's stored tracks
// when its cast changes (no decode), so both decide the same way.
import { confidenceAbove, facesToScore, identifyTrack, weightedMeanSide, CAST_TRACK_IDENTITY_RULE, DEFAULT_TRACK_IDENTITY_RULE, type ActorScore, type ScoredFace, type TrackIdentity } from './face-identity.js';
import { resolveIdentityConflicts } from './face-clustering.js';
import { pairKey } from './face-tracking.js';
import { secondOpinion, CAST_SECOND_OPINION_RULE } from './face-second-opinion.js';
import { propagateIdentities, DEFAULT_PROPAGATION_RULE, type PropagatedIdentity, type PropagationRule } from './face-propagation.js';

export interface TrackFaceEvidence {
  quality: number;
  /** Shorter box side in decoded pixels (the size bucket's unit). */
  side: number;
  embedding: Float32Array;
}

export interface TrackEvidence {
  /** Fused embedding of the track's best faces (the propagation link compares these). */
  embedding: Float32Array;
  faces: readonly TrackFaceEvidence[];
  /** An editor's decision on this track: kept as it is (null actor = "nobody we know"). */
  editorDecision?: { identity: TrackIdentity | null } | null;
  /** JPEGs of the track's best aligned faces (its stored thumbnails): what the second opinion reads. */
  thumbnails?: readonly TrackThumbnail[];
}

export interface TrackThumbnail {
  quality: number;
  /** The 112-px ArcFace-aligned crop, JPEG. */
  jpeg: Buffer;
}

/** A second recogniser's per-face scores over `cast` for a track's thumbnails (services/face-second-opinion.ts). */
export type SecondOpinionScorer = (thumbnails: readonly TrackThumbnail[], cast: readonly string[]) => Promise<ScoredFace[]>;

/** The enrolled actors closest to one face, best first; only those of `among` (a cast) when given. */
export type FaceScorer = (embedding: Float32Array, among: readonly string[] | null) => Promise<ActorScore[]>;

export type VideoTrackIdentity = TrackIdentity | PropagatedIdentity;

export interface VideoIdentityOptions {
  /** The video's cast list: closed-set identification over it, with its own rule. */
  cast: readonly string[] | null;
  propagation?: PropagationRule;
  /** Asked, with a cast only, about small tracks left unknown; none: no second opinion. */
  secondOpinion?: SecondOpinionScorer | null;
}

/** One track's own decision from its best faces. */
async function identifyOwn(track: TrackEvidence, score: FaceScorer, cast: readonly string[] | null): Promise<TrackIdentity | null> {
  const rule = cast ? CAST_TRACK_IDENTITY_RULE : DEFAULT_TRACK_IDENTITY_RULE;
  const faces = facesToScore(track.faces, rule.maxFaces);
  const scored: ScoredFace[] = [];
  for (const face of faces) scored.push({ quality: face.quality, scores: await score(face.embedding, cast) });
  return identifyTrack(scored, weightedMeanSide(faces), rule);
}

/** Identities of a video's tracks (same order); `cannotLink` holds pairKey(i, j) of tracks seen together. */
export async function identifyVideoTracks(
  tracks: readonly TrackEvidence[],
  cannotLink: ReadonlySet<string>,
  score: FaceScorer,
  options: VideoIdentityOptions,
): Promise<(VideoTrackIdentity | null)[]> {
  const cast = options.cast?.length ? options.cast : null;
  const own: (TrackIdentity | null)[] = [];
  for (const track of tracks) own.push(track.editorDecision ? track.editorDecision.identity : await identifyOwn(track, score, cast));
  const direct = resolveIdentityConflicts(own, cannotLink);
  // An editor's decision is never undone by a conflict with a machine match.
  tracks.forEach((track, k) => {
    if (track.editorDecision) direct[k] = track.editorDecision.identity;
  });
  const linkable = tracks.map((t) => ({ embedding: t.embedding, locked: Boolean(t.editorDecision) }));
  const identities = propagateIdentities(linkable, direct, cannotLink, options.propagation ?? DEFAULT_PROPAGATION_RULE);
  if (cast && options.secondOpinion) await addSecondOpinions(tracks, identities, cannotLink, cast, options.secondOpinion);
  return identities;
}

/**
 * Names the small tracks still unknown that the second recogniser is sure of (CAST_SECOND_OPINION_RULE),
 * in place. It runs last, so its names neither propagate nor overrule a decision; a name is not
 * given to a track that shared a frame with a track already holding it.
 */
async function addSecondOpinions(
  tracks: readonly TrackEvidence[],
  identities: (VideoTrackIdentity | null)[],
  cannotLink: ReadonlySet<string>,
  cast: readonly string[],
  scorer: SecondOpinionScorer,
): Promise<void> {
  const rule = CAST_SECOND_OPINION_RULE;
  for (const [k, track] of tracks.entries()) {
    if (identities[k] || track.editorDecision || !track.thumbnails?.length) continue;
    const meanSide = weightedMeanSide(track.faces);
    if (meanSide >= rule.maxSidePx) continue;
    const opinion = secondOpinion(await scorer(track.thumbnails, cast), meanSide, rule);
    if (!opinion || identities.some((other, j) => other?.actorId === opinion.actorId && cannotLink.has(pairKey(j, k)))) continue;
    identities[k] = { actorId: opinion.actorId, similarity: opinion.similarity, runnerUp: opinion.similarity - opinion.lead, confidence: confidenceAbove(opinion.lead, rule.margin) };
  }
}

export function isPropagated(identity: VideoTrackIdentity | null): identity is PropagatedIdentity {
  return identity !== null && 'propagated' in identity;
}
