import { describe, expect, it } from 'vitest';
import { assignClusters, resolveIdentityConflicts, type MutableCluster } from '../../src/indexers/face-clustering.js';
import {
  coOccurringTracks,
  faceQuality,
  faceSpansFromTracks,
  fuseTrackEmbedding,
  laplacianVariance,
  pairKey,
  poseScore,
  trackCoverage,
  trackFaces,
  type SampledFace,
} from '../../src/indexers/face-tracking.js';
import { iou } from '../../src/models/box.js';
import type { Box, RawImage } from '../../src/models/types.js';
import type { FaceTrackRecord } from '../../src/store/appearances.js';

/** A unit vector pointing mostly along `axis`, with a little of `noiseAxis` (same person, another frame). */
function identity(axis: number, noise = 0, noiseAxis = 7, dim = 16): Float32Array {
  const v = new Float32Array(dim);
  v[axis] = 1;
  v[noiseAxis] = noise;
  const norm = Math.hypot(1, noise);
  return v.map((x) => x / norm);
}

function face(frameIndex: number, box: Box, embedding: Float32Array, quality = 0.5): SampledFace {
  return { frameIndex, time: frameIndex * 0.5, face: { box, score: 0.9, landmarks: null }, embedding, quality };
}

const left = (dx = 0): Box => ({ x: 10 + dx, y: 10, width: 50, height: 50 });
const right = (dx = 0): Box => ({ x: 200 + dx, y: 10, width: 50, height: 50 });

describe('trackFaces', () => {
  it('follows two people through a shot and keeps them apart', () => {
    const frames = [0, 1, 2, 3].map((k) => [face(k, left(k * 3), identity(0, 0.1 * k)), face(k, right(-k * 3), identity(1, 0.1 * k))]);
    const tracks = trackFaces(frames);
    expect(tracks).toHaveLength(2);
    expect(tracks.map((t) => t.length)).toEqual([4, 4]);
    expect(tracks[0]!.every((f) => f.embedding[0]! > 0.9)).toBe(true);
    expect(tracks[1]!.every((f) => f.embedding[1]! > 0.9)).toBe(true);
  });

  it('does not let two people swap places when their boxes cross', () => {
    // Person A moves right over B's place; identity, not position, must decide.
    const frames = [
      [face(0, left(), identity(0)), face(0, right(), identity(1))],
      [face(1, right(), identity(0)), face(1, left(), identity(1))],
    ];
    const tracks = trackFaces(frames);
    expect(tracks).toHaveLength(2);
    for (const track of tracks) expect(new Set(track.map((f) => f.embedding.indexOf(Math.max(...f.embedding))))).toHaveProperty('size', 1);
  });

  it('bridges a missed detection but not a long absence', () => {
    const seen = (k: number) => [face(k, left(), identity(0))];
    const bridged = trackFaces([seen(0), [], seen(2), seen(3)].filter((f) => f.length));
    expect(bridged).toHaveLength(1);
    const split = trackFaces([seen(0), seen(5)]);
    expect(split).toHaveLength(2);
  });

  it('starts a new track for a different person at the same place', () => {
    const tracks = trackFaces([[face(0, left(), identity(0))], [face(1, left(), identity(2))]]);
    expect(tracks).toHaveLength(2);
  });
});

describe('track helpers', () => {
  it('iou of identical, disjoint and half-overlapping boxes', () => {
    expect(iou(left(), left())).toBe(1);
    expect(iou(left(), right())).toBe(0);
    expect(iou({ x: 0, y: 0, width: 10, height: 10 }, { x: 5, y: 0, width: 10, height: 10 })).toBeCloseTo(50 / 150);
  });

  it('fuses the best-quality faces only', () => {
    const track = [face(0, left(), identity(0), 0.9), face(1, left(), identity(0), 0.8), face(2, left(), identity(3), 0.1)];
    const fused = fuseTrackEmbedding(track, 2);
    expect(fused[0]).toBeCloseTo(1);
    expect(fused[3]).toBe(0);
    expect(Math.hypot(...fused)).toBeCloseTo(1);
  });

  it('covers half a sampling interval either side, clipped to the shot', () => {
    const track = [face(2, left(), identity(0)), face(3, left(), identity(0))]; // t = 1.0, 1.5
    expect(trackCoverage(track, 2, { start: 0, end: 10 })).toEqual({ start: 0.75, end: 1.75 });
    expect(trackCoverage(track, 2, { start: 0.9, end: 1.6 })).toEqual({ start: 0.9, end: 1.6 });
  });

  it('extends a track to a shot boundary within one sampling interval of its first or last sample', () => {
    const track = [face(2, left(), identity(0)), face(3, left(), identity(0))]; // t = 1.0, 1.5
    // Last sample 0.5 s (one interval at 2 fps) before the cut: on screen until the cut.
    expect(trackCoverage(track, 2, { start: 0, end: 2 })).toEqual({ start: 0.75, end: 2 });
    // First sample one interval after the shot starts: on screen from the start.
    expect(trackCoverage(track, 2, { start: 0.5, end: 10 })).toEqual({ start: 0.5, end: 1.75 });
    // A little more than one interval away: the person left (or came) in between.
    expect(trackCoverage(track, 2, { start: 0.45, end: 2.05 })).toEqual({ start: 0.75, end: 1.75 });
  });

  it('finds tracks seen in the same frame', () => {
    const pairs = coOccurringTracks([[face(0, left(), identity(0))], [face(0, right(), identity(1))], [face(3, right(), identity(2))]]);
    expect([...pairs]).toEqual([pairKey(0, 1)]);
  });
});

