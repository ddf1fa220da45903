import { describe, expect, it } from 'vitest';
import { activeSpeakerTrack, clusterVoices, MAX_TURN_SEC, speakerTurns } from '../../src/indexers/diarisation.js';
import { voiceSpans } from '../../src/indexers/voice-spans.js';
import { attributeTurn, contradictedByFace, decideCluster, FACE_LINK_MIN_SHARE } from '../../src/indexers/voices.js';

const unit = (...values: number[]): Float32Array => {
  const norm = Math.hypot(...values);
  return Float32Array.from(values, (v) => v / norm);
};

describe('speaker turns', () => {
  it('splits long speech into near-equal turns of at most MAX_TURN_SEC and keeps short ones whole', () => {
    const turns = speakerTurns([{ start: 0, end: 0.8 }, { start: 2, end: 9.5 }]);
    expect(turns.map((t) => [t.start, t.end])).toEqual([[0, 0.8], [2, 4.5], [4.5, 7], [7, 9.5]]);
    expect(turns.every((t) => t.end - t.start <= MAX_TURN_SEC)).toBe(true);
    expect(new Set(turns.map((t) => t.id)).size).toBe(4);
  });
});

/** Pairwise cosines: the matrix clusterVoices takes. */
const cosines = (vectors: Float32Array[]): number[][] => vectors.map((a) => vectors.map((b) => a.reduce((s, v, i) => s + v * b[i]!, 0)));

describe('clusterVoices', () => {
  it('groups vectors of one voice and keeps different voices apart, labels by first appearance', () => {
    const a1 = unit(1, 0.1, 0);
    const a2 = unit(1, -0.1, 0.05);
    const b1 = unit(0, 1, 0.1);
    const b2 = unit(0.05, 1, -0.1);
    expect(clusterVoices(cosines([b1, a1, b2, a2]), 0.5)).toEqual([0, 1, 0, 1]);
  });

  it('merges nothing when no pair reaches the threshold and handles no input', () => {
    expect(clusterVoices(cosines([unit(1, 0), unit(0, 1)]), 0.5)).toEqual([0, 1]);
    expect(clusterVoices([], 0.5)).toEqual([]);
  });

  it('uses average linkage: a chain of pairwise-close vectors does not collapse into one cluster', () => {
    const chain = [0, 40, 80, 120].map((deg) => unit(Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)));
    const labels = clusterVoices(cosines(chain), 0.7);
    expect(new Set(labels).size).toBeGreaterThan(1);
  });
});

describe('active speaker', () => {
  const turns = [{ id: 't0', start: 0, end: 4 }];
  it('picks the track that is alone on screen for most of the speech', () => {
    expect(activeSpeakerTrack(turns, [{ id: 'face', start: 0, end: 3 }])).toEqual({ trackId: 'face', share: 0.75 });
  });
  it('says nothing when two faces share the screen or the speaker is off screen', () => {
    expect(activeSpeakerTrack(turns, [{ id: 'a', start: 0, end: 4 }, { id: 'b', start: 0, end: 4 }])).toBeNull();
    expect(activeSpeakerTrack(turns, [{ id: 'a', start: 5, end: 9 }])).toBeNull();
  });
});

describe('voice spans', () => {
  it('bridges short pauses of one actor and keeps actors separate', () => {
    const turn = (id: string, start: number, end: number, actorId: string | null, confidence: number) => ({ id, start, end, actorId, confidence });
    const spans = voiceSpans({ id: 'v' }, [
      turn('t0', 0, 2, 'alice', 0.7),
      turn('t1', 2.5, 4, 'alice', 0.8),
      turn('t2', 4.2, 6, 'bob', 0.6),
      turn('t3', 8, 9, 'alice', 0.9),
      turn('t4', 9.5, 11, null, 0),
    ]);
    expect(spans.map((s) => [s.actorId, s.start, s.end, s.sourceIds])).toEqual([
      ['alice', 0, 4, ['t0', 't1']],
      ['bob', 4.2, 6, ['t2']],
      ['alice', 8, 9, ['t3']],
    ]);
    expect(spans.map((s) => s.confidence)).toEqual([0.8, 0.6, 0.9]);
    expect(spans.every((s) => s.evidence === 'VOICE' && s.bestFaceId === null)).toBe(true);
  });
});

