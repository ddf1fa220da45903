// The crop fusion and augmentation variants bench/face-fusion.ts measured (issue 16): that each does
// what the README says it did, so "no gain" there is the embedder's answer, not a broken variant.
import { describe, expect, it } from 'vitest';
import { centralNcc, meanCrop, medianCrop, registeredMeanCrop, registrationShift, smoothedLandmarks, transformedCrop } from '../../bench/face-fusion-variants.js';
import type { RawImage } from '../../src/models/types.js';

const SIDE = 40;

function image(pixel: (x: number, y: number) => number, channels: 1 | 3 = 1): RawImage {
  const data = new Uint8Array(SIDE * SIDE * channels);
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) data.fill(Math.round(pixel(x, y)), (y * SIDE + x) * channels, (y * SIDE + x + 1) * channels);
  return { data, width: SIDE, height: SIDE, channels };
}

/** A smooth blob at (cx, cy): something registration can lock onto at sub-pixel precision. */
const blob = (cx: number, cy: number): RawImage => image((x, y) => 40 + 200 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 30));
const asFloat = (img: RawImage): Float32Array => Float32Array.from(img.data);
const at = (img: RawImage, x: number, y: number): number => img.data[(y * SIDE + x) * img.channels]!;

describe('pixel fusion of aligned crops', () => {
  it('takes the weighted mean per pixel', () => {
    const mean = meanCrop([image(() => 10), image(() => 40)], [3, 1]);
    expect(at(mean, 5, 5)).toBe(18);
    expect(() => meanCrop([])).toThrow(/at least one/);
  });

  it('takes the median per pixel, so one corrupted frame does not move it', () => {
    const median = medianCrop([image(() => 10), image(() => 250), image(() => 12)]);
    expect(at(median, 0, 0)).toBe(12);
  });

  it('averages noise away: the mean of noisy copies is closer to the clean crop than any copy', () => {
    let seed = 7;
    const noise = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 60;
    const clean = blob(20, 20);
    const noisy = Array.from({ length: 8 }, () => image((x, y) => Math.min(255, Math.max(0, at(clean, x, y) + noise()))));
    const error = (img: RawImage): number => img.data.reduce((sum, v, i) => sum + Math.abs(v - clean.data[i]!), 0);
    expect(error(meanCrop(noisy))).toBeLessThan(Math.min(...noisy.map(error)) / 2);
  });
});

describe('registration and augmentation', () => {
  it('moves and scales a crop about its centre', () => {
    const moved = transformedCrop(blob(20, 20), 1, 3, -2);
    expect(at(moved, 23, 18)).toBe(at(blob(20, 20), 20, 20));
    // Twice as large: 4 px out from the centre it shows what lay ~2 px out.
    expect(at(transformedCrop(blob(20, 20), 2, 0, 0), 24, 20)).toBeGreaterThan(at(blob(20, 20), 24, 20) + 40);
  });

  it('finds a sub-pixel shift by normalised cross-correlation', () => {
    const reference = asFloat(blob(20, 20));
    expect(centralNcc(reference, reference, SIDE, SIDE)).toBeCloseTo(1, 6);
    expect(registrationShift(blob(21.5, 19), reference, 2, 0.5)).toEqual({ dx: -1.5, dy: 1 });
  });

  it('registers crops before averaging, so a misaligned pair fuses sharper than its plain mean', () => {
    const pair = [blob(16.5, 20), blob(23.5, 20)];
    const peak = (img: RawImage): number => Math.max(...img.data);
    expect(peak(registeredMeanCrop(pair, [1, 1], 4, 0.5))).toBeGreaterThan(peak(meanCrop(pair)) + 40);
  });
});

describe('landmarks smoothed over a track', () => {
  it('puts the quality-weighted mean relative landmarks back on each face box', () => {
    const faces = [
      { box: { x: 0, y: 0, width: 10, height: 10 }, landmarks: [[2, 4] as [number, number]], quality: 1 },
      { box: { x: 100, y: 50, width: 20, height: 20 }, landmarks: [[108, 58] as [number, number]], quality: 3 },
    ];
    // Relative x: (0.2·1 + 0.4·3) / 4 = 0.35; relative y: (0.4·1 + 0.4·3) / 4 = 0.4.
    const [first, second] = smoothedLandmarks(faces);
    expect(first![0]![0]).toBeCloseTo(3.5, 9);
    expect(first![0]![1]).toBeCloseTo(4, 9);
    expect(second![0]![0]).toBeCloseTo(107, 9);
    expect(second![0]![1]).toBeCloseTo(58, 9);
  });
});
