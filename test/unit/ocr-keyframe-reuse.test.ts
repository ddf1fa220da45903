// Shot keyframes whose picture nearly repeats one already read take its reading (issue 20): not
// only the previous keyframe, any kept one (dialogue cuts back and forth, footage repeats). Also
// the band signature's fast path against a per-block reference. Synthetic frames, a fake reader.
import { describe, expect, it } from 'vitest';
import type { ShotRecord } from '../../src/domain.js';
import { createOcrStage, type OcrReader } from '../../src/indexers/ocr.js';
import { OcrKeyframeKeeper } from '../../src/indexers/ocr-keyframes.js';
import { RepeatedKeyframes } from '../../src/indexers/repeated-keyframes.js';
import { regionChanged, regionChangeShare, regionSignature, type Band } from '../../src/indexers/subtitle-band.js';
import type { RawFrame } from '../../src/media/frames.js';
import type { ReadOptions, TextLine } from '../../src/models/ocr/types.js';
import type { RawImage } from '../../src/models/types.js';
import { createFakeStore, makeVideo } from '../helpers/fake-store.js';
import { stageContextOf } from '../helpers/stage-context.js';

const W = 960;
const H = 540;

/** Per block: mean brightness and mean horizontal gradient, one 8×8 block after the other. */
function referenceSignature(grey: Uint8Array, width: number, band: Band): Float32Array {
  const cols = Math.max(1, Math.floor(width / 8));
  const rows = Math.max(1, Math.floor((band.bottom - band.top) / 8));
  const blocks = new Float32Array(cols * rows * 2);
  for (let by = 0; by < rows; by++) {
    for (let bx = 0; bx < cols; bx++) {
      let [sum, edges] = [0, 0];
      for (let y = 0; y < 8; y++) {
        const row = (band.top + by * 8 + y) * width + bx * 8;
        for (let x = 0; x < 8; x++) {
          sum += grey[row + x]!;
          if (x < 7) edges += Math.abs(grey[row + x + 1]! - grey[row + x]!);
        }
      }
      blocks[(by * cols + bx) * 2] = sum / 64;
      blocks[(by * cols + bx) * 2 + 1] = edges / 56;
    }
  }
  return blocks;
}

/** Seeded noise, so a failure repeats. */
function noise(length: number, seed: number): Uint8Array {
  const data = new Uint8Array(length);
  let a = seed;
  for (let i = 0; i < length; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    data[i] = a >>> 24;
  }
  return data;
}

/** A picture: a diagonal pattern (`kind` sets its period), and a white "title" block when `title`. */
function picture(kind: number, title: boolean): Uint8Array {
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = 60 + (((x + kind * y) >> (3 + kind)) % 2) * 80;
  if (title) for (let y = 60; y < 120; y++) for (let x = 300; x < 660; x++) data[y * W + x] = (x >> 2) % 2 ? 255 : 20;
  return data;
}

describe('band signature fast path', () => {
  it('equals the per-block signature, on odd widths and band offsets too', () => {
    for (const [width, height, band] of [
      [960, 540, { top: 378, bottom: 540 }],
      [643, 361, { top: 101, bottom: 350 }],
      [17, 9, { top: 0, bottom: 9 }],
    ] as const) {
      const grey = noise(width * height, width);
      const fast = regionSignature(grey, width, band);
      expect(fast.cols).toBe(Math.floor(width / 8));
      expect(Array.from(fast.blocks)).toEqual(Array.from(referenceSignature(grey, width, band)));
    }
  });

  it('calls a region changed exactly when more than 2 % of its blocks changed', () => {
    const base = noise(W * H, 1);
    const a = regionSignature(base, W, { top: 0, bottom: H });
    for (const changedRows of [0, 1, 2, 3, 40]) {
      const other = Uint8Array.from(base);
      // Each 8-row stripe of inverted pixels changes one row of blocks: 1/67 of them.
      for (let i = 0; i < changedRows * 8 * W; i++) other[i] = 255 - other[i]!;
      const b = regionSignature(other, W, { top: 0, bottom: H });
      expect(regionChanged(a, b)).toBe(regionChangeShare(a, b) > 0.02);
    }
    expect(regionChanged(a, regionSignature(base, W, { top: 0, bottom: H - 8 }))).toBe(true);
  });
});

