// The block-grid measure's one-pass form (each luma step read once) against the direct form it
// replaced (every step recomputed for each of its three comparisons): equal on seeded noise, on a
// mosaic of 8-px blocks and on odd areas and periods.
import { describe, expect, it } from 'vitest';
import { blockinessOf } from '../../src/indexers/quality.js';
import type { Box, RawImage } from '../../src/models/types.js';

/** The form before issue 20's change, kept here as the reference. */
function directBlockiness(image: RawImage, area: Box, period = 8): number {
  const { width, data } = image;
  const x0 = Math.round(area.x) + 2;
  const y0 = Math.round(area.y) + 2;
  const x1 = Math.round(area.x + area.width) - 2;
  const y1 = Math.round(area.y + area.height) - 2;
  const p = Math.max(2, Math.round(period));
  let onPeaks = 0, onCount = 0, offPeaks = 0, offCount = 0;
  const tally = (onGrid: boolean, before: number, step: number, after: number): void => {
    const peak = step > Math.max(before, after) + 1 ? 1 : 0;
    if (onGrid) (onPeaks += peak, onCount++);
    else (offPeaks += peak, offCount++);
  };
  for (let y = y0; y < y1; y += 2) {
    const row = y * width;
    for (let x = x0; x < x1; x++) {
      const step = (k: number): number => Math.abs(data[row + k]! - data[row + k - 1]!);
      tally(x % p === 0, step(x - 1), step(x), step(x + 1));
    }
  }
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x += 2) {
      const step = (k: number): number => Math.abs(data[k * width + x]! - data[(k - 1) * width + x]!);
      tally(y % p === 0, step(y - 1), step(y), step(y + 1));
    }
  }
  if (!onCount || !offCount) return 0;
  const on = onPeaks / onCount;
  const off = offPeaks / offCount;
  return Math.max(0, on - off) / (on + off + 0.05);
}

function grey(width: number, height: number, seed: number, block: number): RawImage {
  const data = new Uint8Array(width * height);
  let a = seed;
  const random = (): number => ((a = (Math.imul(a, 1664525) + 1013904223) >>> 0) >>> 24);
  const tiles = new Map<number, number>();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const tile = Math.floor(y / block) * 10_000 + Math.floor(x / block);
      if (!tiles.has(tile)) tiles.set(tile, random());
      data[y * width + x] = Math.min(255, tiles.get(tile)! + (random() >> 5));
    }
  }
  return { data, width, height, channels: 1 };
}

describe('blockiness', () => {
  it('equals the direct form, to the last bit', () => {
    const cases: [RawImage, Box, number][] = [
      [grey(320, 180, 1, 1), { x: 0, y: 0, width: 320, height: 180 }, 8],
      [grey(320, 180, 2, 8), { x: 0, y: 0, width: 320, height: 180 }, 8],
      [grey(333, 151, 3, 8), { x: 7.4, y: 13.6, width: 300.2, height: 120 }, 8],
      [grey(256, 144, 4, 6), { x: 3, y: 5, width: 240, height: 130 }, 5.6],
      [grey(64, 40, 5, 4), { x: 0, y: 0, width: 64, height: 40 }, 4],
    ];
    for (const [image, area, period] of cases) expect(blockinessOf(image, area, period)).toBe(directBlockiness(image, area, period));
    expect(blockinessOf(cases[1]![0], cases[1]![1])).toBeGreaterThan(0.4);
  });
});