describe('face quality', () => {
  function image(sharp: boolean): RawImage {
    const width = 64;
    const data = new Uint8Array(width * width * 3);
    for (let y = 0; y < width; y++) {
      for (let x = 0; x < width; x++) {
        // A checkerboard is all edges; a flat grey has none.
        const value = sharp ? ((x >> 1) + (y >> 1)) % 2 === 0 ? 30 : 220 : 128;
        data.fill(value, (y * width + x) * 3, (y * width + x) * 3 + 3);
      }
    }
    return { data, width, height: width, channels: 3 };
  }
  const box: Box = { x: 4, y: 4, width: 56, height: 56 };

  it('scores sharp faces above blurred ones', () => {
    expect(laplacianVariance(image(true), box)).toBeGreaterThan(1000);
    expect(laplacianVariance(image(false), box)).toBe(0);
    const detected = { box, score: 1, landmarks: null };
    expect(faceQuality(image(true), detected)).toBeGreaterThan(faceQuality(image(false), detected));
  });

  it('scores frontal faces above profiles', () => {
    const frontal = poseScore({ box, score: 1, landmarks: [[20, 20], [40, 20], [30, 30], [22, 40], [38, 40]] });
    const profile = poseScore({ box, score: 1, landmarks: [[20, 20], [40, 20], [42, 30], [22, 40], [38, 40]] });
    expect(frontal).toBeCloseTo(1);
    expect(profile).toBeLessThan(0.1);
  });
});

describe('incremental clustering', () => {
  let next = 0;
  const newId = () => `c${next++}`;

  it('joins the nearest cluster above the threshold, else starts one', () => {
    const clusters = new Map<string, MutableCluster>([['old', { id: 'old', vectorSum: identity(0).map((x) => x * 3), size: 3 }]]);
    const assigned = assignClusters(
      [
        { index: 0, embedding: identity(0, 0.2) },
        { index: 1, embedding: identity(1) },
        { index: 2, embedding: identity(1, 0.3) },
      ],
      clusters,
      new Set(),
      newId,
    );
    expect(assigned.get(0)).toBe('old');
    expect(assigned.get(1)).not.toBe('old');
    expect(assigned.get(2)).toBe(assigned.get(1));
    expect(clusters.get('old')!.size).toBe(4);
    expect(clusters.get(assigned.get(1)!)!.size).toBe(2);
  });

  it('never puts two faces of one frame into one cluster', () => {
    const clusters = new Map<string, MutableCluster>();
    const twins = [
      { index: 0, embedding: identity(0) },
      { index: 1, embedding: identity(0, 0.1) },
    ];
    const linked = assignClusters(twins, new Map(), new Set(), newId);
    expect(linked.get(0)).toBe(linked.get(1));
    const apart = assignClusters(twins, clusters, new Set([pairKey(0, 1)]), newId);
    expect(apart.get(0)).not.toBe(apart.get(1));
  });

  it('keeps the name on the more similar of two same-frame tracks', () => {
    const resolved = resolveIdentityConflicts(
      [{ actorId: 'a', similarity: 0.6 }, { actorId: 'a', similarity: 0.8 }, { actorId: 'a', similarity: 0.5 }],
      new Set([pairKey(0, 1)]),
    );
    expect(resolved).toEqual([null, { actorId: 'a', similarity: 0.8 }, { actorId: 'a', similarity: 0.5 }]);
  });
});

describe('faceSpansFromTracks', () => {
  const track = (id: string, actorId: string | null, start: number, end: number, confidence = 0.7): FaceTrackRecord => ({
    id,
    videoId: 'v',
    shotIndex: 0,
    start,
    end,
    faceCount: 3,
    actorId,
    clusterId: null,
    similarity: 0.6,
    confidence,
    bestFaceId: `${id}-face`,
    embedding: new Float32Array(2),
    modelId: 'm',
  });

  it('joins touching tracks of one actor and skips unknown ones', () => {
    const spans = faceSpansFromTracks('v', [track('t1', 'a', 0, 2), track('t2', 'a', 2, 3, 0.9), track('t3', 'a', 5, 6), track('t4', null, 0, 9), track('t5', 'b', 1, 4)]);
    expect(spans.map((s) => [s.actorId, s.start, s.end, s.sourceIds])).toEqual([
      ['a', 0, 3, ['t1', 't2']],
      ['a', 5, 6, ['t3']],
      ['b', 1, 4, ['t5']],
    ]);
    expect(spans[0]!.confidence).toBe(0.9);
    expect(spans[0]!.bestFaceId).toBe('t2-face');
    expect(new Set(spans.map((s) => s.id)).size).toBe(3);
  });
});
