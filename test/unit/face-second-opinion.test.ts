// A second recogniser's opinion (src/indexers/face-second-opinion.ts): gallery mean-centring and
// the lead-only rule for small tracks, and where the video decision asks it.
import { describe, expect, it } from 'vitest';
import { centred, galleryMean, secondOpinion, secondOpinionCandidate, CentredGallery, type SecondOpinionRule } from '../../src/indexers/face-second-opinion.js';
import type { ScoredFace } from '../../src/indexers/face-identity.js';
import { pairKey } from '../../src/indexers/face-tracking.js';
import { identifyVideoTracks, type FaceScorer, type SecondOpinionScorer, type TrackEvidence } from '../../src/indexers/face-video-identity.js';

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

describe('second opinion in the video decision (identifyVideoTracks)', () => {
  // The shipped scorer knows nobody (every face at stranger level); the second one reads a
  // thumbnail's bytes as the name of the person it shows.
  const shippedScore: FaceScorer = async () => [{ actorId: 'ann', similarity: 0.05 }, { actorId: 'bob', similarity: 0.02 }];
  const asked: string[][] = [];
  const scorer: SecondOpinionScorer = async (thumbnails, cast) => {
    asked.push([...cast]);
    return thumbnails.map((t) => ({ quality: t.quality, scores: t.jpeg.toString() === 'ann' ? [{ actorId: 'ann', similarity: 0.3 }, { actorId: 'bob', similarity: 0 }] : [{ actorId: 'bob', similarity: 0.1 }, { actorId: 'ann', similarity: 0.05 }] }));
  };
  const track = (who: string, side: number, extra: Partial<TrackEvidence> = {}): TrackEvidence => ({
    embedding: v(1, 0),
    faces: [{ quality: 0.5, side, embedding: v(1, 0) }],
    thumbnails: [{ quality: 0.5, jpeg: Buffer.from(who) }],
    ...extra,
  });
  const cast = ['ann', 'bob'];

  it('names a small unknown track the second recogniser is sure of, with a cast only', async () => {
    asked.length = 0;
    const [named, unsure] = await identifyVideoTracks([track('ann', 30), track('bob', 30)], new Set(), shippedScore, { cast, secondOpinion: scorer });
    expect(named).toMatchObject({ actorId: 'ann', similarity: expect.closeTo(0.3, 5), runnerUp: expect.closeTo(0, 5) });
    expect(named!.confidence).toBeGreaterThan(0.5);
    expect(unsure).toBeNull(); // lead 0.05 < margin
    expect(asked).toEqual([cast, cast]);
    asked.length = 0;
    expect(await identifyVideoTracks([track('ann', 30)], new Set(), shippedScore, { cast: null, secondOpinion: scorer })).toEqual([null]);
    expect(asked).toEqual([]);
  });

  it('is not asked about large tracks, tracks without thumbnails, nor an editor\'s "nobody"', async () => {
    asked.length = 0;
    const tracks = [track('ann', 80), track('ann', 30, { thumbnails: [] }), track('ann', 30, { editorDecision: { identity: null } })];
    expect(await identifyVideoTracks(tracks, new Set(), shippedScore, { cast, secondOpinion: scorer })).toEqual([null, null, null]);
    expect(asked).toEqual([]);
  });

  it('gives no name a track on screen at the same time already holds', async () => {
    const ann = { actorId: 'ann', similarity: 0.9, runnerUp: 0, confidence: 1 };
    // Orthogonal track embeddings: propagation links them at 0, so any name is the second opinion's.
    const tracks = [track('x', 80, { editorDecision: { identity: ann } }), track('ann', 30, { embedding: v(0, 1) })];
    expect((await identifyVideoTracks(tracks, new Set([pairKey(0, 1)]), shippedScore, { cast, secondOpinion: scorer }))[1]).toBeNull();
    expect((await identifyVideoTracks(tracks, new Set(), shippedScore, { cast, secondOpinion: scorer }))[1]).toMatchObject({ actorId: 'ann', similarity: expect.closeTo(0.3, 5) });
  });
});
