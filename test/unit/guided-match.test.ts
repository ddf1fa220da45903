import { describe, expect, it } from 'vitest';
import { guidedMatch, guidedMatches } from '../../src/models/image-descriptors/guided-match.js';
import { OrbMatcher } from '../../src/models/image-descriptors/local-features.js';
import type { RawImage } from '../../src/models/types.js';
import { seededRandom } from '../../src/seeded-random.js';

/** A 320×180 grey picture of random blocks (corners everywhere), shifted right by `dx` pixels. */
function texture(dx: number): RawImage {
  const random = seededRandom(7);
  const blocks = Array.from({ length: 40 * 24 }, () => Math.floor(random() * 256));
  const data = new Uint8Array(320 * 180);
  for (let y = 0; y < 180; y++) {
    for (let x = 0; x < 320; x++) data[y * 320 + x] = blocks[Math.floor(y / 8) * 40 + Math.floor(Math.max(0, x - dx) / 8)]!;
  }
  return { data, width: 320, height: 180, channels: 1 };
}

const shift = (dx: number): number[] => [1, 0, dx, 0, 1, 0, 0, 0, 1];

describe('guided matching', () => {
  it('finds the homography of a neighbouring frame when guided near it, and nothing when the guide is far off', async () => {
    const matcher = new OrbMatcher();
    const [query, frame] = await Promise.all([matcher.extract(texture(0)), matcher.extract(texture(6))]);
    const full = await matcher.match(query, frame);
    // Guided by the identity: the true motion (6 px) is inside the 12-px search radius.
    const guided = await guidedMatch(matcher, query, frame, shift(0), 12);
    expect(guided.inliers).toBeGreaterThan(0.6 * full.inliers);
    expect(guided.homography![2]).toBeCloseTo(6, 0);
    // A guide 60 px off searches where the matching keypoints are not.
    expect(guidedMatches(query, frame, shift(-60), 12).from.length).toBeLessThan(0.2 * guided.matches);
  });
});