describe('repeated keyframes', () => {
  const whole = { top: 0, bottom: H };
  const sig = (kind: number, title = false) => regionSignature(picture(kind, title), W, whole);

  it('finds any earlier near-repeat, not only the last, and not a picture with a title added', () => {
    const kept = new RepeatedKeyframes<string>(8);
    kept.add(sig(1), 'A');
    kept.add(sig(2), 'B');
    expect(kept.find(sig(1))).toBe('A');
    expect(kept.find(sig(2))).toBe('B');
    // The same shot with a title over it: not a repeat (its text must be read).
    expect(regionChangeShare(sig(1), sig(1, true))).toBeGreaterThan(0.02);
    expect(kept.find(sig(1, true))).toBeNull();
    expect(kept.find(sig(3))).toBeNull();
  });

  it('keeps only the most recent readings', () => {
    const kept = new RepeatedKeyframes<number>(2);
    [1, 2, 3].forEach((kind) => kept.add(sig(kind), kind));
    expect(kept.find(sig(1))).toBeNull();
    expect(kept.find(sig(3))).toBe(3);
  });
});

describe('ocr stage on repeated keyframes', () => {
  it('reads A, B, A, B (titled A) twice, reuses the rest and keeps every shot its text', async () => {
    const store = createFakeStore();
    const video = makeVideo({ durationSec: 4, width: W, height: H, status: 'INDEXING' });
    await store.catalog.putVideo(video);
    const shots: ShotRecord[] = [0, 1, 2, 3].map((i) => ({ id: `s${i}`, videoId: video.id, index: i, start: i, end: i + 1, keyframeTime: i + 0.5, transition: i ? 'CUT' : 'START' }));
    await store.catalog.replaceStructure(video.id, shots, []);
    const ctx = stageContextOf(video, store);
    const pictures = [picture(1, true), picture(2, false)];
    async function* frames(): AsyncGenerator<RawFrame> {
      for (let i = 0; i < 40; i++) yield { time: i / 10, data: Buffer.from(pictures[Math.floor(i / 10) % 2]!), width: W, height: H };
    }
    let wholeFrames = 0;
    const reader: OcrReader = {
      size: 1,
      read(image: RawImage, _options?: ReadOptions): Promise<TextLine[]> {
        if (image.height !== H) return Promise.resolve([]);
        wholeFrames++;
        const titled = image.data[90 * W + 301] === 255;
        const quad: TextLine['quad'] = [[300, 60], [660, 60], [660, 120], [300, 120]];
        return Promise.resolve(titled ? [{ text: 'SALE', score: 0.95, flipped: false, detectionScore: 0.95, quad }] : []);
      },
    };
    const output = await createOcrStage({ reader: () => reader, frames }).run(ctx, undefined);
    expect(output.keyframes).toBe(4);
    expect(output.keyframesOcr).toBe(2);
    expect(output.keyframesRepeated).toBe(2);
    expect(wholeFrames).toBe(2);
    const cues = (await store.catalog.getCues(video.id, ['ON_SCREEN_TEXT'])).map((c) => [c.start, c.end, c.text]);
    expect(cues).toEqual([
      [0, 1, 'SALE'],
      [2, 3, 'SALE'],
    ]);
  });
});

describe('kept keyframe candidates', () => {
  it('gives back the exact pixels of the first frame at or after a candidate time', async () => {
    const keeper = new OcrKeyframeKeeper(0.5, 0.05);
    const frames = Array.from({ length: 12 }, (_, i) => ({ time: i / 10, data: Buffer.from(noise(W * H, i + 1)), width: W, height: H }));
    try {
      for (const f of frames) await keeper.add(f);
      for (const time of [0, 0.5, 1.0]) {
        const found = keeper.frameAt(time)!;
        expect(found.time).toBeCloseTo(time, 6);
        expect(Buffer.compare(found.frame!.data, frames[Math.round(time * 10)]!.data)).toBe(0);
      }
      // Between candidates: the time of the frame, not its pixels (decoded on its own).
      expect(keeper.frameAt(1.1)).toEqual({ time: 1.1, frame: null });
    } finally {
      keeper.close();
    }
  });
});
