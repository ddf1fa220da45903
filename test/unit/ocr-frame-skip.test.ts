// Which band samples the OCR stage spends the heavy model on (issue 20): near-duplicates of the
// last read band reuse its reading, bands without text-like edges are "no text" without OCR, and
// every sample is counted in the stage output. Synthetic frames and a fake reader, no models.
import { describe, expect, it } from 'vitest';
import { createOcrStage, type OcrReader } from '../../src/indexers/ocr.js';
import { BandLocator, BandWatcher, MIN_TEXT_BLOCKS_TO_READ, MIN_TEXT_BLOCKS_TO_RETRY, type GreyFrame } from '../../src/indexers/subtitle-band.js';
import type { RawFrame } from '../../src/media/frames.js';
import type { ReadOptions, TextLine } from '../../src/models/ocr/types.js';
import type { RawImage } from '../../src/models/types.js';
import { createFakeStore, makeVideo } from '../helpers/fake-store.js';
import { stageContextOf } from '../helpers/stage-context.js';

const W = 960;
const H = 540;

/**
 * A 960×540 grey frame: a smooth background whose brightness drifts with `shade` (motion without
 * edges) and, optionally, a two-glyph white word with a dark outline centred low down.
 */
function frame(time: number, word: boolean, shade: number): GreyFrame {
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = 120 + shade + Math.round((x / W) * 20);
  if (word) {
    for (let y = 480; y < 502; y++) {
      for (let x = W / 2 - 26; x < W / 2 + 26; x++) data[y * W + x] = (x + y) % 6 < 3 ? 255 : (x + y) % 6 === 3 ? 30 : data[y * W + x]!;
    }
  }
  return { time, data, width: W, height: H };
}

/** 3 s at 10 fps: the background brightens in steps (each step a band change), a word from 1.0 to 2.0 s. */
function clip(): GreyFrame[] {
  return Array.from({ length: 30 }, (_, i) => frame(i / 10, i >= 10 && i < 20, 8 * Math.floor(i / 3)));
}

describe('band reads and the text gate', () => {
  it('gives each reading the text-like blocks of its band: none for smooth motion, many for a word', () => {
    const watcher = new BandWatcher(0.5);
    const locator = new BandLocator(H);
    const readings = clip().flatMap((f) => {
      const reading = watcher.next(f, locator);
      return reading ? [{ time: f.time, blocks: reading.textBlocks }] : [];
    });
    const withWord = readings.filter((r) => r.time >= 1 && r.time < 2);
    const without = readings.filter((r) => r.time < 1 || r.time >= 2.1);
    expect(withWord.length).toBeGreaterThan(0);
    expect(without.length).toBeGreaterThan(2);
    for (const r of withWord) expect(r.blocks).toBeGreaterThanOrEqual(MIN_TEXT_BLOCKS_TO_READ);
    for (const r of without) expect(r.blocks).toBeLessThan(MIN_TEXT_BLOCKS_TO_READ);
    // Every sample is a reading, a reuse of the last reading, or a band still settling.
    expect(readings.length + watcher.counts.unchanged + watcher.counts.settling).toBe(30);
    expect(watcher.counts.unchanged).toBeGreaterThan(0);
  });
});

/** A reader that "sees" the word wherever white pixels are, and counts what it was given. */
function fakeReader(): OcrReader & { bands: number; frames: number; widest: number; bandOptions: (ReadOptions | undefined)[] } {
  const reader = {
    size: 1,
    bands: 0,
    frames: 0,
    widest: 0,
    bandOptions: [] as (ReadOptions | undefined)[],
    read(image: RawImage, options?: ReadOptions): Promise<TextLine[]> {
      if (image.height === H) reader.frames++;
      else [reader.bands, reader.widest] = [reader.bands + 1, Math.max(reader.widest, image.width)];
      if (image.height !== H) reader.bandOptions.push(options);
      // The box of the white pixels, in the coordinates of the image given (a crop of the band).
      let [left, right, top, bottom] = [Infinity, -1, Infinity, -1];
      image.data.forEach((v, i) => {
        if (v !== 255) return;
        const [x, y] = [i % image.width, Math.floor(i / image.width)];
        [left, right, top, bottom] = [Math.min(left, x), Math.max(right, x + 1), Math.min(top, y), Math.max(bottom, y + 1)];
      });
      if (right < 0) return Promise.resolve([]);
      const quad: TextLine['quad'] = [[left, top], [right, top], [right, bottom], [left, bottom]];
      return Promise.resolve([{ text: '好的', score: 0.95, flipped: false, detectionScore: 0.95, quad }]);
    },
  };
  return reader;
}

async function runStage(minTextBlocksToRead?: number) {
  const store = createFakeStore();
  const video = makeVideo({ durationSec: 3, width: W, height: H, status: 'INDEXING' });
  await store.catalog.putVideo(video);
  const ctx = stageContextOf(video, store);
  const reader = fakeReader();
  async function* frames(): AsyncGenerator<RawFrame> {
    for (const f of clip()) yield { ...f, data: Buffer.from(f.data) };
  }
  const stage = createOcrStage({ reader: () => reader, frames, ...(minTextBlocksToRead === undefined ? {} : { minTextBlocksToRead }) });
  const output = await stage.run(ctx, undefined);
  const cues = (await store.catalog.getCues(video.id, ['SUBTITLE'])).map((c) => [c.start, c.end, c.text]);
  return { output, cues, reader };
}

describe('ocr stage frame skipping', () => {
  it('reads only bands with text-like edges, counts every sample, and finds the same cues as reading all', async () => {
    const gated = await runStage();
    const all = await runStage(0);
    expect(gated.cues).toEqual([[1, 2, '好的']]);
    expect(gated.cues).toEqual(all.cues);

    const out = gated.output;
    expect(out.framesTextless).toBeGreaterThan(0);
    expect(out.framesReused).toBeGreaterThan(0);
    expect(out.framesOcr + out.framesTextless + out.framesReused + out.framesSettling).toBe(out.framesSampled);
    // The model saw only the bands with the word; without the gate it saw the motion too.
    expect(gated.reader.bands).toBe(out.framesOcr);
    // ...and of those bands only the columns around the word (52 px, padded, at least five band
    // heights wide, on the detector's 32-px grid): not the whole width.
    expect(gated.reader.widest).toBeLessThan(W);
    expect(gated.reader.widest % 32).toBe(0);
    expect(out.framesOcr).toBeLessThan(all.output.framesOcr);
    expect(all.output.framesTextless).toBe(0);
    expect(all.output.framesOcr).toBe(out.framesOcr + out.framesTextless);
  });

  it('never reads a band whole as one line, and retries only bands with enough text-like blocks', async () => {
    expect(MIN_TEXT_BLOCKS_TO_RETRY).toBeGreaterThan(MIN_TEXT_BLOCKS_TO_READ);
    const gated = await runStage();
    // Bands that reach OCR through the text gate hold the word: retried when the first look fails.
    expect(gated.reader.bandOptions.every((o) => o?.wholeLineFallback === false && o.retry === true)).toBe(true);
    expect(gated.output.framesNoRetry).toBe(0);
    // Without the gate, the smooth motion bands (no text-like blocks) get the first look only.
    const all = await runStage(0);
    const firstLookOnly = all.reader.bandOptions.filter((o) => o?.retry === false).length;
    expect(firstLookOnly).toBe(all.output.framesOcr - gated.output.framesOcr);
    expect(all.output.framesNoRetry).toBe(firstLookOnly);
  });
});
