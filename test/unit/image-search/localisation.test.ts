import { describe, expect, it } from 'vitest';
import type { GreyThumbnail } from '../../../src/services/image-search/frame-source.js';
import { alignQuery, frameSpans, heaviestWindow, localise, photometricScore, rememberingScorer, scoreFrames, type AlignedQuery } from '../../../src/services/image-search/localisation.js';
import type { RawImage } from '../../../src/models/types.js';

const W = 40;
const H = 30;

/** A grey test card; `mouth` moves a bright block in its lower middle (what a talking head changes). */
function card(mouth: number, gain = 1): Float32Array {
  const grey = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v = 60 + ((x * 7 + y * 13) % 50) + (x > 10 && x < 30 && y > 5 && y < 12 ? 80 : 0);
      if (y >= 14 && y < 18 && x >= 12 + mouth && x < 18 + mouth) v = 230;
      grey[y * W + x] = Math.min(255, v * gain);
    }
  }
  return grey;
}

const thumb = (time: number, grey: Float32Array): GreyThumbnail => ({ time, grey, width: W, height: H, repeat: false, features: null });
const asQuery = (grey: Float32Array): RawImage => ({ data: Uint8Array.from(grey, (v) => Math.round(v)), width: W, height: H, channels: 1 });
const IDENTITY = [1, 0, 0, 0, 1, 0, 0, 0, 1];
/** Every frame compared with one alignment (the frames here do not move). */
const find = (query: AlignedQuery, frames: readonly GreyThumbnail[]) => localise(scoreFrames(frames, () => query), 1);

