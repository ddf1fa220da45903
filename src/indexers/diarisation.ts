// Speaker diarisation inside one video, as pure functions: speech segments → speaker turns short
// enough to hold one voice, turns → clusters of the same voice (average-linkage agglomerative
// clustering on cosine similarity), and the active-speaker link from a voice cluster to the one
// face track on screen while it speaks.
import type { SpeechSegment } from '../models/voice/types.js';

/** Turns longer than this are split: one VAD segment may hold a dialogue without pauses. */
export const MAX_TURN_SEC = 3;
/** Below this a piece carries too little of the voice to embed (matches the embedder's 1 s minimum plus margin). */
export const MIN_TURN_SEC = 1.2;

export interface SpeakerTurn {
  id: string;
  start: number;
  end: number;
}

/**
 * Cuts each speech segment into near-equal turns of at most MAX_TURN_SEC. A segment shorter than
 * MIN_TURN_SEC stays one turn (it may still be attached to a neighbour's speaker later).
 */
export function speakerTurns(segments: readonly SpeechSegment[]): SpeakerTurn[] {
  const turns: SpeakerTurn[] = [];
  for (const segment of segments) {
    const length = segment.end - segment.start;
    const pieces = Math.max(1, Math.ceil(length / MAX_TURN_SEC));
    const step = length / pieces;
    for (let p = 0; p < pieces; p++) {
      turns.push({ id: `turn-${turns.length}`, start: segment.start + p * step, end: p === pieces - 1 ? segment.end : segment.start + (p + 1) * step });
    }
  }
  return turns;
}

/**
 * Average-linkage agglomerative clustering on a symmetric matrix of pairwise voice scores: the two
 * clusters with the highest mean pairwise score merge while that mean is at least `threshold`
 * (the model's same-speaker threshold). Returns a cluster index per item, numbered by first
 * appearance.
 */
export function clusterVoices(similarity: readonly (readonly number[])[], threshold: number): number[] {
  const n = similarity.length;
  let clusters: number[][] = similarity.map((_, i) => [i]);
  // Sum of pairwise similarities between clusters i and j; the average is sum / (|i|·|j|).
  let linkSums: number[][] = similarity.map((row) => [...row]);
  for (;;) {
    let best = -Infinity;
    let pair: [number, number] | null = null;
    for (let i = 0; i < clusters.length; i++) {
      for (let j = i + 1; j < clusters.length; j++) {
        const average = linkSums[i]![j]! / (clusters[i]!.length * clusters[j]!.length);
        if (average > best) [best, pair] = [average, [i, j]];
      }
    }
    if (!pair || best < threshold) break;
    const [i, j] = pair;
    const merged = [...clusters[i]!, ...clusters[j]!];
    const mergedSums = clusters.map((_, k) => linkSums[i]![k]! + linkSums[j]![k]!);
    clusters = clusters.filter((_, k) => k !== i && k !== j);
    linkSums = linkSums.filter((_, k) => k !== i && k !== j).map((row) => row.filter((_, k) => k !== i && k !== j));
    const rest = mergedSums.filter((_, k) => k !== i && k !== j);
    linkSums.forEach((row, k) => row.push(rest[k]!));
    linkSums.push([...rest, 0]);
    clusters.push(merged);
  }
  const labels = new Array<number>(n).fill(-1);
  const ordered = [...clusters].sort((a, b) => Math.min(...a) - Math.min(...b));
  ordered.forEach((members, label) => members.forEach((m) => (labels[m] = label)));
  return labels;
}

export interface TimedTrack {
  id: string;
  start: number;
  end: number;
}

/** Share of [start, end) during which exactly one of the tracks is on screen, and which one it is most. */
function singleFaceOverlap(start: number, end: number, tracks: readonly TimedTrack[]): Map<string, number> {
  const cuts = new Set<number>([start, end]);
  for (const t of tracks) {
    if (t.start > start && t.start < end) cuts.add(t.start);
    if (t.end > start && t.end < end) cuts.add(t.end);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const seconds = new Map<string, number>();
  for (let k = 0; k + 1 < points.length; k++) {
    const [a, b] = [points[k]!, points[k + 1]!];
    const visible = tracks.filter((t) => t.start < b && t.end > a);
    if (visible.length === 1) seconds.set(visible[0]!.id, (seconds.get(visible[0]!.id) ?? 0) + (b - a));
  }
  return seconds;
}

/**
 * Active speaker: the face track that is the only face on screen for at least `minShare` of the
 * cluster's speaking time. Null when speech mostly happens over several faces or none.
 */
export function activeSpeakerTrack(turns: readonly SpeakerTurn[], tracks: readonly TimedTrack[], minShare = 0.5): { trackId: string; share: number } | null {
  const seconds = new Map<string, number>();
  let speaking = 0;
  for (const turn of turns) {
    speaking += turn.end - turn.start;
    for (const [id, s] of singleFaceOverlap(turn.start, turn.end, tracks)) seconds.set(id, (seconds.get(id) ?? 0) + s);
  }
  let best: { trackId: string; share: number } | null = null;
  for (const [trackId, s] of seconds) {
    const share = speaking > 0 ? s / speaking : 0;
    if (share >= minShare && (!best || share > best.share)) best = { trackId, share };
  }
  return best;
}
