import { describe, expect, it } from 'vitest';
import type { ShotRecord, VideoRecord } from '../../../src/domain.js';
import type { Logger } from '../../../src/logger.js';
import type { LocalFeatures, OrbMatcher } from '../../../src/models/image-descriptors/local-features.js';
import type { RawImage } from '../../../src/models/types.js';
import { LOCALISE_WIDTH, VERIFY_WIDTH, type GreyThumbnail } from '../../../src/services/image-search/frame-source.js';
import { createLocator, mergedByTime, outsideOf, refinementPeaks, refinementWindows } from '../../../src/services/image-search/locate.js';
import { phaseClock } from '../../../src/services/image-search/phases.js';
import type { PhaseTimings } from '../../../src/services/image-search/types.js';
import type { CascadeSession, Verification } from '../../../src/services/image-search/verification.js';

const scored = (scores: number[]) => scores.map((score, i) => ({ time: i * 0.5, score }));

describe('refinement between the index’s samples', () => {
  it('takes the three best local maxima of the stored scores, not neighbours of one peak', () => {
    expect(refinementPeaks(scored([0.5, 0.9, 0.89, 0.7, 0.8, 0.6, 0.85, 0.4, 0.3, 0.75, 0.2]))).toEqual([0.5, 3, 2]);
    expect(refinementPeaks(scored([0.9]))).toEqual([0]);
  });

  it('decodes half a second either side of each peak, inside the media, joining windows that nearly touch', () => {
    expect(refinementWindows([0.5, 3, 2], { start: 0.2, end: 10 })).toEqual([{ start: 0.2, end: 3.5 }]);
    expect(refinementWindows([1, 5], { start: 0, end: 5.2 })).toEqual([
      { start: 0.5, end: 1.5 },
      { start: 4.5, end: 5.2 },
    ]);
  });
});

describe('refinement frames decoded ahead', () => {
  it('leaves the parts of a window outside the span decoded ahead, sharing its ends', () => {
    expect(outsideOf({ start: 0.5, end: 3.5 }, { start: 1, end: 2 })).toEqual([
      { start: 0.5, end: 1 },
      { start: 2, end: 3.5 },
    ]);
    expect(outsideOf({ start: 1, end: 2 }, { start: 1, end: 2 })).toEqual([]);
    expect(outsideOf({ start: 4, end: 5 }, { start: 1, end: 2 })).toEqual([{ start: 4, end: 5 }]);
  });

  it('merges two runs’ frames in time order, a frame both read once', () => {
    const frame = (time: number) => ({ time, grey: new Uint8Array(1), width: 1, height: 1, repeat: false, features: null });
    expect(mergedByTime([frame(1), frame(1.04), frame(2)], [frame(0.96), frame(2), frame(2.04)]).map((f) => f.time)).toEqual([0.96, 1, 1.04, 2, 2.04]);
  });
});

