// A second recogniser's opinion (src/indexers/face-second-opinion.ts): gallery mean-centring and
// the lead-only rule for small tracks.
import { describe, expect, it } from 'vitest';
import { centred, galleryMean, secondOpinion, secondOpinionCandidate, CentredGallery, type SecondOpinionRule } from '../../bench/face-second-opinion-rule.js';
import type { ScoredFace } from '../../src/indexers/face-identity.js';

const RULE: SecondOpinionRule = { maxSidePx: 64, margin: 0.185 };
const v = (...xs: number[]) => Float32Array.from(xs);
const unit = (...xs: number[]) => v(...xs.map((x) => x / Math.hypot(...xs)));
const face = (...scores: [string, number][]): ScoredFace => ({ quality: 1, scores: scores.map(([actorId, similarity]) => ({ actorId, similarity })) });

describe('gallery mean-centring', () => {
  it('takes the mean of the gallery vectors', () => {
    expect([...galleryMean([v(1, 0, 2), v(3, 2, 0)])]).toEqual([2, 1, 1]);
    expect(() => galleryMean([])).toThrow(/at least one/);
  });

  it('subtracts the mean and re-normalises; a vector equal to the mean stays zero', () => {
    const c = centred(v(3, 1), v(0, 1));
    expect([...c]).toEqual([1, 0]);
    expect([...centred(v(0.5, 0.5), v(0.5, 0.5))]).toEqual([0, 0]);
  });

  it('takes away the head start of a "hub" every face resembles', () => {
    // Every vector shares a common direction (x); the hub's template lies closer to it than others.
    const templates = [
      { actorId: 'hub', vector: unit(1, 0, 0, 0.3) },
      { actorId: 'ann', vector: unit(1, 1, 0, 0) },
      { actorId: 'bob', vector: unit(1, 0, 1, 0) },
    ];
    const probe = unit(1, 0.3, 0, 0); // a face of ann, blurred towards the common direction
    const raw = templates.map((t) => ({ actorId: t.actorId, s: t.vector.reduce((sum, x, i) => sum + x * probe[i]!, 0) })).sort((a, b) => b.s - a.s);
    expect(raw[0]!.actorId).toBe('hub');
    const [best] = new CentredGallery(templates).score(probe, null);
    expect(best!.actorId).toBe('ann');
  });

  it('scores only the actors asked for, best template per actor', () => {
    const gallery = new CentredGallery([
      { actorId: 'ann', vector: unit(1, 0, 0) },
      { actorId: 'ann', vector: unit(0, 1, 0) },
      { actorId: 'bob', vector: unit(0, 0, 1) },
    ]);
    const all = gallery.score(unit(0, 1, 0.1), null);
    expect(all.map((s) => s.actorId)).toEqual(['ann', 'bob']);
    expect(gallery.score(unit(0, 1, 0.1), new Set(['bob'])).map((s) => s.actorId)).toEqual(['bob']);
  });
});

describe('second opinion rule', () => {
  it('names the best actor of a small track when it leads by the margin, whatever its level', () => {
    const faces = [face(['ann', 0.05], ['bob', -0.2]), face(['ann', 0.1], ['bob', -0.1])];
    expect(secondOpinion(faces, 30, RULE)).toMatchObject({ actorId: 'ann', lead: expect.closeTo(0.225, 3) });
  });

  it('leaves a near-tie unknown', () => {
    const faces = [face(['ann', 0.4], ['bob', 0.3])];
    expect(secondOpinionCandidate(faces, 30, RULE)).toMatchObject({ actorId: 'ann', lead: expect.closeTo(0.1, 3) });
    expect(secondOpinion(faces, 30, RULE)).toBeNull();
  });

  it('is not asked for large tracks (the shipped embedder reads those)', () => {
    expect(secondOpinion([face(['ann', 0.6], ['bob', 0])], 64, RULE)).toBeNull();
  });

  it('cannot judge without a runner-up (a one-person cast)', () => {
    expect(secondOpinionCandidate([face(['ann', 0.9])], 30, RULE)).toBeNull();
  });
});
