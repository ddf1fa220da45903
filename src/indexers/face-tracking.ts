// Pure pieces of the faces stage: face quality, tracking through a shot, per-track identity
// fusion and the time a track covers. No I/O here, so all of it is unit-tested with synthetic data.
import { iou } from '../models/box.js';
import type { Box, DetectedFace, RawImage } from '../models/types.js';
import type { AppearanceSpanRecord, FaceTrackRecord } from '../store/appearances.js';

export interface SampledFace {
  /** Index of the sampled frame within the shot (faces with the same index were seen together). */
  frameIndex: number;
  time: number;
  face: DetectedFace;
  embedding: Float32Array;
  quality: number;
}

export interface TrackerOptions {
  /** Lowest embedding similarity at which a detection may continue a track. */
  minLinkSimilarity: number;
  /** Similarity at which a detection continues a track even when it moved (fast motion, a missed frame). */
  strongLinkSimilarity: number;
  /** Lowest box overlap (IoU) that counts as "the same place". */
  minIou: number;
  /** Sampled frames a track may go unseen (missed detection, a hand in front) and still continue. */
  maxGapFrames: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  minLinkSimilarity: 0.3,
  strongLinkSimilarity: 0.5,
  minIou: 0.2,
  maxGapFrames: 2,
};

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

export function normalize(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  return norm > 0 ? vector.map((v) => v / norm) : vector.slice();
}

/**
 * Links detections frame by frame into tracks. Each pair (open track, detection) scores
 * IoU + similarity when it is plausible: the embedding agrees (≥ minLinkSimilarity) and either
 * the box stayed in place (IoU ≥ minIou) or the embedding agrees strongly. Pairs are taken
 * greedily, best first, one-to-one: with the handful of faces per frame in real video this
 * matches what Hungarian assignment picks, at a fraction of the code.
 * Input: detections of one shot, grouped per sampled frame in time order.
 */
export function trackFaces(frames: readonly (readonly SampledFace[])[], options: TrackerOptions = DEFAULT_TRACKER_OPTIONS): SampledFace[][] {
  const tracks: SampledFace[][] = [];
  const open: number[] = [];
  for (const detections of frames) {
    const frameIndex = detections[0]?.frameIndex;
    if (frameIndex === undefined) continue;
    const pairs: { track: number; detection: number; score: number }[] = [];
    for (const t of open) {
      const last = tracks[t]!.at(-1)!;
      if (frameIndex - last.frameIndex - 1 > options.maxGapFrames) continue;
      detections.forEach((d, i) => {
        const similarity = cosine(last.embedding, d.embedding);
        const overlap = iou(last.face.box, d.face.box);
        const plausible = similarity >= options.minLinkSimilarity && (overlap >= options.minIou || similarity >= options.strongLinkSimilarity);
        if (plausible) pairs.push({ track: t, detection: i, score: overlap + similarity });
      });
    }
    pairs.sort((a, b) => b.score - a.score);
    const usedTracks = new Set<number>();
    const usedDetections = new Set<number>();
    for (const pair of pairs) {
      if (usedTracks.has(pair.track) || usedDetections.has(pair.detection)) continue;
      usedTracks.add(pair.track);
      usedDetections.add(pair.detection);
      tracks[pair.track]!.push(detections[pair.detection]!);
    }
    detections.forEach((d, i) => {
      if (usedDetections.has(i)) return;
      tracks.push([d]);
      open.push(tracks.length - 1);
    });
    // Tracks unseen for too long are closed for good.
    for (let k = open.length - 1; k >= 0; k--) {
      if (frameIndex - tracks[open[k]!]!.at(-1)!.frameIndex > options.maxGapFrames) open.splice(k, 1);
    }
  }
  return tracks;
}

/**
 * The identity vector of a track: the L2-normalised mean of its `topK` best-quality faces'
 * embeddings. Averaging a few good views cancels per-frame noise; the worst frames (blur,
 * profile) are left out because they pull the mean towards "any face".
 */
export function fuseTrackEmbedding(track: readonly SampledFace[], topK = 3): Float32Array {
  const best = [...track].sort((a, b) => b.quality - a.quality).slice(0, Math.max(1, topK));
  const dim = best[0]!.embedding.length;
  const sum = new Float32Array(dim);
  for (const face of best) for (let i = 0; i < dim; i++) sum[i]! += face.embedding[i]!;
  return normalize(sum);
}

/**
 * The time a track covers: each sample stands for half a sampling interval either side, so a
 * track seen at t1..tn covers [t1 − h, tn + h] with h = 1 / (2·fps), clipped to the shot. A track
 * whose first (last) sample lies within one sampling interval of its shot's start (end) was on
 * screen when the shot began (ended) — no sample could have been closer — so it extends to that
 * boundary; otherwise the last half interval before every cut was lost.
 */
export function trackCoverage(track: readonly SampledFace[], fps: number, shot: { start: number; end: number }): { start: number; end: number } {
  const interval = 1 / fps;
  const times = track.map((f) => f.time);
  const first = Math.min(...times);
  const last = Math.max(...times);
  const start = first - shot.start <= interval + 1e-6 ? shot.start : first - interval / 2;
  const end = shot.end - last <= interval + 1e-6 ? shot.end : last + interval / 2;
  return { start: Math.max(shot.start, start), end: Math.min(shot.end, end) };
}

