// The OCR models on real images from ../shared/data/ocr and on odd input: nothing to read,
// upside-down and sideways text, a huge frame, a tiny image.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/models/image.js';
import { DEFAULT_DB_OPTIONS, detectionInputSize } from '../../src/models/ocr/detector.js';
import { OcrEngine, sortReadingOrder } from '../../src/models/ocr/engine.js';
import { connectedRegions, cropQuad, minAreaRect, readingQuad, rotate180, unclip } from '../../src/models/ocr/geometry.js';
import { ctcGreedyDecode } from '../../src/models/ocr/recognizer.js';
import type { Quad } from '../../src/models/ocr/types.js';
import type { RawImage } from '../../src/models/types.js';
import { sharedData } from '../helpers/shared-data.js';

const joined = (lines: { text: string }[]): string => lines.map((l) => l.text).join('');

function solid(width: number, height: number, value: number): RawImage {
  return { data: new Uint8Array(width * height * 3).fill(value), width, height, channels: 3 };
}

describe('DB geometry', () => {
  it('finds the minimum-area rectangle of a rotated bar and unclips it on every side', () => {
    const angle = Math.PI / 6;
    const [ux, uy] = [Math.cos(angle), Math.sin(angle)];
    const points: [number, number][] = [];
    for (const [u, v] of [[0, 0], [100, 0], [100, 20], [0, 20], [50, 10]] as const) points.push([200 + u * ux - v * uy, 100 + u * uy + v * ux]);
    const rect = minAreaRect(points);
    expect(rect.length * rect.breadth).toBeCloseTo(2000, 3);
    expect(Math.max(rect.length, rect.breadth)).toBeCloseTo(100, 3);
    const grown = unclip(rect, 1.5);
    const distance = (2000 * 1.5) / 240;
    expect(grown.length - rect.length).toBeCloseTo(2 * distance, 6);
    expect(grown.breadth - rect.breadth).toBeCloseTo(2 * distance, 6);
  });

  it('orders a wide box left to right and a tall box top to bottom, never mirrored', () => {
    const wide = readingQuad({ centre: [50, 10], axis: [0, 1], length: 20, breadth: 100 });
    expect(wide[0]).toEqual([0, 0]);
    expect(wide[1]).toEqual([100, 0]);
    expect(wide[3]).toEqual([0, 20]);
    const tall = readingQuad({ centre: [10, 50], axis: [1, 0], length: 20, breadth: 100 });
    // Reading runs down the column; the crop's "down" is the image's −x (a +90° turn).
    expect(tall[0]).toEqual([20, 0]);
    expect(tall[1]).toEqual([20, 100]);
    expect(tall[3]).toEqual([0, 0]);
  });

  it('labels separate blobs and reports their mean probability', () => {
    const width = 10;
    const map = new Float32Array(width * 4);
    map.fill(0.9, 1, 4); // row 0, x 1..3
    map[width + 8] = 0.5; // a lone pixel far away
    const regions = connectedRegions(map, width, 4, 0.3);
    expect(regions).toHaveLength(2);
    expect(regions[0]!.pixels).toBe(3);
    expect(regions[0]!.meanProbability).toBeCloseTo(0.9, 6);
    expect(minAreaRect(regions[0]!.outline).length * minAreaRect(regions[0]!.outline).breadth).toBeCloseTo(3, 6);
  });

  it('crops a quad upright and turns an image by 180°', () => {
    const image: RawImage = { data: Uint8Array.from([1, 2, 3, 4, 5, 6]), width: 3, height: 2, channels: 1 };
    const quad: Quad = [[0, 0], [3, 0], [3, 2], [0, 2]];
    expect(Array.from(cropQuad(image, quad).data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(rotate180(image).data)).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it('keeps a huge frame inside the pixel budget and scales a tiny one up', () => {
    const huge = detectionInputSize(12000, 8000, DEFAULT_DB_OPTIONS);
    expect(huge.width * huge.height).toBeLessThanOrEqual(DEFAULT_DB_OPTIONS.maxPixels * 1.1);
    expect(huge.width % 32).toBe(0);
    const tiny = detectionInputSize(20, 10, DEFAULT_DB_OPTIONS);
    expect(Math.min(tiny.width, tiny.height)).toBeGreaterThanOrEqual(DEFAULT_DB_OPTIONS.minSide);
  });
});

describe('CTC decoding and reading order', () => {
  it('merges repeats, drops blanks and averages the kept probabilities', () => {
    const labels = ['', 'a', 'b'];
    // steps: a a blank a b
    const steps = [[0.1, 0.8, 0.1], [0.1, 0.6, 0.3], [0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]];
    const decoded = ctcGreedyDecode(Float32Array.from(steps.flat()), steps.length, 3, labels);
    expect(decoded.text).toBe('aab');
    expect(decoded.score).toBeCloseTo((0.8 + 0.7 + 0.8) / 3, 6);
  });

  it('reads rows top to bottom and left to right within a row', () => {
    const box = (x: number, y: number, text: string): { quad: Quad; text: string } => ({
      text,
      quad: [[x, y], [x + 40, y], [x + 40, y + 20], [x, y + 20]],
    });
    const sorted = sortReadingOrder([box(100, 52, 'd'), box(0, 3, 'a'), box(60, 0, 'b'), box(0, 50, 'c')]);
    expect(sorted.map((b) => b.text).join('')).toBe('abcd');
  });
});

describe('OcrEngine', () => {
  const engine = new OcrEngine();

  it('returns no lines for an image without text and for a tiny image', async () => {
    expect(await engine.read(solid(640, 360, 30))).toEqual([]);
    expect(await engine.read(solid(3, 3, 200))).toEqual([]);
  });

  const shopSign = sharedData('ocr/rapidocr/text_rec.jpg');
  it.skipIf(!shopSign)('reads a shop sign, and the same sign turned sideways and upside down', async () => {
    const upright = await decodeImage(shopSign!);
    expect(joined(await engine.read(upright))).toBe('韩国小馆');
    for (const angle of [90, 180]) {
      const { data, info } = await sharp(upright.data, { raw: { width: upright.width, height: upright.height, channels: 3 } })
        .rotate(angle)
        .extend({ top: 20, bottom: 20, left: 20, right: 20, background: '#ffffff' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      const turned: RawImage = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
      expect(joined(await engine.read(turned)), `rotated ${angle}°`).toBe('韩国小馆');
    }
  });

  const flipped = sharedData('ocr/rapidocr/text_cls.jpg');
  it.skipIf(!flipped)('reads an upside-down line through the angle classifier', async () => {
    const lines = await engine.read(await decodeImage(flipped!));
    expect(joined(lines)).toBe('怪我咯');
    expect(lines[0]!.flipped).toBe(true);
  });

  const street = sharedData('ocr/easyocr/chinese.jpg');
  it.skipIf(!street)('reads a huge upscaled frame within the pixel budget', async () => {
    const small = await decodeImage(street!);
    const { data, info } = await sharp(small.data, { raw: { width: small.width, height: small.height, channels: 3 } })
      .resize(small.width * 8)
      .raw()
      .toBuffer({ resolveWithObject: true });
    const huge: RawImage = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
    const started = performance.now();
    const text = joined(await engine.read(huge));
    expect(text).toContain('愚园路');
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});
