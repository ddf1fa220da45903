// The voice link (src/indexers/voice-face-link.ts): an unknown face track that is the active
// speaker of a voice identified on its own takes that voice's actor — only with a strong link, never
// over an editor, never when two voices disagree or when that actor is already on screen elsewhere.
import { describe, expect, it } from 'vitest';
import { namesFromVoices, type LinkableTrack, type SpeakerLink } from '../../src/indexers/voice-face-link.js';
import { trackIdentitySource } from '../../src/store/appearances.js';

const track = (id: string, start: number, end: number, extra: Partial<LinkableTrack> = {}): LinkableTrack => ({ id, start, end, actorId: null, similarity: null, confidence: 0, ...extra });
const link = (trackId: string, actorId: string, share = 0.9, confidence = 0.8): SpeakerLink => ({ trackId, actorId, share, confidence });

describe('voice link', () => {
  it('names an unknown active speaker after its identified voice, stored as propagated', () => {
    const tracks = [track('t1', 0, 4)];
    const names = namesFromVoices([link('t1', 'ann')], tracks, 0.8);
    expect(names.get('t1')).toEqual({ actorId: 'ann', confidence: 0.8 });
    expect(trackIdentitySource({ actorId: 'ann', similarity: null, confidence: names.get('t1')!.confidence })).toBe('PROPAGATED');
  });

  it('needs the face alone on screen for the stricter share of the speech', () => {
    expect(namesFromVoices([link('t1', 'ann', 0.6)], [track('t1', 0, 4)], 0.8).size).toBe(0);
  });

  it('leaves named tracks, editor decisions and disputed tracks alone', () => {
    const tracks = [track('named', 0, 2, { actorId: 'bob', similarity: 0.5, confidence: 0.7 }), track('editor', 2, 4, { confidence: 1 }), track('both', 4, 6)];
    const names = namesFromVoices([link('named', 'ann'), link('editor', 'ann'), link('both', 'ann'), link('both', 'cid')], tracks, 0.8);
    expect(names.size).toBe(0);
  });

  it('does not name a track while a track of that actor is on screen at the same time', () => {
    const tracks = [track('t1', 0, 4), track('ann-face', 3, 6, { actorId: 'ann', similarity: 0.6, confidence: 0.9 }), track('t2', 6, 8)];
    const names = namesFromVoices([link('t1', 'ann'), link('t2', 'ann')], tracks, 0.8);
    expect([...names.keys()]).toEqual(['t2']);
  });

  it('keeps a linked confidence below an editor\'s', () => {
    expect(namesFromVoices([link('t1', 'ann', 0.9, 1)], [track('t1', 0, 4)], 0.8).get('t1')!.confidence).toBeLessThan(1);
  });
});
