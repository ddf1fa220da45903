// The detector's small presence look (issue 20): a frame without a pixel of text is read no further
// than a look at presenceMaxSide; a frame with text gets the same boxes as without that look.
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/models/image.js';
import { DbTextDetector } from '../../src/models/ocr/detector.js';
import { ort } from '../../src/models/runtime.js';
import type { RawImage } from '../../src/models/types.js';
import { sharedData } from '../helpers/shared-data.js';

/** The longest input side of every detector pass, in order (wrapping the sessions' run). */
const passes: number[] = [];
const proto = (ort.InferenceSession as unknown as { prototype: { run: (...args: unknown[]) => Promise<unknown> } }).prototype;
const run = proto.run;
proto.run = function (this: unknown, ...args: unknown[]) {
  const dims = Object.values(args[0] as Record<string, ort.Tensor>)[0]!.dims;
  passes.push(Math.max(dims[2]!, dims[3]!));
  return run.apply(this, args);
};
afterAll(() => {
  proto.run = run;
});

const W = 960;
const H = 540;
const keyframe = { detectMaxSide: 640, presenceMaxSide: 480 };

/** A grey 960×540 frame: a soft gradient, and `sign` pasted at (x, y) when given. */
async function frame(sign?: { image: RawImage; x: number; y: number }): Promise<RawImage> {
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = 70 + Math.round((x / W) * 60 + (y / H) * 30);
  if (sign) {
    const grey = await sharp(sign.image.data, { raw: { width: sign.image.width, height: sign.image.height, channels: sign.image.channels } }).greyscale().raw().toBuffer();
    for (let y = 0; y < sign.image.height; y++) data.set(grey.subarray(y * sign.image.width, (y + 1) * sign.image.width), (sign.y + y) * W + sign.x);
  }
  return { data, width: W, height: H, channels: 1 };
}

describe('detector presence look', () => {
  const detector = new DbTextDetector();

  it('stops at the small look when no pixel looks like text', async () => {
    passes.length = 0;
    expect(await detector.detectBoxes(await frame(), keyframe)).toEqual([]);
    expect(passes).toEqual([480]);
  });

  const shopSign = sharedData('ocr/rapidocr/text_rec.jpg');
  it.skipIf(!shopSign)('finds the same boxes as the full look alone when there is text', async () => {
    const image = await frame({ image: await decodeImage(shopSign!), x: 200, y: 120 });
    passes.length = 0;
    const gated = await detector.detectBoxes(image, keyframe);
    expect(passes).toEqual([480, 640]);
    const full = await detector.detectBoxes(image, { detectMaxSide: 640 });
    expect(gated.length).toBeGreaterThan(0);
    expect(gated).toEqual(full);
  });
});
