import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { OrbMatcher } from '../../../src/models/image-descriptors/local-features.js';
import type { RawImage } from '../../../src/models/types.js';
import { mirrored } from '../../../src/services/image-search/query.js';
import { plausibleScreenshotMap } from '../../../src/services/image-search/screenshot-geometry.js';

const QUERY = { width: 640, height: 360 };

/** Blocks of pseudo-random colour (ORB finds their corners), not symmetric. */
function blocks(width: number, height: number, seed: number, block = 8): RawImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed;
  const cells = new Uint8Array(Math.ceil(width / block) * Math.ceil(height / block) * 3).map(() => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return (s >> 16) & 0xff;
  });
  const across = Math.ceil(width / block);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const n = (Math.floor(y / block) * across + Math.floor(x / block)) * 3;
      data.set(cells.subarray(n, n + 3), (y * width + x) * 3);
    }
  }
  return { data, width, height, channels: 3 };
}

describe('screenshot geometry', () => {
  it('accepts the maps screenshots have: same size, half size, a 70 % crop, a picture in a player page, a squeeze', () => {
    expect(plausibleScreenshotMap([0.5, 0, 0, 0, 0.5, 0, 0, 0, 1], QUERY)).toBe(true);
    expect(plausibleScreenshotMap([1, 0, 0, 0, 1, 0, 0, 0, 1], { width: 320, height: 180 })).toBe(true);
    expect(plausibleScreenshotMap([0.7, 0, 40, 0, 0.7, 30, 0, 0, 1], { width: 448, height: 252 })).toBe(true);
    expect(plausibleScreenshotMap([0.8, 0, -48, 0, 0.8, -72, 0, 0, 1], QUERY)).toBe(true);
    // A true map from the fit half (constructed pan, picture in a player page), RHO's small shear and perspective included.
    expect(plausibleScreenshotMap([0.875, -0.071, -18.016, 0.03, 0.825, -43.909, 0, 0, 1], QUERY)).toBe(true);
    expect(plausibleScreenshotMap([0.5, 0, 0, 0, 0.33, 0, 0, 0, 1], QUERY)).toBe(true);
  });

  it('rejects folded, collapsed and turned maps, and none at all', () => {
    // Mirrored: a flipped screenshot is matched flipped, so its map to the frame never mirrors.
    expect(plausibleScreenshotMap([-0.5, 0, 320, 0, 0.5, 0, 0, 0, 1], QUERY)).toBe(false);
    // From the fit half: 37 inliers on a map that collapses the screenshot onto a line (a low-texture pan).
    expect(plausibleScreenshotMap([-0.119, -1.706, 131.04, -0.12, -1.725, 132.48, -0.001, -0.013, 1], QUERY)).toBe(false);
    // From the fit half: 12 inliers on a folded map (Tears of Steel's 70 % crop matched to Sintel).
    expect(plausibleScreenshotMap([-1.298, 0.23, 288, -0.554, 0.098, 123, -0.005, 0.001, 1], { width: 448, height: 252 })).toBe(false);
    const turn = (Math.PI / 180) * 45;
    expect(plausibleScreenshotMap([Math.cos(turn), -Math.sin(turn), 0, Math.sin(turn), Math.cos(turn), 0, 0, 0, 1], QUERY)).toBe(false);
    // A corner past the horizon: the map folds the screenshot's right side over.
    expect(plausibleScreenshotMap([1, 0, 0, 0, 1, 0, -0.002, 0, 1], QUERY)).toBe(false);
    expect(plausibleScreenshotMap([1, 0, 0, 0, 0.2, 0, 0, 0, 1], QUERY)).toBe(false);
    expect(plausibleScreenshotMap(null, QUERY)).toBe(false);
  });

  it('a mirrored screenshot verifies against its upright frame once flipped back, and only then', async () => {
    const matcher = new OrbMatcher();
    const frame = blocks(320, 180, 5);
    const upload = await mirrored(frame);
    const frameFeatures = await matcher.extract(frame);
    const flippedBack = await matcher.match(await matcher.extract(await mirrored(upload)), frameFeatures);
    expect(flippedBack.inliers).toBeGreaterThan(40);
    expect(plausibleScreenshotMap(flippedBack.homography, upload)).toBe(true);
    const asUploaded = await matcher.match(await matcher.extract(upload), frameFeatures);
    expect(asUploaded.inliers < 10 || !plausibleScreenshotMap(asUploaded.homography, upload)).toBe(true);
  });

  it('keeps a half-size JPEG of a frame plausible under the real matcher', async () => {
    const matcher = new OrbMatcher();
    const frame = blocks(320, 180, 9);
    const small = await sharp(frame.data, { raw: { width: 320, height: 180, channels: 3 } }).resize(160).jpeg({ quality: 40 }).raw().toBuffer({ resolveWithObject: true });
    const query: RawImage = { data: new Uint8Array(small.data), width: small.info.width, height: small.info.height, channels: 3 };
    const match = await matcher.match(await matcher.extract(query), await matcher.extract(frame));
    expect(match.inliers).toBeGreaterThan(10);
    expect(plausibleScreenshotMap(match.homography, query)).toBe(true);
  });
});
