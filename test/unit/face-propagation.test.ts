// Identity propagation (src/indexers/face-propagation.ts): one hop from confidently named tracks,
// cannot-link for tracks on screen together, a margin between two look-alike actors, and no chain
// of weak links carrying a name on.
import { describe, expect, it } from 'vitest';
import { pairKey } from '../../src/indexers/face-tracking.js';
import { propagateIdentities, type PropagationRule } from '../../src/indexers/face-propagation.js';

const RULE: PropagationRule = { sourceConfidence: 0.75, linkSimilarity: 0.5, linkMargin: 0.1 };
/** A unit vector at `degrees` in the plane: cosine between two is cos(difference). */
const at = (degrees: number) => ({ embedding: Float32Array.from([Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180), 0]) });
const away = { embedding: Float32Array.from([0, 0, 1]) };
const ann = { actorId: 'ann', similarity: 0.7, runnerUp: 0.2, confidence: 0.95 };
const bob = { actorId: 'bob', similarity: 0.6, runnerUp: 0.1, confidence: 0.9 };

describe('identity propagation', () => {
  it('names an unknown track linked to a confidently named one, marked as propagated', () => {
    // cos 30° = 0.87 ≥ 0.5; the third track is another person entirely.
    const out = propagateIdentities([at(0), at(30), away], [ann, null, null], new Set(), RULE);
    expect(out[1]).toMatchObject({ actorId: 'ann', propagated: true, fromTrack: 0, link: expect.closeTo(0.866, 3) });
    expect(out[1]!.confidence).toBeGreaterThan(0.5);
    expect(out[1]!.confidence).toBeLessThanOrEqual(ann.confidence);
    expect(out[2]).toBeNull();
  });

  it('gives confidence 0.5 at the link threshold, so fusion still accepts it there and nothing below', () => {
    const out = propagateIdentities([at(0), at(60)], [ann, null], new Set(), RULE); // cos 60° = 0.5
    expect(out[1]!.confidence).toBeCloseTo(0.5, 5);
    expect(propagateIdentities([at(0), at(61)], [ann, null], new Set(), RULE)[1]).toBeNull();
  });

  it('never names a track that shared a frame with a track of that actor (cannot-link)', () => {
    expect(propagateIdentities([at(0), at(5)], [ann, null], new Set([pairKey(0, 1)]), RULE)[1]).toBeNull();
    // Also when the other track of that actor is not the source: any track holding the name blocks it.
    const out = propagateIdentities([at(0), at(5), at(90)], [ann, null, { ...ann, confidence: 0.6 }], new Set([pairKey(1, 2)]), RULE);
    expect(out[1]).toBeNull();
  });

  it('names only one of two unknown tracks seen together, the better linked one', () => {
    const out = propagateIdentities([at(0), at(40), at(10)], [ann, null, null], new Set([pairKey(1, 2)]), RULE);
    expect(out[2]).toMatchObject({ actorId: 'ann' });
    expect(out[1]).toBeNull();
  });

  it('does not carry a name along a chain of weak links', () => {
    // 0 → 50° → 100°: each step links at cos 50° = 0.64, but track 2 is 100° (−0.17) from the only source.
    const out = propagateIdentities([at(0), at(50), at(100)], [ann, null, null], new Set(), RULE);
    expect(out[1]).toMatchObject({ actorId: 'ann' });
    expect(out[2]).toBeNull();
  });

  it('lends no name from a weak source, and names nobody when two actors link about equally', () => {
    expect(propagateIdentities([at(0), at(10)], [{ ...ann, confidence: 0.7 }, null], new Set(), RULE)[1]).toBeNull();
    // Ann at 0°, Bob at 40°, the unknown at 20°: both link at cos 20° → no lead.
    expect(propagateIdentities([at(0), at(40), at(20)], [ann, bob, null], new Set(), RULE)[2]).toBeNull();
    // At 5° it is clearly Ann's (cos 5° vs cos 35°: lead 0.18).
    expect(propagateIdentities([at(0), at(40), at(5)], [ann, bob, null], new Set(), RULE)[2]).toMatchObject({ actorId: 'ann' });
  });

  it('keeps a locked (editor-decided) track as it is, even "nobody we know"', () => {
    const out = propagateIdentities([at(0), { ...at(5), locked: true }], [ann, null], new Set(), RULE);
    expect(out[1]).toBeNull();
  });
});
