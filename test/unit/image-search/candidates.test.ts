import { describe, expect, it } from 'vitest';
import { cascadeOrder, collapse, fusedScore, type RankedFrame } from '../../../src/services/image-search/candidates.js';

const frame = (videoId: string, time: number, fused: number, score = 0.5): RankedFrame => ({
  hit: { id: `${videoId}:${time}`, score, payload: { videoId, time, from: time, to: time + 0.5 } },
  score,
  fused,
  variant: 0,
});

describe('rank fusion of CNN and ColorLayout', () => {
  it('counts both ranks, each falling with its position, and nothing for a missing rank', () => {
    expect(fusedScore(null, null)).toBe(0);
    expect(fusedScore(1, null)).toBeGreaterThan(fusedScore(2, null));
    expect(fusedScore(null, 1)).toBeGreaterThan(fusedScore(null, 2));
    // A frame both signals rank well beats one only the CNN ranks first.
    expect(fusedScore(3, 1)).toBeGreaterThan(fusedScore(1, null));
  });
});

describe('candidate groups', () => {
  it('folds nearby frames of one video into one candidate, keeps the best score and the limit', () => {
    const groups = collapse([frame('a', 10, 0.9, 0.8), frame('a', 11, 0.8, 0.95), frame('b', 10, 0.7), frame('a', 30, 0.6), frame('c', 1, 0.5)], 3);
    expect(groups.map((g) => [g.videoId, g.time])).toEqual([
      ['a', 10],
      ['b', 10],
      ['a', 30],
    ]);
    expect(groups[0]!.shortlisted).toEqual([10, 11]);
    expect(groups[0]!.score).toBe(0.95);
  });

  it('skips hits without a video or time', () => {
    const bad: RankedFrame = { hit: { id: 'x', score: 1, payload: {} }, score: 1, fused: 1, variant: 0 };
    expect(collapse([bad, frame('a', 1, 0.5)], 5).map((g) => g.videoId)).toEqual(['a']);
  });

  it('verifies each video’s best candidate first, then the rest in fused order', () => {
    const groups = collapse([frame('a', 10, 0.9), frame('a', 20, 0.85), frame('a', 30, 0.8), frame('b', 5, 0.7), frame('c', 5, 0.6)], 10);
    expect(cascadeOrder(groups).map((g) => `${g.videoId}@${g.time}`)).toEqual(['a@10', 'b@5', 'c@5', 'a@20', 'a@30']);
  });
});
