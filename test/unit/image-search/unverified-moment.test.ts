import { describe, expect, it } from 'vitest';
import type { VideoRecord } from '../../../src/domain.js';
import type { RawImage } from '../../../src/models/types.js';
import { rankedMatches } from '../../../src/services/image-search/answer.js';
import type { GreyThumbnail } from '../../../src/services/image-search/frame-source.js';
import { phaseClock } from '../../../src/services/image-search/phases.js';
import type { Group } from '../../../src/services/image-search/types.js';
import { chooseUnverified, cropAlignment, mirroredBox, unverifiedMoment } from '../../../src/services/image-search/unverified-moment.js';

// Thumbnails 40×30 stand for frames 80×60 (VERIFY_WIDTH / LOCALISE_WIDTH = 2).
const W = 40;
const H = 30;

/** A frame of a slow pan: a textured backdrop shifting `shift` pixels, a bright block moving with it. */
function frame(shift: number): Float32Array {
  const grey = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const u = x + shift;
      grey[y * W + x] = 50 + ((u * 7 + y * 13) % 40) + (u > 12 && u < 22 && y > 4 && y < 14 ? 120 : 0);
    }
  }
  return grey;
}

const thumb = (time: number, grey: Float32Array): GreyThumbnail => ({ time, grey, width: W, height: H, repeat: false, features: null });

/**
 * The screenshot of a frame at twice the thumbnail's size with black bars `bar` pixels high above and
 * below (a letterbox), its grey levels through a gamma curve (a phone filter: not a linear change),
 * optionally mirrored.
 */
function screenshot(grey: Float32Array, bar: number, mirror = false): RawImage {
  const width = 2 * W;
  const height = 2 * H + 2 * bar;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < 2 * H; y++) {
    for (let x = 0; x < width; x++) {
      const v = grey[Math.floor(y / 2) * W + Math.floor(x / 2)]!;
      data[(y + bar) * width + (mirror ? width - 1 - x : x)] = Math.round(255 * Math.pow(v / 255, 0.6));
    }
  }
  return { data, width, height, channels: 1 };
}

const frames = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => thumb(i * 0.5, frame(i * 2)));
/** A still backdrop with a block moving across it: no crop or mirror image of one frame looks like another frame. */
const moving = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => {
  const grey = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) grey[y * W + x] = 50 + ((x * 7 + y * 13) % 40) + (x >= 4 + 3 * i && x < 10 + 3 * i && y > 6 && y < 16 ? 120 : 0);
  return thumb(i * 0.5, grey);
});

describe('the moment when nothing verifies', () => {
  it('maps the content region onto the whole frame', () => {
    const shot = screenshot(frames[3]!.grey as Float32Array, 10);
    const aligned = cropAlignment(shot, { x: 0, y: 10, width: 2 * W, height: 2 * H }, { width: W, height: H })!;
    // Above the masked subtitle band every counted pixel samples the frame's own pixel (through the gamma curve).
    const k = 8 * W + 20;
    expect(aligned.mask[k]).toBe(1);
    expect(aligned.values[k]).toBe(Math.round(255 * Math.pow(frames[3]!.grey[k]! / 255, 0.6)));
  });

  it('finds the frame of a recoloured, letterboxed screenshot', () => {
    const shot = screenshot(frames[6]!.grey as Float32Array, 10);
    const found = unverifiedMoment(frames, [{ grey: shot, regions: [{ x: 0, y: 10, width: 2 * W, height: 2 * H }] }])!;
    expect(found.at).toBe(3);
    expect(found.margin).toBeGreaterThan(0);
  });

  it('finds the frame of a mirrored screenshot when it is also tried flipped back', () => {
    const shot = screenshot(moving[2]!.grey as Float32Array, 0, true);
    const region = { x: 0, y: 0, width: 2 * W, height: 2 * H };
    const unflipped: RawImage = { ...shot, data: Uint8Array.from({ length: shot.data.length }, (_, i) => shot.data[Math.floor(i / shot.width) * shot.width + (shot.width - 1 - (i % shot.width))]!) };
    const upright = unverifiedMoment(moving, [{ grey: shot, regions: [region] }])!;
    const both = unverifiedMoment(moving, [
      { grey: shot, regions: [region] },
      { grey: unflipped, regions: [mirroredBox(region, shot.width)] },
    ])!;
    expect(Math.abs(upright.at - 1)).toBeGreaterThan(1);
    expect(both.at).toBe(1);
  });

  it('finds the frame of a cropped screenshot (70 % of each side, off centre)', () => {
    // 28×21 thumbnail pixels from (6, 0), at the frame's scale: 56×42.
    const source = moving[5]!.grey;
    const data = new Uint8Array(56 * 42);
    for (let y = 0; y < 42; y++) for (let x = 0; x < 56; x++) data[y * 56 + x] = source[Math.floor(y / 2) * W + 6 + Math.floor(x / 2)]!;
    const shot: RawImage = { data, width: 56, height: 42, channels: 1 };
    const found = unverifiedMoment(moving, [{ grey: shot, regions: [{ x: 0, y: 0, width: 56, height: 42 }] }])!;
    expect(found.at).toBe(2.5);
    const aligned = cropAlignment(shot, { x: 0, y: 0, width: 56, height: 42 }, { width: W, height: H }, { share: 0.7, placeX: 0.5, placeY: 0 })!;
    expect(aligned.values[8 * W + 20]).toBe(source[8 * W + 20]);
  });

  it('has no answer without frames or comparable regions', () => {
    const shot = screenshot(frames[0]!.grey as Float32Array, 0);
    expect(unverifiedMoment([], [{ grey: shot, regions: [{ x: 0, y: 0, width: 2 * W, height: 2 * H }] }])).toBeNull();
    expect(unverifiedMoment(frames, [{ grey: shot, regions: [] }])).toBeNull();
  });

  it('mirrors a box within the picture', () => {
    expect(mirroredBox({ x: 10, y: 5, width: 30, height: 20 }, 100)).toEqual({ x: 60, y: 5, width: 30, height: 20 });
  });
});

