// The screenshot's ORB features are extracted at the scale of the frames the index stored
// (query.ts): a 640-px screenshot of a 320-px stored frame matched before only through the
// coarsest levels of its ORB pyramid. Real footage from ../shared/data (the motion set's fit-half
// clip, Tears of Steel), frames decoded here; skipped when absent.
import { describe, expect, it } from 'vitest';
import { FRAME_DECODE_WIDTH } from '../../../src/indexers/frames.js';
import { extractFrame } from '../../../src/media/frames.js';
import { OrbMatcher } from '../../../src/models/image-descriptors/local-features.js';
import type { RawImage } from '../../../src/models/types.js';
import { orbFeaturesAtStoredScale } from '../../../src/services/image-search/query.js';
import { testTools } from '../../helpers/media.js';
import { sharedData } from '../../helpers/shared-data.js';

const clip = sharedData('video_blender/clip_01_tears_of_steel.mp4');
/** Fit-half moments of the clip: low-texture, moving shots. */
const TIMES = [2.167, 5.25, 8.417];

async function frameAt(time: number, width: number): Promise<RawImage> {
  const frame = await extractFrame(testTools, clip!, time, { width, format: 'rgb24' });
  return { data: new Uint8Array(frame.data), width: frame.width, height: frame.height, channels: 3 };
}

describe.skipIf(clip === null)('ORB features of a screenshot at the stored frames’ scale', () => {
  const matcher = new OrbMatcher();

  it.each(TIMES)('%f s: a 640-px screenshot matches its stored frame with more inliers, keypoints in its own pixels', async (time) => {
    const screenshot = await frameAt(time, 2 * FRAME_DECODE_WIDTH);
    const stored = await matcher.extract(await frameAt(time, FRAME_DECODE_WIDTH));
    const atFullSize = await matcher.match(await matcher.extract(screenshot), stored);
    const scaled = await orbFeaturesAtStoredScale(screenshot, screenshot.width, matcher);
    const atStoredScale = await matcher.match(scaled, stored);
    expect(atStoredScale.inliers).toBeGreaterThan(atFullSize.inliers);
    // Screenshot pixels → frame pixels: half the size, no shift (the same picture).
    const [a, , c, , e, f] = atStoredScale.homography!;
    expect(a).toBeCloseTo(0.5, 1);
    expect(e).toBeCloseTo(0.5, 1);
    expect(Math.abs(c!)).toBeLessThan(2);
    expect(Math.abs(f!)).toBeLessThan(2);
    for (let i = 0; i < scaled.count; i++) {
      expect(scaled.points[2 * i]).toBeLessThanOrEqual(screenshot.width);
      expect(scaled.points[2 * i + 1]).toBeLessThanOrEqual(screenshot.height);
    }
  }, 60_000);

  it('a screenshot no wider than the stored frames is extracted as it is', async () => {
    const screenshot = await frameAt(TIMES[0]!, FRAME_DECODE_WIDTH);
    const direct = await matcher.extract(screenshot);
    const scaled = await orbFeaturesAtStoredScale(screenshot, screenshot.width, matcher);
    expect(scaled.count).toBe(direct.count);
    expect(Array.from(scaled.points)).toEqual(Array.from(direct.points));
  }, 60_000);
});