describe('time localisation by pixels', () => {
  it('picks the frame whose small motion matches, whatever the screenshot’s contrast', () => {
    const frames = [0, 1, 2, 3, 4, 5, 6].map((i) => thumb(i * 0.5, card(i * 2)));
    const query = alignQuery(asQuery(card(8, 1.15)), IDENTITY, 1, W, H)!;
    const found = find(query, frames)!;
    expect(found.at).toBe(2);
    expect(found.bestTime).toBe(2);
    expect(found.to - found.from).toBeLessThanOrEqual(0.5);
    expect(found.margin).toBeGreaterThan(0);
  });

  it('answers the middle of a stretch it cannot tell apart, and says so with from/to and no margin', () => {
    const still = card(4);
    const frames = [...[0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => thumb(i * 0.5, still)), thumb(4.5, card(14))];
    const found = find(alignQuery(asQuery(still), IDENTITY, 1, W, H)!, frames)!;
    expect(found.from).toBe(0);
    expect(found.to).toBe(4);
    expect(found.at).toBe(2);
    expect(found.margin).toBeLessThanOrEqual(0);
  });

  it('answers the middle of frames it cannot tell apart when they are not neighbours (a mouth closing again)', () => {
    // The closed mouth at 0.5 s and 2 s; between them the mouth is open.
    const closed = card(4);
    const frames = [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5].map((t) => thumb(t, t === 0.5 || t === 2 ? closed : card(t < 2 ? 14 : 20)));
    const found = find(alignQuery(asQuery(closed), IDENTITY, 1, W, H)!, frames)!;
    expect(found.at).toBeGreaterThanOrEqual(1);
    expect(found.at).toBeLessThanOrEqual(1.5);
    expect(found.from).toBe(0.5);
    expect(found.to).toBe(2);
    // Both closed-mouth frames lie within the ±1 s window: nothing beyond it scores as well.
    expect(found.margin).toBeGreaterThan(0);
  });

  it('the heaviest window is the middle of a plateau, and a lone frame is its own answer', () => {
    const spanned = (times: number[]) => times.map((time, i) => ({ time, ...frameSpans(times.map((t) => ({ time: t })))[i]!, weight: 1 }));
    expect(heaviestWindow([{ time: 3, from: 3, to: 3, weight: 1 }], 1)).toBe(3);
    expect(heaviestWindow(spanned([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]), 1)).toBeCloseTo(2, 9);
    // Two tied frames far apart: the answer is within the time the better one (a weight bonus) stands for.
    const apart = heaviestWindow([{ time: 0.5, from: 0.25, to: 0.75, weight: 1.001 }, { time: 5, from: 4.75, to: 5.25, weight: 1 }], 1);
    expect(apart).toBeGreaterThanOrEqual(0.5);
    expect(apart).toBeLessThanOrEqual(0.75);
  });

  it('measures a still stretch by the time it covers, however densely its frames were sampled', () => {
    // A still stretch 4–9.5 s sampled at 2 fps, with the frames of 4–5.5 s also decoded at 25 fps
    // (the refinement's window): counted by frames, the dense part would pull the answer toward 4.7.
    const sparse = [4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8, 8.5, 9, 9.5];
    const dense = Array.from({ length: 38 }, (_, i) => Math.round((4 + i * 0.04) * 100) / 100);
    const times = [...new Set([...sparse, ...dense])].sort((a, b) => a - b);
    const spans = frameSpans(times.map((time) => ({ time })));
    const mixed = times.map((time, i) => ({ time, ...spans[i]!, weight: 1 }));
    expect(heaviestWindow(mixed, 1)).toBeCloseTo(6.75, 6);
    // The same stretch from its 2 fps samples alone: the same answer.
    expect(heaviestWindow(sparse.map((time, i) => ({ time, ...frameSpans(sparse.map((t) => ({ time: t })))[i]!, weight: 1 })), 1)).toBeCloseTo(6.75, 6);
  });

  it('a remembering scorer gives photometricScore’s scores, computing each alignment and frame pair once', () => {
    const frames = [0, 1, 2].map((i) => thumb(i * 0.5, card(i * 2)));
    const queries = [card(2), card(4)].map((grey) => alignQuery(asQuery(grey), IDENTITY, 1, W, H)!);
    const score = rememberingScorer();
    const first = scoreFrames(frames, () => queries, score);
    expect(first).toEqual(scoreFrames(frames, () => queries));
    // Changing a frame's pixels in place does not change its remembered score: it was not recomputed.
    const before = score(queries[0]!, frames[1]!);
    (frames[1]!.grey as Float32Array).fill(0).set(card(9).subarray(0, W * 10));
    expect(score(queries[0]!, frames[1]!)).toBe(before);
    expect(photometricScore(queries[0]!, frames[1]!)).not.toBe(before);
  });

  it('scores a frame in the middle of a fade below the frame itself', () => {
    const query = alignQuery(asQuery(card(4)), IDENTITY, 1, W, H)!;
    expect(photometricScore(query, thumb(0, card(4)))!).toBeGreaterThan(photometricScore(query, thumb(0, card(4, 0.45)))! + 0.05);
  });

  it('leaves out frames it could not align, and finds nothing without any', () => {
    const frames = [0, 1, 2].map((i) => thumb(i, card(i * 4)));
    const query = alignQuery(asQuery(card(4)), IDENTITY, 1, W, H)!;
    expect(scoreFrames(frames, (_frame, index) => (index === 1 ? null : query)).map((s) => s.time)).toEqual([0, 2]);
    expect(localise([], 1)).toBeNull();
  });

  it('answers between tied frames sparser than the tolerance, with the nearest frame as the best', () => {
    const moment = localise([{ time: 0, score: 0.9 }, { time: 4, score: 0.9 }, { time: 8, score: 0.2 }], 0.5)!;
    expect(moment.at).toBeGreaterThanOrEqual(0);
    expect(moment.at).toBeLessThanOrEqual(4);
    expect([0, 4]).toContain(moment.bestTime);
    expect(moment.margin).toBeCloseTo(0.7, 5);
  });

  it('masks the subtitle band: a caption burned into the screenshot does not move the answer', () => {
    const captioned = card(8);
    for (let y = H - 5; y < H - 1; y++) for (let x = 2; x < W - 2; x++) captioned[y * W + x] = 255;
    const frames = [0, 1, 2, 3, 4].map((i) => thumb(i, card(i * 4)));
    expect(find(alignQuery(asQuery(captioned), IDENTITY, 1, W, H)!, frames)!.at).toBe(2);
  });

  it('maps the screenshot through the homography (a half-size screenshot) and refuses too little overlap', () => {
    const full = card(8);
    const half = new Uint8Array((W / 2) * (H / 2));
    for (let y = 0; y < H / 2; y++) for (let x = 0; x < W / 2; x++) half[y * (W / 2) + x] = Math.round(full[2 * y * W + 2 * x]!);
    const scaleUp = [2, 0, 0, 0, 2, 0, 0, 0, 1];
    const frames = [0, 1, 2, 3, 4].map((i) => thumb(i, card(i * 4)));
    expect(find(alignQuery({ data: half, width: W / 2, height: H / 2, channels: 1 }, scaleUp, 1, W, H)!, frames)!.at).toBe(2);
    const farAway = [1, 0, 1000, 0, 1, 0, 0, 0, 1];
    expect(alignQuery(asQuery(full), farAway, 1, W, H)).toBeNull();
  });
});