/** Pairs of tracks seen in the same frame: they are two people (cannot-link). */
export function coOccurringTracks(tracks: readonly (readonly SampledFace[])[]): Set<string> {
  const byFrame = new Map<number, number[]>();
  tracks.forEach((track, t) => {
    for (const face of track) {
      const list = byFrame.get(face.frameIndex) ?? [];
      if (!list.includes(t)) list.push(t);
      byFrame.set(face.frameIndex, list);
    }
  });
  const pairs = new Set<string>();
  for (const list of byFrame.values()) {
    for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) pairs.add(pairKey(list[i]!, list[j]!));
  }
  return pairs;
}

export function pairKey(a: number, b: number): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

export interface QualityWeights {
  /** Box side (pixels) at which size stops limiting quality. */
  fullSizePx: number;
  /** Laplacian variance (grey levels²) at which sharpness stops limiting quality. */
  sharpVariance: number;
}

export const DEFAULT_QUALITY: QualityWeights = { fullSizePx: 96, sharpVariance: 150 };

/**
 * Variance of the 4-neighbour Laplacian over the face box (grey): low for blurred faces.
 * Computed on the box itself, not the whole frame, so a sharp background cannot hide a blurred face.
 */
export function laplacianVariance(image: RawImage, box: Box): number {
  const x0 = Math.max(1, Math.floor(box.x));
  const y0 = Math.max(1, Math.floor(box.y));
  const x1 = Math.min(image.width - 2, Math.ceil(box.x + box.width) - 1);
  const y1 = Math.min(image.height - 2, Math.ceil(box.y + box.height) - 1);
  if (x1 <= x0 || y1 <= y0) return 0;
  const grey = (x: number, y: number): number => {
    const i = (y * image.width + x) * image.channels;
    return image.channels === 1 ? image.data[i]! : 0.299 * image.data[i]! + 0.587 * image.data[i + 1]! + 0.114 * image.data[i + 2]!;
  };
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const lap = grey(x - 1, y) + grey(x + 1, y) + grey(x, y - 1) + grey(x, y + 1) - 4 * grey(x, y);
      sum += lap;
      sumSq += lap * lap;
      n++;
    }
  }
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

/**
 * Frontalness from the five landmarks: 1 when the nose sits midway between the eyes (yaw) and
 * the eyes are level (roll); falls to 0 for a profile. Without landmarks: neutral 0.5.
 */
export function poseScore(face: DetectedFace): number {
  const points = face.landmarks;
  if (!points || points.length < 3) return 0.5;
  const [leftEye, rightEye, nose] = points as [[number, number], [number, number], [number, number]];
  const eyeDistance = Math.hypot(rightEye[0] - leftEye[0], rightEye[1] - leftEye[1]);
  if (eyeDistance === 0) return 0;
  const midX = (leftEye[0] + rightEye[0]) / 2;
  const yaw = Math.abs(nose[0] - midX) / eyeDistance;
  const roll = Math.abs(rightEye[1] - leftEye[1]) / eyeDistance;
  return Math.max(0, 1 - 2 * yaw) * Math.max(0, 1 - roll);
}

/** 0..1: detector confidence × size × sharpness × pose (each factor 0..1). */
export function faceQuality(image: RawImage, face: DetectedFace, weights: QualityWeights = DEFAULT_QUALITY): number {
  const side = Math.min(face.box.width, face.box.height);
  const size = Math.min(1, side / weights.fullSizePx);
  const sharpness = Math.min(1, laplacianVariance(image, face.box) / weights.sharpVariance);
  // Sharpness and pose soften rather than veto: a slightly soft frontal face still beats nothing.
  return face.score * size * (0.3 + 0.7 * sharpness) * (0.3 + 0.7 * poseScore(face));
}

/**
 * A video's FACE spans from its tracks: per actor, track coverages that overlap or touch are one
 * span (confidence: its most confident track; evidence: the tracks). Gaps are kept: onlyWatch
 * bridges them with its own mergeGapSec, which callers may choose.
 */
export function faceSpansFromTracks(videoId: string, tracks: readonly FaceTrackRecord[]): AppearanceSpanRecord[] {
  const byActor = new Map<string, FaceTrackRecord[]>();
  for (const track of tracks) {
    if (!track.actorId) continue;
    byActor.set(track.actorId, [...(byActor.get(track.actorId) ?? []), track]);
  }
  const spans: AppearanceSpanRecord[] = [];
  for (const [actorId, list] of [...byActor].sort(([a], [b]) => a.localeCompare(b))) {
    list.sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));
    let current: { start: number; end: number; members: FaceTrackRecord[] } | null = null;
    const flush = (): void => {
      if (!current) return;
      const best = current.members.reduce((a, b) => (b.confidence > a.confidence ? b : a));
      spans.push({
        id: `${videoId}:face:${actorId}:${spans.length}`,
        videoId,
        actorId,
        start: current.start,
        end: current.end,
        confidence: best.confidence,
        evidence: 'FACE',
        sourceIds: current.members.map((t) => t.id),
        bestFaceId: best.bestFaceId,
      });
    };
    for (const track of list) {
      if (current && track.start <= current.end + TOUCH_EPSILON_SEC) {
        current.end = Math.max(current.end, track.end);
        current.members.push(track);
      } else {
        flush();
        current = { start: track.start, end: track.end, members: [track] };
      }
    }
    flush();
  }
  return spans;
}

/** Coverages meeting within this much are one span (floating-point noise at shot joins). */
const TOUCH_EPSILON_SEC = 1e-6;
