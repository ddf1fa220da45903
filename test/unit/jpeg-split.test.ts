import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { JpegSplitter } from '../../src/media/jpeg-split.js';

async function picture(width: number, height: number, seed: number): Promise<Buffer> {
  // Noise makes the entropy-coded data hold many 0xFF bytes (stuffed as 0xFF 0x00).
  const pixels = Buffer.alloc(width * height * 3);
  let x = seed;
  for (let i = 0; i < pixels.length; i++) pixels[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
}

describe('JpegSplitter', () => {
  it('cuts concatenated JPEGs into the same pictures however the stream is chunked', async () => {
    const pictures = await Promise.all([picture(64, 48, 1), picture(17, 9, 2), picture(128, 72, 3)]);
    const stream = Buffer.concat(pictures);
    for (const chunkBytes of [1, 7, 1000, stream.length]) {
      const splitter = new JpegSplitter();
      const out: Buffer[] = [];
      for (let offset = 0; offset < stream.length; offset += chunkBytes) out.push(...splitter.push(stream.subarray(offset, offset + chunkBytes)));
      expect(out.map((p) => p.length)).toEqual(pictures.map((p) => p.length));
      expect(out.every((p, i) => p.equals(pictures[i]!))).toBe(true);
      expect(splitter.pendingBytes).toBe(0);
    }
  });

  it('refuses a stream that is not JPEG', () => {
    expect(() => new JpegSplitter().push(Buffer.from('not a jpeg'))).toThrow(/not a JPEG/);
  });
});
