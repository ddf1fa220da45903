// Track-level identity: every sampled face of a track is scored against the enrolled actors,
// the scores are averaged with quality weights, and the track is named when the best actor
// clears a threshold for the track's size/quality bucket AND leads the runner-up by a margin.
// One good frame no longer has to carry the whole decision, and many mediocre frames of a
// three-quarter or small face that agree on one person can. Pure code: unit-tested directly.

/** One face's similarity to an actor (its best template). */
export interface ActorScore {
  actorId: string;
  similarity: number;
}

export interface ScoredFace {
  /** 0..1 face quality (faceQuality: detector score × size × sharpness × pose). */
  quality: number;
  /** The face's best actors, best first; actors not listed score at most the last one listed. */
  scores: readonly ActorScore[];
}

export interface IdentityThresholds {
  /** Lowest aggregated similarity accepted. */
  threshold: number;
  /** Lowest lead of the best actor's aggregated similarity over the runner-up's. */
  margin: number;
}

export interface TrackIdentityRule {
  /** Faces of at least this quality-weighted mean side (decoded pixels) use `large`, else `small`. */
  largeSidePx: number;
  large: IdentityThresholds;
  small: IdentityThresholds;
  /** Faces scored per track (the best by quality): long tracks need not search every sample. */
  maxFaces: number;
}

export interface TrackIdentity {
  actorId: string;
  /** Aggregated (quality-weighted mean) similarity. */
  similarity: number;
  /** The runner-up actor's aggregated similarity (0 when only one actor was scored). */
  runnerUp: number;
  /** 0..1, 0.5 at the bucket's acceptance threshold. */
  confidence: number;
}

/**
 * Fitted on the 'fit' half of test/fixtures/presence-pose.json plus the strangers of
 * ../shared/data/faces.json, reported on the 'report' half (src/models/faces/README.md, "Track
 * identity"). Below 64 px (decoded) the embedder's scores shrink for everyone: on the fit half the
 * highest wrong-person track reached 0.289 (its lead 0.167) while right ones went down to 0.30, so
 * small tracks accept 0.32 with a 0.10 lead. Large, sharp faces keep the picture threshold 0.45:
 * a stranger's photo in faces.json reached 0.368 with a 0.21 lead, so neither a lower threshold nor
 * the margin alone would be safe there; their small margin only drops near-ties.
 */
export const DEFAULT_TRACK_IDENTITY_RULE: TrackIdentityRule = {
  largeSidePx: 64,
  large: { threshold: 0.45, margin: 0.05 },
  small: { threshold: 0.32, margin: 0.1 },
  maxFaces: 12,
};

/**
 * With a cast list the candidates are the video's cast only (closed set), so fewer impostors
 * compete and the runner-up is a cast member. Fitted on the 'fit' half of the harder set indexed
 * with each video's cast (presence-pose-fit-cast.json), reported on the 'report' half: the highest
 * aggregated score of a wrong track was 0.291 below 64 px (a 25 px blurred face, lead 0.166) and
 * 0.099 at 64 px and more, while right small tracks went down to 0.307 (lead 0.283); recall on the
 * fit half peaks for a small-face threshold in (0.291, 0.307], so 0.30. Large faces keep a
 * threshold above the faces.json stranger photo (0.368: a stranger off the cast list still meets
 * the closed set), 0.40, with the open-set margins.
 */
export const CAST_TRACK_IDENTITY_RULE: TrackIdentityRule = {
  largeSidePx: 64,
  large: { threshold: 0.4, margin: 0.05 },
  small: { threshold: 0.3, margin: 0.1 },
  maxFaces: 12,
};

/** Similarity band over which confidence goes from ~0.12 to ~0.88 around the threshold. */
const CONFIDENCE_SPREAD = 0.05;

export function confidenceAbove(similarity: number, threshold: number): number {
  return 1 / (1 + Math.exp(-(similarity - threshold) / CONFIDENCE_SPREAD));
}

/** The faces a track is judged on: the best `max` by quality. */
export function facesToScore<T extends { quality: number }>(faces: readonly T[], max: number): T[] {
  return [...faces].sort((a, b) => b.quality - a.quality).slice(0, Math.max(1, max));
}

/**
 * Quality-weighted mean similarity per actor over the track's faces, best first. A face that did
 * not list an actor contributes its lowest listed similarity (an upper bound), so an actor seen in
 * only a few lucky frames cannot win on those alone.
 */
export function aggregateScores(faces: readonly ScoredFace[]): ActorScore[] {
  const actors = new Set(faces.flatMap((f) => f.scores.map((s) => s.actorId)));
  // A track of zero-quality faces still counts each face equally.
  const weight = (f: ScoredFace): number => Math.max(f.quality, 1e-6);
  const total = faces.reduce((sum, f) => sum + weight(f), 0);
  const result: ActorScore[] = [];
  for (const actorId of actors) {
    let sum = 0;
    for (const face of faces) {
      const listed = face.scores.find((s) => s.actorId === actorId);
      sum += weight(face) * (listed?.similarity ?? face.scores.at(-1)?.similarity ?? 0);
    }
    result.push({ actorId, similarity: total > 0 ? sum / total : 0 });
  }
  return result.sort((a, b) => b.similarity - a.similarity || a.actorId.localeCompare(b.actorId));
}

/** The track's identity under the rule, or null (unknown). `meanSide`: quality-weighted mean face side. */
export function identifyTrack(faces: readonly ScoredFace[], meanSide: number, rule: TrackIdentityRule = DEFAULT_TRACK_IDENTITY_RULE): TrackIdentity | null {
  const [best, second] = aggregateScores(faces);
  if (!best) return null;
  const bucket = meanSide >= rule.largeSidePx ? rule.large : rule.small;
  const runnerUp = second?.similarity ?? 0;
  if (best.similarity < bucket.threshold || best.similarity - runnerUp < bucket.margin) return null;
  return { actorId: best.actorId, similarity: best.similarity, runnerUp, confidence: confidenceAbove(best.similarity, bucket.threshold) };
}

/** Quality-weighted mean of the faces' box sides (the bucket key). */
export function weightedMeanSide(faces: readonly { quality: number; side: number }[]): number {
  const total = faces.reduce((sum, f) => sum + Math.max(f.quality, 1e-6), 0);
  return total > 0 ? faces.reduce((sum, f) => sum + Math.max(f.quality, 1e-6) * f.side, 0) / total : 0;
}
