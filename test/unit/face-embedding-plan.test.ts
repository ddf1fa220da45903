import { describe, expect, it } from 'vitest';
import { CHAIN_MIN_IOU, FaceEmbeddingPlanner, embeddingSources, type ClosedChain, type PlannedFace } from '../../src/indexers/face-embedding-plan.js';

interface Face extends PlannedFace {
  name: string;
}

const face = (name: string, x: number, quality: number, y = 0): Face => ({ name, box: { x, y, width: 100, height: 100 }, quality });

/** Runs frames through a planner; returns the closed chains and the faces let go, by name. */
function plan(frames: Face[][], keepBest: number): { chains: ClosedChain<Face>[]; released: string[] } {
  const planner = new FaceEmbeddingPlanner<Face>(keepBest);
  const chains: ClosedChain<Face>[] = [];
  const released: string[] = [];
  frames.forEach((faces, i) => {
    const outcome = planner.addFrame(i, faces);
    chains.push(...outcome.closed);
    released.push(...outcome.released.map((f) => f.name));
  });
  chains.push(...planner.closeAll());
  return { chains, released };
}

const names = (faces: readonly Face[]): string[] => faces.map((f) => f.name);

describe('face embedding plan', () => {
  it('embeds a still face only at its ends and its best samples', () => {
    const qualities = [0.5, 0.2, 0.9, 0.1, 0.8, 0.3, 0.4];
    const { chains, released } = plan(qualities.map((q, i) => [face(`f${i}`, 10, q)]), 2);
    expect(chains).toHaveLength(1);
    expect(names(chains[0]!.faces)).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6']);
    // First (f0), last (f6), the two best of the rest (f2 0.9, f4 0.8).
    expect(names(chains[0]!.embed)).toEqual(['f0', 'f2', 'f4', 'f6']);
    expect(released.sort()).toEqual(['f1', 'f3', 'f5']);
  });

  it('keeps every face of a chain shorter than what it keeps', () => {
    const { chains, released } = plan([0.3, 0.2, 0.1].map((q, i) => [face(`f${i}`, 10, q)]), 12);
    expect(names(chains[0]!.embed)).toEqual(['f0', 'f1', 'f2']);
    expect(released).toEqual([]);
  });

  it('breaks the chain when the face moves (the tracker judges it on embeddings)', () => {
    // 100-px boxes 40 px apart: IoU 0.43, below CHAIN_MIN_IOU.
    expect(CHAIN_MIN_IOU).toBeGreaterThan(0.43);
    const { chains } = plan([[face('a', 0, 0.5)], [face('b', 40, 0.5)]], 12);
    expect(chains.map((c) => names(c.faces))).toEqual([['a'], ['b']]);
  });

  it('breaks the chain when another face is near enough to be a rival', () => {
    // Two faces side by side, 50 px apart: each overlaps the other's last box (IoU 0.33 ≥ 0.2).
    const frames = [[face('a0', 0, 0.5), face('b0', 50, 0.5)], [face('a1', 0, 0.5), face('b1', 50, 0.5)]];
    const { chains } = plan(frames, 12);
    expect(chains).toHaveLength(4);
    expect(chains.every((c) => c.faces.length === 1 && c.embed.length === 1)).toBe(true);
  });

  it('chains two faces far apart independently', () => {
    const frames = [0, 1, 2, 3].map((i) => [face(`a${i}`, 0, 0.1 * (i + 1)), face(`b${i}`, 500, 0.5 - 0.1 * i)]);
    const { chains } = plan(frames, 1);
    const byFirst = new Map(chains.map((c) => [c.faces[0]!.name, names(c.embed)]));
    expect(byFirst.get('a0')).toEqual(['a0', 'a3']);
    expect(byFirst.get('b0')).toEqual(['b0', 'b1', 'b3']);
  });

  it('ends a chain at a frame without the face', () => {
    const { chains } = plan([[face('a', 0, 0.5)], [], [face('b', 0, 0.5)]], 12);
    expect(chains.map((c) => names(c.faces))).toEqual([['a'], ['b']]);
  });

  it('a track of several chains has its best faces embedded', () => {
    // The tracker joins chains; each chain's best are embedded, so the union holds the track's best.
    const frames = [0.9, 0.1, 0.2, 0.8].map((q, i) => [face(`f${i}`, i < 2 ? 0 : 300, q)]);
    const { chains } = plan(frames, 1);
    const embedded = new Set(chains.flatMap((c) => names(c.embed)));
    expect(embedded.has('f0') && embedded.has('f3')).toBe(true);
  });
});

describe('embedding sources', () => {
  it('lends each face its nearest embedded neighbour, the earlier on a tie', () => {
    const faces = ['a', 'b', 'c', 'd', 'e', 'f'];
    expect(embeddingSources(faces, new Set(['a', 'd', 'f']))).toEqual(['a', 'a', 'd', 'd', 'd', 'f']);
    expect(embeddingSources(faces, new Set(['c']))).toEqual(['c', 'c', 'c', 'c', 'c', 'c']);
  });

  it('refuses a chain with nothing embedded', () => {
    expect(() => embeddingSources(['a'], new Set())).toThrow();
  });
});
