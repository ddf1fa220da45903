// Identity propagation within a video: a track the embedder cannot place on its own (turned away,
// small, blurred) takes the name of a confidently identified track of the same person. "Same
// person" is judged between tracks of THIS video — same lighting, make-up, camera — which agree far
// more than a track agrees with an enrolment photo. Constrained, one-hop clustering: each unknown
// track joins the confidently named tracks it is closest to, never a track it was on screen with.
// Pure code: unit-tested directly.
import { cosine, pairKey } from './face-tracking.js';
import type { TrackIdentity } from './face-identity.js';

export interface PropagationRule {
  /** Only tracks named at least this confidently (direct match or editor) lend their name. */
  sourceConfidence: number;
  /** Lowest track-embedding similarity between the unknown track and a source track of the actor. */
  linkSimilarity: number;
  /** Lowest lead of that link over the unknown track's best link to any OTHER named actor. */
  linkMargin: number;
}

/**
 * Fitted on the FIT half of the harder set (test/fixtures/presence-pose.json, with its 'scene'
 * videos; bench/propagation-fit.ts --grid), reported on the report half (src/models/faces/README.md,
 * "Propagation"). Links between two tracks of one person where one is small and blurred are weak:
 * the right links there were 0.304 and 0.318 (leads 0.26, 0.29), the best wrong link to a source
 * named at confidence ≥ 0.9 stayed below 0.30. Sources named less surely lent wrong names: with a
 * cast (closed set, lower threshold, so higher confidence for the same similarity) tiny blurred
 * GRID faces linked at 0.32–0.52 to a track of ANOTHER GRID talker named at 0.75–0.9 (same backdrop,
 * same blur), hence 0.9 (similarity ≥ the bucket threshold + 0.11). Every margin 0–0.2 scored the
 * same there; the most cautious, 0.2, is kept.
 */
export const DEFAULT_PROPAGATION_RULE: PropagationRule = { sourceConfidence: 0.9, linkSimilarity: 0.3, linkMargin: 0.2 };

/** Similarity band over which a propagated track's confidence goes from ~0.12 to ~0.88 around the link threshold. */
const LINK_CONFIDENCE_SPREAD = 0.05;

export interface PropagatedIdentity extends TrackIdentity {
  /** The identity came from a linked track, not from the track's own faces. */
  propagated: true;
  /** The track it came from (index among the video's tracks) and their embedding similarity. */
  fromTrack: number;
  link: number;
}

export interface PropagationTrack {
  embedding: Float32Array;
  /** An editor decided this track (even "nobody we know"): it keeps that decision. */
  locked?: boolean;
}

interface Candidate {
  track: number;
  actorId: string;
  from: number;
  link: number;
}

/** For one unknown track: its best link to each named actor's sources (actors it shares no frame with). */
function bestLinks(track: number, tracks: readonly PropagationTrack[], sources: readonly { index: number; actorId: string }[]): Map<string, { from: number; link: number }> {
  const best = new Map<string, { from: number; link: number }>();
  for (const source of sources) {
    const link = cosine(tracks[track]!.embedding, tracks[source.index]!.embedding);
    const known = best.get(source.actorId);
    if (!known || link > known.link) best.set(source.actorId, { from: source.index, link });
  }
  return best;
}

/**
 * Names unknown tracks after the confidently named track they match. A candidate (unknown track,
 * actor) needs: a link ≥ linkSimilarity to one of the actor's sources; a lead of linkMargin over the
 * track's best link to any other named actor (two people alike → nobody); and no frame shared with
 * any track holding that name (cannot-link), including tracks named by propagation earlier in this
 * pass. Candidates are taken strongest link first. Sources are direct matches only — a propagated
 * track never lends its name on — so a chain of weak links cannot carry a name across the video.
 */
export function propagateIdentities<T extends TrackIdentity>(
  tracks: readonly PropagationTrack[],
  identities: readonly (T | null)[],
  cannotLink: ReadonlySet<string>,
  rule: PropagationRule = DEFAULT_PROPAGATION_RULE,
): (T | PropagatedIdentity | null)[] {
  const sources = identities.flatMap((identity, index) => (identity && identity.confidence >= rule.sourceConfidence ? [{ index, actorId: identity.actorId }] : []));
  const candidates: Candidate[] = [];
  identities.forEach((identity, track) => {
    if (identity || tracks[track]!.locked) return;
    const links = [...bestLinks(track, tracks, sources)].sort(([, a], [, b]) => b.link - a.link);
    const [best, second] = links;
    if (!best || best[1].link < rule.linkSimilarity) return;
    if (second && best[1].link - second[1].link < rule.linkMargin) return;
    candidates.push({ track, actorId: best[0], ...best[1] });
  });
  candidates.sort((a, b) => b.link - a.link || a.track - b.track);
  const result: (T | PropagatedIdentity | null)[] = [...identities];
  for (const candidate of candidates) {
    const clash = result.some((other, k) => other?.actorId === candidate.actorId && cannotLink.has(pairKey(k, candidate.track)));
    if (clash) continue;
    const source = identities[candidate.from]!;
    result[candidate.track] = {
      actorId: candidate.actorId,
      similarity: source.similarity,
      runnerUp: source.runnerUp,
      // 0.5 at the link threshold, never above the source's own confidence.
      confidence: Math.min(source.confidence, 1 / (1 + Math.exp(-(candidate.link - rule.linkSimilarity) / LINK_CONFIDENCE_SPREAD))),
      propagated: true,
      fromTrack: candidate.from,
      link: candidate.link,
    };
  }
  return result;
}