describe('locator: the moment between the index’s samples', () => {
  const W = 80;
  const H = 60;
  /** A still scene whose bright block (a mouth) moves one pixel per 0.04 s frame. */
  const grey = (t: number, width: number, height: number, scale: number) => {
    const out = new Float32Array(width * height);
    const mouth = Math.round(t / 0.04);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const u = x / scale;
        const v = y / scale;
        let value = 110 + 50 * Math.sin(u / 3.1) * Math.cos(v / 4.3) + 30 * Math.sin((u + 2 * v) / 5.7);
        if (v >= 20 && v < 30 && u >= 10 + (mouth % 50) && u < 18 + (mouth % 50)) value = 235;
        out[y * width + x] = value;
      }
    }
    return out;
  };
  const thumb = (time: number, features: boolean): GreyThumbnail => ({ time, grey: grey(time, W, H, 1), width: W, height: H, repeat: false, features: features ? () => ({}) as LocalFeatures : null });
  // Thumbnails are LOCALISE_WIDTH-scaled from VERIFY_WIDTH frames: the screenshot (2W wide) maps onto frame pixels ×(VERIFY_WIDTH/LOCALISE_WIDTH)/2.
  const toFrame = VERIFY_WIDTH / LOCALISE_WIDTH / 2;
  const homography = [toFrame, 0, 0, 0, toFrame, 0, 0, 0, 1];
  const truth = 1.24;
  const query: RawImage = { data: Uint8Array.from(grey(truth, 2 * W, 2 * H, 2), (v) => Math.round(v)), width: 2 * W, height: 2 * H, channels: 1 };
  const session = { clock: phaseClock(undefined), orientedQuery: async () => ({ grey: query, features: {} as LocalFeatures }) } as unknown as CascadeSession;
  const check = { video: { id: 'v1' } as VideoRecord, frameTime: 1, homography, mirror: false, inliers: 60 } as Verification;
  const stored = [0, 0.5, 1, 1.5, 2, 2.5].map((t) => thumb(t, true));
  const log = { warn: () => {}, debug: () => {} } as unknown as Logger;
  const matcher = { match: async () => ({ inliers: 60, homography }) } as unknown as Pick<OrbMatcher, 'match'>;
  const catalog = { getShots: async () => [] };

  it('decodes the media around the best stored frames and answers the frame the screenshot shows', async () => {
    const decoded: [number, number][] = [];
    const frames = {
      thumbnails: async () => stored,
      decodedThumbnails: async (_v: VideoRecord, windows: readonly { start: number; end: number }[]) => {
        const out: GreyThumbnail[] = [];
        for (const { start, end } of windows) {
          decoded.push([start, end]);
          for (let t = Math.ceil(start / 0.04) * 0.04; t <= end + 1e-9; t += 0.04) out.push(thumb(Math.round(t * 100) / 100, false));
        }
        return out;
      },
    };
    const found = await createLocator({ catalog, frames, matcher, log }).locate(check, session);
    expect(decoded.length).toBeGreaterThan(0);
    expect(found!.at).toBeCloseTo(truth, 5);
    // The evidence picture stays a stored frame.
    expect(stored.map((f) => f.time)).toContain(found!.bestTime);
  });

  it('starts decoding the verified frame’s window before aligning the stored frames, and reads none of it twice', async () => {
    const events: string[] = [];
    const decoded: [number, number][] = [];
    const frames = {
      thumbnails: async () => stored,
      decodedThumbnails: async (_v: VideoRecord, windows: readonly { start: number; end: number }[]) => {
        events.push('decode');
        const out: GreyThumbnail[] = [];
        for (const { start, end } of windows) {
          decoded.push([start, end]);
          for (let t = Math.ceil(start / 0.04 - 1e-9) * 0.04; t <= end + 1e-9; t += 0.04) out.push(thumb(Math.round(t * 100) / 100, false));
        }
        return out;
      },
    };
    const recording = { match: async () => (events.push('match'), { inliers: 60, homography }) } as unknown as Pick<OrbMatcher, 'match'>;
    const phases: PhaseTimings = {};
    const found = await createLocator({ catalog, frames, matcher: recording, log }).locate(check, { ...session, clock: phaseClock(phases) });
    expect(events[0]).toBe('decode');
    // What localisation still waited for is timed apart from the decode that ran beside it.
    expect(phases.refineWait!.calls).toBe(1);
    expect(events).toContain('match');
    expect(decoded[0]).toEqual([0.5, 1.5]);
    // The other windows' decodes only touch the first at its ends.
    for (const [start, end] of decoded.slice(1)) expect(end <= 0.5 + 1e-9 || start >= 1.5 - 1e-9).toBe(true);
    expect(found!.at).toBeCloseTo(truth, 5);
  });

  it('reads no media when the refinement is switched off (VIDSEARCH_IMAGE_REFINE_MOMENT=off) and answers a stored frame', async () => {
    let decodes = 0;
    const frames = {
      thumbnails: async () => stored,
      decodedThumbnails: async () => {
        decodes += 1;
        return [];
      },
    };
    const found = await createLocator({ catalog, frames, matcher, log, refineMoment: false }).locate(check, session);
    expect(decodes).toBe(0);
    expect(stored.map((f) => f.time)).toContain(found!.at);
  });

  it('decodes past the shot’s detected cut: a stored frame’s picture can lie after it', async () => {
    const decoded: [number, number][] = [];
    const frames = {
      thumbnails: async () => stored,
      decodedThumbnails: async (_v: VideoRecord, windows: readonly { start: number; end: number }[]) => {
        decoded.push(...windows.map((w): [number, number] => [w.start, w.end]));
        return [];
      },
    };
    const shotEndingAtLastSample = { getShots: async () => [{ start: 0, end: 2.5 } as ShotRecord] };
    const video = { id: 'v1', durationSec: 10 } as VideoRecord;
    await createLocator({ catalog: shotEndingAtLastSample, frames, matcher, log }).locate({ ...check, video, frameTime: 2.5 }, session);
    expect(Math.max(...decoded.map(([, end]) => end))).toBeGreaterThan(2.5);
  });

  it('keeps the stored frames when the media cannot be read', async () => {
    const frames = {
      thumbnails: async () => stored,
      decodedThumbnails: async () => {
        throw new Error('gone');
      },
    };
    const found = await createLocator({ catalog, frames, matcher, log }).locate(check, session);
    expect(stored.map((f) => f.time)).toContain(found!.at);
  });
});
