// Track-level identity (src/indexers/face-identity.ts): quality-weighted aggregation over a
// track's faces, the size buckets' thresholds and the margin over the runner-up.
import { describe, expect, it } from 'vitest';
import { aggregateScores, facesToScore, identifyTrack, weightedMeanSide, type ScoredFace, type TrackIdentityRule } from '../../src/indexers/face-identity.js';

const RULE: TrackIdentityRule = { largeSidePx: 64, large: { threshold: 0.45, margin: 0.05 }, small: { threshold: 0.32, margin: 0.1 }, maxFaces: 12 };

const face = (quality: number, ...scores: [string, number][]): ScoredFace => ({ quality, scores: scores.map(([actorId, similarity]) => ({ actorId, similarity })) });

describe('track identity', () => {
  it('weights each face by its quality', () => {
    const [best] = aggregateScores([face(0.9, ['ann', 0.6]), face(0.1, ['ann', 0.1])]);
    expect(best!.actorId).toBe('ann');
    expect(best!.similarity).toBeCloseTo((0.9 * 0.6 + 0.1 * 0.1) / 1.0);
  });

  it('counts a face that did not list an actor at its lowest listed score, never more', () => {
    // Bob shows up in one lucky frame only; in the others he is below their last listed actor.
    const scores = aggregateScores([face(0.5, ['ann', 0.5], ['cid', 0.2]), face(0.5, ['bob', 0.7], ['ann', 0.3]), face(0.5, ['ann', 0.5], ['cid', 0.1])]);
    const of = (id: string) => scores.find((s) => s.actorId === id)!.similarity;
    expect(of('bob')).toBeCloseTo((0.2 + 0.7 + 0.1) / 3);
    expect(of('ann')).toBeCloseTo((0.5 + 0.3 + 0.5) / 3);
    expect(scores[0]!.actorId).toBe('ann');
  });

  it('accepts a small face at the small bucket threshold when it leads clearly', () => {
    const faces = [face(0.3, ['ann', 0.34], ['bob', 0.2]), face(0.2, ['ann', 0.35], ['bob', 0.18])];
    expect(identifyTrack(faces, 40, RULE)).toMatchObject({ actorId: 'ann', runnerUp: expect.closeTo(0.192, 3) });
    // The same scores on a large face are below the large bucket's threshold.
    expect(identifyTrack(faces, 80, RULE)).toBeNull();
  });

  it('rejects a track that resembles two actors about equally (margin)', () => {
    const faces = [face(0.5, ['ann', 0.5], ['bob', 0.44]), face(0.5, ['ann', 0.48], ['bob', 0.46])];
    expect(identifyTrack(faces, 40, RULE)).toBeNull();
    expect(identifyTrack([face(0.5, ['ann', 0.5], ['bob', 0.3])], 40, RULE)).toMatchObject({ actorId: 'ann' });
  });

  it('gives confidence 0.5 at the bucket threshold and more above it', () => {
    const at = identifyTrack([face(1, ['ann', 0.32], ['bob', 0])], 30, RULE)!;
    const above = identifyTrack([face(1, ['ann', 0.5], ['bob', 0])], 30, RULE)!;
    expect(at.confidence).toBeCloseTo(0.5);
    expect(above.confidence).toBeGreaterThan(0.9);
  });

  it('judges a track on its best faces and buckets it by their weighted size', () => {
    const faces = [{ quality: 0.1, side: 100 }, { quality: 0.9, side: 30 }, { quality: 0.5, side: 50 }];
    expect(facesToScore(faces, 2).map((f) => f.quality)).toEqual([0.9, 0.5]);
    expect(weightedMeanSide(faces)).toBeCloseTo((0.1 * 100 + 0.9 * 30 + 0.5 * 50) / 1.5);
    expect(identifyTrack([], 50, RULE)).toBeNull();
  });
});