const video = (id: string) => ({ id, durationSec: 60 }) as VideoRecord;
const group = (videoId: string, time: number, fused: number): Group => ({ videoId, time, from: time, to: time, score: 0.5, fused, variant: 0, shortlisted: [time] });
const noClock = phaseClock(undefined);

describe('choosing among the first stage’s candidates when nothing verifies', () => {
  // Video "a" holds `moving` at 10–14 s, video "b" the pan `frames` at 20–24 s.
  const source = {
    async thumbnails(v: VideoRecord, start: number, end: number) {
      const [offset, pool] = v.id === 'a' ? [10, moving] : [20, frames];
      return pool.map((f) => ({ ...f, time: f.time + offset })).filter((f) => f.time >= start && f.time <= end);
    },
  };
  const region = { x: 0, y: 0, width: 2 * W, height: 2 * H };

  it('picks the candidate whose frames look like the screenshot, its moment within a second of the candidate', async () => {
    const shot = screenshot(moving[6]!.grey as Float32Array, 0);
    const first = { group: group('b', 22, 0.9), video: video('b') };
    const second = { group: group('a', 12.5, 0.8), video: video('a') };
    const chosen = (await chooseUnverified(source, [first, second], [{ grey: shot, regions: [region] }], noClock))!;
    expect(chosen.candidate).toBe(second);
    expect(chosen.localisation.at).toBe(13);
  });

  it('looks no further than the leading five', async () => {
    const shot = screenshot(moving[6]!.grey as Float32Array, 0);
    const others = [20.5, 21, 21.5, 22, 22.5].map((t) => ({ group: group('b', t, 0.9), video: video('b') }));
    const chosen = (await chooseUnverified(source, [...others, { group: group('a', 12.5, 0.1), video: video('a') }], [{ grey: shot, regions: [region] }], noClock))!;
    expect(chosen.candidate.video.id).toBe('b');
  });
});

describe('the answer when nothing verifies', () => {
  it('puts the candidate the pixels chose first, at its moment, with the unverified confidences', () => {
    const lead = group('a', 10, 0.5);
    const other = group('b', 4, 0.9);
    const localisation = { at: 14.5, from: 14, to: 15, margin: 0.2, bestTime: 14.5 };
    const [top, second] = rankedMatches({ groups: [lead, other], verified: [], localised: { group: lead, localisation }, videos: new Map([['a', video('a')], ['b', video('b')]]) });
    expect(top).toMatchObject({ at: 14.5, from: 14, to: 15, momentMargin: 0.2, inliers: 0, frameTime: null });
    expect(top!.similarity).toBeLessThan(0.1);
    expect(top!.timeConfidence).toBeLessThanOrEqual(top!.similarity);
    expect(second).toMatchObject({ at: 4, momentMargin: null });
  });
});
