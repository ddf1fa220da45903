// greyThumbnails resizes many frames in one sharp call; localisation compares its thumbnails with
// the ones the index stored (greyThumbnail, frame by frame) in the fourth decimal of an NCC, so
// they must be the same bytes, edge rows included.
import { describe, expect, it } from 'vitest';
import { greyThumbnail, greyThumbnails } from '../../src/models/image-descriptors/grey-thumbnail.js';
import type { RawImage } from '../../src/models/types.js';
import { seededRandom } from '../../src/seeded-random.js';

/** Noise with hard bright/dark bands on the first and last rows: what a neighbour's rows would bleed into. */
function frame(width: number, height: number, seed: number): RawImage {
  const random = seededRandom(seed);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < width * 3; i++) {
      const edge = y < 3 ? 255 : y >= height - 3 ? 0 : null;
      data[y * width * 3 + i] = edge ?? Math.floor(random() * 256);
    }
  }
  return { data, width, height, channels: 3 };
}

async function oneByOne(images: RawImage[]) {
  return Promise.all(images.map(greyThumbnail));
}

describe('greyThumbnails', () => {
  it('gives every frame the bytes its own resize gives, edge rows included (320 × 180, the sampled size)', async () => {
    const images = [1, 2, 3, 4, 5].map((seed) => frame(320, 180, seed));
    const batch = await greyThumbnails(images);
    const single = await oneByOne(images);
    expect(batch.map((t) => [t.width, t.height])).toEqual(single.map((t) => [t.width, t.height]));
    for (const [k, t] of batch.entries()) expect(Buffer.from(t.grey).equals(Buffer.from(single[k]!.grey))).toBe(true);
  });

  it('holds for a larger whole factor and an odd thumbnail height (640 × 268 → 160 × 67)', async () => {
    const images = [6, 7, 8].map((seed) => frame(640, 268, seed));
    const batch = await greyThumbnails(images);
    const single = await oneByOne(images);
    expect(batch[0]!.height).toBe(67);
    for (const [k, t] of batch.entries()) expect(Buffer.from(t.grey).equals(Buffer.from(single[k]!.grey))).toBe(true);
  });

  it('resizes frames one by one where no whole factor holds, or sizes differ', async () => {
    for (const images of [[frame(300, 170, 9), frame(300, 170, 10)], [frame(320, 180, 11), frame(320, 240, 12)]]) {
      const batch = await greyThumbnails(images);
      const single = await oneByOne(images);
      for (const [k, t] of batch.entries()) {
        expect([t.width, t.height]).toEqual([single[k]!.width, single[k]!.height]);
        expect(Buffer.from(t.grey).equals(Buffer.from(single[k]!.grey))).toBe(true);
      }
    }
    expect(await greyThumbnails([])).toEqual([]);
  });
});
