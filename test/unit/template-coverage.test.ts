import { describe, expect, it } from 'vitest';
import { pickCoveringTemplates, type TemplateCandidate } from '../../src/services/template-coverage.js';
import { MIN_ENROL_FACE_SIDE } from '../../src/services/actor-pictures.js';

/** A unit vector at `deg` degrees: the angle stands for how far a view is from the frontal one. */
const view = (deg: number): Float32Array => Float32Array.of(Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180));
const face = (id: string, deg: number, quality: number, side = 60): TemplateCandidate => ({ id, vector: view(deg), quality, box: { x: 0, y: 0, width: side, height: side } });

describe('pickCoveringTemplates', () => {
  it('takes the views the actor lacks before more of the one it has, not the sharpest faces', () => {
    const frontal = [face('f1', 0, 0.95), face('f2', 3, 0.9), face('f3', 5, 0.85)];
    const turned = [face('t1', 40, 0.5), face('p1', 80, 0.3)];
    const picked = pickCoveringTemplates([...frontal, ...turned], [view(0)], 2);
    expect(picked.map((c) => c.id)).toEqual(['p1', 't1']);
  });

  it('spreads picks: a second face of a view already picked waits for the other views', () => {
    const picked = pickCoveringTemplates([face('a', 60, 0.9), face('b', 58, 0.8), face('c', -60, 0.4)], [view(0)], 2);
    expect(picked.map((c) => c.id)).toEqual(['a', 'c']);
  });

  it('starts from the best face when the actor has no template, and never picks one twice', () => {
    const picked = pickCoveringTemplates([face('low', 0, 0.2), face('best', 10, 0.9)], [], 5);
    expect(picked.map((c) => c.id)).toEqual(['best', 'low']);
  });

  it('never learns a face too small to enrol from', () => {
    const tiny = face('tiny', 90, 0.9, MIN_ENROL_FACE_SIDE - 1);
    expect(pickCoveringTemplates([tiny, face('ok', 30, 0.1, MIN_ENROL_FACE_SIDE)], [view(0)], 5).map((c) => c.id)).toEqual(['ok']);
    expect(pickCoveringTemplates([tiny], [], 5)).toEqual([]);
  });
});
