import { describe, expect, it } from 'vitest';
import { FRAME_COLLECTION, FRAME_COMPACT_COLLECTION } from '../../../src/indexers/frames.js';
import { cascadeOrder, collapse, createCandidateSource, fusedScore, newCandidateState, type RankedFrame } from '../../../src/services/image-search/candidates.js';
import { phaseClock } from '../../../src/services/image-search/phases.js';
import { seededRandom } from '../../../src/seeded-random.js';
import { useEmbeddedStores } from '../../helpers/embedded-stores.js';

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

describe('candidate ranking over two passes', () => {
  const stores = useEmbeddedStores('vidsearch-candidates');

  it('ranks as one pass over every variant would, reading each full descriptor once', async () => {
    const store = await stores.open('s');
    const random = seededRandom(3);
    const unit = (dim: number) => {
      const v = Float32Array.from({ length: dim }, () => random() - 0.5);
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    };
    // The compact descriptor: the first 6 of 12 dimensions (the first stage only has to shortlist).
    const compact = { modelId: 'prefix6', inputDim: 12, dim: 6, project: (v: Float32Array) => v.slice(0, 6) };
    await store.vectors.ensureCollection({ name: FRAME_COLLECTION, dim: 12, metric: 'cosine', modelId: 'full' });
    await store.vectors.ensureCollection({ name: FRAME_COMPACT_COLLECTION, dim: 6, metric: 'cosine', modelId: 'prefix6' });
    const points = Array.from({ length: 600 }, (_, i) => ({ id: `v${i % 7}:${i}`, vector: unit(12), payload: { videoId: `v${i % 7}`, time: i } }));
    await store.vectors.upsert(FRAME_COLLECTION, points);
    await store.vectors.upsert(FRAME_COMPACT_COLLECTION, points.map((p) => ({ ...p, vector: compact.project(p.vector) })));
    const read: string[] = [];
    const get = store.vectors.get.bind(store.vectors);
    store.vectors.get = async (collection, ids) => {
      if (collection === FRAME_COLLECTION) read.push(...ids);
      return get(collection, ids);
    };
    const source = createCandidateSource(store, compact);
    const clock = phaseClock(undefined);
    const [upright, mirrored] = [unit(12), unit(12)];

    const state = newCandidateState();
    await source.rank([upright], 0, [], state, undefined, clock);
    const twoPasses = await source.rank([upright, mirrored], 1, [], state, undefined, clock);
    expect(new Set(read).size).toBe(read.length);
    const onePass = await source.rank([upright, mirrored], 0, [], newCandidateState(), undefined, clock);
    expect(twoPasses).toEqual(onePass);
    // Both variants' top 40 are in (they overlap a little).
    expect(twoPasses.length).toBeGreaterThan(60);
  });
});