describe('who a voice cluster is', () => {
  const tracks = [
    { id: 'known', actorId: 'alice', confidence: 0.9 },
    { id: 'stranger', actorId: null, confidence: 0.2 },
  ];
  const match = { actorId: 'bob', similarity: 0.5, score: 3, confidence: 0.95 };

  it('trusts its own voice match when no identified face is alone on screen, or that face is the same actor', () => {
    const voice = { actorId: 'bob', origin: 'VOICE', confidence: 0.95 };
    expect(decideCluster(match, { trackId: 'stranger', share: 1 }, tracks)).toEqual(voice);
    expect(decideCluster(match, { trackId: 'known', share: FACE_LINK_MIN_SHARE - 0.01 }, tracks)).toEqual(voice);
    expect(decideCluster(match, null, tracks)).toEqual(voice);
    expect(decideCluster({ ...match, actorId: 'alice' }, { trackId: 'known', share: 1 }, tracks)).toEqual({ ...voice, actorId: 'alice' });
  });

  it('drops a voice match that another identified face alone on screen contradicts (a cloned voice may match)', () => {
    const face = tracks[0]!;
    expect(contradictedByFace(match, face)).toBe(true);
    expect(contradictedByFace({ ...match, actorId: 'alice' }, face)).toBe(false);
    expect(contradictedByFace(match, null)).toBe(false);
    expect(decideCluster(match, { trackId: 'known', share: 1 }, tracks)).toEqual({ actorId: 'alice', origin: 'FACE', confidence: 0.9 });
  });

  it('takes the identified face alone on screen for most of its speech, with the face’s confidence', () => {
    expect(decideCluster(null, { trackId: 'known', share: FACE_LINK_MIN_SHARE }, tracks)).toEqual({ actorId: 'alice', origin: 'FACE', confidence: 0.9 });
  });

  it('stays unknown with an unknown face, a short overlap or no face', () => {
    const unknown = { actorId: null, origin: null, confidence: 0 };
    expect(decideCluster(null, { trackId: 'stranger', share: 1 }, tracks)).toEqual(unknown);
    expect(decideCluster(null, { trackId: 'known', share: FACE_LINK_MIN_SHARE - 0.01 }, tracks)).toEqual(unknown);
    expect(decideCluster(null, null, tracks)).toEqual(unknown);
  });
});

describe('who a speech turn is', () => {
  // Two shots: alice alone on screen 0–3 s, bob alone 3–6 s.
  const tracks = [
    { id: 'ta', actorId: 'alice', confidence: 0.9, start: 0, end: 3 },
    { id: 'tb', actorId: 'bob', confidence: 0.8, start: 3, end: 6 },
  ];
  const turnInB = { id: 't1', start: 3.2, end: 5.8 };
  const voiceOfAlice = { actorId: 'alice', origin: 'VOICE' as const, confidence: 0.9 };

  it('keeps its own voice match unless another identified face is alone on screen during the turn', () => {
    const ownAlice = { actorId: 'alice', similarity: 0.4, score: 4, confidence: 0.8 };
    expect(attributeTurn({ id: 't0', start: 0.2, end: 2.8 }, ownAlice, voiceOfAlice, tracks)).toMatchObject({ actorId: 'alice', ownMatch: true });
    expect(attributeTurn(turnInB, ownAlice, voiceOfAlice, tracks)).toMatchObject({ actorId: null, confidence: 0, ownMatch: false });
  });

  it('does not inherit a cluster voice match into a shot where another face speaks, but inherits a face-linked decision', () => {
    expect(attributeTurn(turnInB, null, voiceOfAlice, tracks)).toMatchObject({ actorId: null, ownMatch: false });
    expect(attributeTurn(turnInB, null, { actorId: 'bob', origin: 'FACE', confidence: 0.8 }, tracks)).toMatchObject({ actorId: 'bob', confidence: 0.8 });
    expect(attributeTurn({ id: 't2', start: 7, end: 9 }, null, voiceOfAlice, tracks)).toMatchObject({ actorId: 'alice', confidence: 0.9 });
  });
});
