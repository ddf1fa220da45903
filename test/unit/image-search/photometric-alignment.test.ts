import { describe, expect, it } from 'vitest';
import type { RawImage } from '../../../src/models/types.js';
import type { GreyThumbnail } from '../../../src/services/image-search/frame-source.js';
import { axisAlignedOf, contenderFits, refineAlignment, refinedAlignment, toHomography } from '../../../src/services/image-search/photometric-alignment.js';
import { alignQuery, localise, photometricScore, scoreFrames } from '../../../src/services/image-search/localisation.js';

const W = 80;
const H = 60;

/** A smooth textured scene (a frame of a still shot); `mouth` moves a bright block, as a talking head does. */
function scene(width: number, height: number, scale: number, mouth = 0): Float32Array {
  const grey = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / scale;
      const v = y / scale;
      let value = 110 + 50 * Math.sin(u / 3.1) * Math.cos(v / 4.3) + 30 * Math.sin((u + 2 * v) / 5.7);
      if (v >= 38 && v < 44 && u >= 34 + mouth && u < 44 + mouth) value = 235;
      grey[y * width + x] = value;
    }
  }
  return grey;
}

const frame = (time: number, mouth: number): GreyThumbnail => ({ time, grey: scene(W, H, 1, mouth), width: W, height: H, repeat: false, features: null });
/** The screenshot at twice the thumbnail's resolution (scene units are thumbnail pixels). */
const screenshot = (mouth: number): RawImage => ({ data: Uint8Array.from(scene(2 * W, 2 * H, 2, mouth), (v) => Math.round(v)), width: 2 * W, height: 2 * H, channels: 1 });

describe('photometric alignment', () => {
  it('reduces a homography to its scale and shift around the screenshot’s centre', () => {
    const map = axisAlignedOf([0.5, 0.01, 3, -0.01, 0.5, 7, 0, 0, 1], { width: 200, height: 100 });
    expect(map.sx).toBeCloseTo(0.5, 2);
    expect(map.sy).toBeCloseTo(0.5, 2);
    expect(map.sx * 100 + map.tx).toBeCloseTo(0.5 * 100 + 0.01 * 50 + 3, 1);
    expect(map.sy * 50 + map.ty).toBeCloseTo(-0.01 * 100 + 0.5 * 50 + 7, 1);
  });

  it('refines a map that is two pixels and 3 % off back onto the frames, raising their score', () => {
    const query = screenshot(0);
    const frames = [frame(0, 0), frame(0.5, 1)];
    // The true map: screenshot pixel → frame pixel is ×0.5 (thumbnail scale 1 here).
    const off = { sx: 0.5 * 1.03, sy: 0.5 * 1.03, tx: 2, ty: -2 };
    const before = photometricScore(alignQuery(query, toHomography(off), 1, W, H)!, frames[0]!)!;
    const refined = refineAlignment(query, off, frames, 1)!;
    expect(refined.map.sx).toBeCloseTo(0.5, 1);
    expect(Math.abs(refined.map.tx)).toBeLessThan(1);
    expect(Math.abs(refined.map.ty)).toBeLessThan(1);
    expect(photometricScore(refined.aligned, frames[0]!)!).toBeGreaterThan(before + 0.05);
  });

  it('gives contenders their own geometry: the frame the screenshot shows wins though the shared fit favoured another', () => {
    const frames = [0, 1, 2, 3, 4, 5].map((i) => frame(i * 0.5, i * 2));
    // A map two pixels off: it favours the frame at 1.5 s, whose mouth sits where the shift puts the screenshot's.
    const off = { sx: 0.5, sy: 0.5, tx: 2, ty: 0.5 };
    const shared = { map: off, aligned: alignQuery(screenshot(4), toHomography(off), 1, W, H)! };
    const before = scoreFrames(frames, () => shared.aligned);
    expect(localise(before, 0.3)!.at).toBeCloseTo(1.5, 5);
    const own = contenderFits(screenshot(4), frames, [shared], 1);
    expect(own.length).toBeGreaterThan(0);
    const after = scoreFrames(frames, () => [shared.aligned, ...own.map((f) => f.aligned)]);
    expect(localise(after, 0.3)!.at).toBeCloseTo(1, 5);
  });

  it('aligns once, refined on the best frames: the frame the screenshot shows wins from a misaligned start', () => {
    const frames = [0, 1, 2, 3, 4, 5].map((i) => frame(i * 0.2, i * 2));
    const { aligned } = refinedAlignment(screenshot(6), frames, { sx: 0.5, sy: 0.5, tx: 1.5, ty: 1 }, 1)!;
    const scored = scoreFrames(frames, () => aligned);
    expect(scored).toHaveLength(6);
    expect(localise(scored, 0.1)!.at).toBeCloseTo(0.6, 5);
  });

  it('gives nothing when the start cannot be compared', () => {
    expect(refineAlignment(screenshot(0), { sx: 0.5, sy: 0.5, tx: 1000, ty: 0 }, [frame(0, 0)], 1)).toBeNull();
    expect(refinedAlignment(screenshot(0), [], { sx: 0.5, sy: 0.5, tx: 0, ty: 0 }, 1)).toBeNull();
  });
});
