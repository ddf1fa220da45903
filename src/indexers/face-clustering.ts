// Grouping unknown faces across the whole library, incrementally: each new unknown track joins
// the nearest cluster centroid above a threshold or starts a cluster. Two tracks seen in the
// same frame are two people (cannot-link), both for clustering and for identification.
import { cosine, pairKey } from './face-tracking.js';

/**
 * Lowest centroid similarity at which an unknown track joins a cluster. Track embeddings are
 * means of several good faces, so they are cleaner than single pictures; the faces engineer's
 * picture-level threshold (0.45, where no stranger pair of faces.json scored above 0.42) is
 * therefore a safe floor for "same person" here too.
 */
export const CLUSTER_JOIN_THRESHOLD = 0.45;

export interface MutableCluster {
  id: string;
  vectorSum: Float32Array;
  size: number;
}

export interface UnknownTrack {
  /** Index of the track among the video's tracks (the cannot-link pairs use it). */
  index: number;
  embedding: Float32Array;
}

/**
 * Assigns each unknown track a cluster, updating `clusters` in place (sums, sizes, new ones).
 * Returns trackIndex → clusterId. Tracks are taken in the given order (callers put the longest,
 * most reliable tracks first, so they seed the clusters).
 */
export function assignClusters(
  tracks: readonly UnknownTrack[],
  clusters: Map<string, MutableCluster>,
  cannotLink: ReadonlySet<string>,
  newClusterId: () => string,
  threshold = CLUSTER_JOIN_THRESHOLD,
): Map<number, string> {
  const assigned = new Map<number, string>();
  for (const track of tracks) {
    // Clusters holding a track seen together with this one are someone else.
    const forbidden = new Set<string>();
    for (const [other, clusterId] of assigned) if (cannotLink.has(pairKey(other, track.index))) forbidden.add(clusterId);
    let best: MutableCluster | null = null;
    let bestSimilarity = threshold;
    for (const cluster of clusters.values()) {
      if (cluster.size <= 0 || forbidden.has(cluster.id)) continue;
      const similarity = cosine(cluster.vectorSum, track.embedding);
      if (similarity >= bestSimilarity) {
        best = cluster;
        bestSimilarity = similarity;
      }
    }
    if (!best) {
      best = { id: newClusterId(), vectorSum: new Float32Array(track.embedding.length), size: 0 };
      clusters.set(best.id, best);
    }
    for (let i = 0; i < track.embedding.length; i++) best.vectorSum[i]! += track.embedding[i]!;
    best.size += 1;
    assigned.set(track.index, best.id);
  }
  return assigned;
}

export interface TrackIdentity {
  actorId: string;
  similarity: number;
}

/**
 * Two tracks in the same frame cannot both be one actor: the less similar of the two loses the
 * name and becomes unknown (repeated until no such pair is left).
 */
export function resolveIdentityConflicts<T extends TrackIdentity>(identities: readonly (T | null)[], cannotLink: ReadonlySet<string>): (T | null)[] {
  const result = [...identities];
  const order = result
    .map((identity, index) => ({ identity, index }))
    .filter((e): e is { identity: T; index: number } => e.identity !== null)
    .sort((a, b) => b.identity.similarity - a.identity.similarity);
  const kept: number[] = [];
  for (const { identity, index } of order) {
    const clash = kept.some((k) => result[k]!.actorId === identity.actorId && cannotLink.has(pairKey(k, index)));
    if (clash) result[index] = null;
    else kept.push(index);
  }
  return result;
}
