// The cheap half of subtitle reading on synthetic frames: which frames reach OCR, onsets, band
// location, and how readings merge into cues.
import { describe, expect, it } from 'vitest';
import type { Quad } from '../../src/models/ocr/types.js';
import {
  BandLocator,
  BandWatcher,
  CueAssembler,
  bandChanged,
  isSubtitleLike,
  regionChanged,
  regionSignature,
  sameLine,
  type GreyFrame,
} from '../../src/indexers/subtitle-band.js';

const W = 160;
const H = 120;

/** A frame with a flat background and, optionally, a striped "subtitle" block at the bottom. */
function frame(time: number, subtitle: number | null, background = 60): GreyFrame {
  const data = new Uint8Array(W * H).fill(background);
  if (subtitle !== null) {
    for (let y = 96; y < 112; y++) for (let x = 40 + subtitle * 8; x < 120; x++) data[y * W + x] = (x + subtitle) % 4 < 2 ? 250 : 10;
  }
  return { time, data, width: W, height: H };
}

describe('BandWatcher', () => {
  it('sends a frame to OCR only when the band changed and settled, with the change time as onset', () => {
    const watcher = new BandWatcher(0.5);
    const locator = new BandLocator(H);
    const content = [null, null, 0, 0, 0, 0, 1, 1, 1, null, null];
    const readings = content.map((s, i) => watcher.next(frame(i / 10, s), locator)).flatMap((r, i) => (r ? [{ i, onset: r.onset }] : []));
    // First look (settles at frame 1), subtitle 0 appears at 0.2, subtitle 1 at 0.6, gone at 0.9.
    expect(readings.map((r) => r.onset)).toEqual([0, 0.2, 0.6, 0.9]);
    expect(readings.map((r) => r.i)).toEqual([1, 3, 7, 10]);
  });

  it('reads a band that never settles after the settle limit, dated at the band-only change', () => {
    const watcher = new BandWatcher(0.3);
    const locator = new BandLocator(H);
    const readings: number[] = [];
    // The background flickers every frame (motion); the subtitle switches at 0.5.
    for (let i = 0; i < 10; i++) {
      const reading = watcher.next(frame(i / 10, i < 5 ? 0 : 1, i % 2 ? 40 : 90), locator);
      if (reading) readings.push(reading.onset);
    }
    expect(readings).toContain(0.5);
  });
});

/** A wide frame (a 960-pixel decode) with an outlined short word of `chars` glyphs centred low down. */
function wideFrame(time: number, word: number | null, chars = 2, background = 200): GreyFrame {
  const width = 960;
  const height = 540;
  const data = new Uint8Array(width * height).fill(background);
  if (word !== null) {
    // Glyphs 22 px high and wide, white strokes with a 1-px dark outline, ~4 px apart.
    const left = width / 2 - chars * 13;
    for (let c = 0; c < chars; c++) {
      for (let y = 480; y < 502; y++) {
        for (let x = left + c * 26; x < left + c * 26 + 22; x++) {
          const stroke = (x + y + word * 3) % 6 < 3;
          data[y * width + x] = stroke ? 255 : (x + y + word * 3) % 6 === 3 ? 30 : background;
        }
      }
    }
  }
  return { time, data, width, height };
}

describe('text-area change test', () => {
  it('calls a one-word cue on a wide band a change, where the whole-band share does not', () => {
    const band = { top: 378, bottom: 540 };
    const empty = regionSignature(wideFrame(0, null).data, 960, band);
    const word = regionSignature(wideFrame(0, 1).data, 960, band);
    // Two 22-px glyphs are under 2 % of a 120×20-block band...
    expect(regionChanged(empty, word)).toBe(false);
    // ...but all of the text area.
    expect(bandChanged(empty, word)).toBe(true);
    expect(bandChanged(word, regionSignature(wideFrame(0, null).data, 960, band))).toBe(true);
    expect(bandChanged(word, regionSignature(wideFrame(0, 1).data, 960, band))).toBe(false);
  });

  it('leaves motion at the sides of the band alone', () => {
    const band = { top: 378, bottom: 540 };
    const still = wideFrame(0, null);
    const moved = wideFrame(0, null);
    // A sharp-edged object moves in the left fifth of the band (not where subtitles sit).
    for (let y = 400; y < 520; y++) for (let x = 20; x < 160; x++) moved.data[y * 960 + x] = x % 4 < 2 ? 0 : 255;
    const a = regionSignature(still.data, 960, band);
    const b = regionSignature(moved.data, 960, band);
    expect(regionChanged(a, b)).toBe(true);
    expect(bandChanged(a, b)).toBe(true);
    // The text-area part alone: the whole-band part already fires here, so test at a lower share.
    const slight = wideFrame(0, null);
    for (let y = 400; y < 416; y++) for (let x = 20; x < 60; x++) slight.data[y * 960 + x] = x % 4 < 2 ? 0 : 255;
    expect(bandChanged(a, regionSignature(slight.data, 960, band))).toBe(false);
  });

  it('sends a one-word cue on a still background to OCR, and re-reads text that keeps moving', () => {
    const watcher = new BandWatcher(0.5, 1.0);
    const locator = new BandLocator(540);
    const onsets: number[] = [];
    // Empty until 1.0 s, a two-glyph word from 1.0 to 1.8 s, empty again.
    for (let i = 0; i < 30; i++) {
      const t = i / 10;
      const reading = watcher.next(wideFrame(t, t >= 1 && t < 1.8 ? 1 : null), locator);
      if (reading) onsets.push(reading.onset);
    }
    expect(onsets).toEqual([0, 1, 1.8]);

    // A word with a speck of motion over it every other frame (two blocks: too little to count
    // as a change): read at least once a second while it lasts.
    const forced = new BandWatcher(0.5, 1.0);
    const times: number[] = [];
    for (let i = 0; i < 35; i++) {
      const frame = wideFrame(i / 10, 1);
      if (i % 2) for (let y = 480; y < 488; y++) for (let x = 464; x < 480; x++) frame.data[y * 960 + x] = 0;
      const reading = forced.next(frame, new BandLocator(540));
      if (reading) times.push(reading.onset);
    }
    expect(times.length).toBeGreaterThanOrEqual(3);
    for (let k = 1; k < times.length; k++) expect(times[k]! - times[k - 1]!).toBeLessThanOrEqual(1.25);
  });
});

describe('BandLocator', () => {
  it('starts at the bottom of the frame and narrows to the rows subtitles were found in', () => {
    const locator = new BandLocator(1000);
    expect(locator.band).toEqual({ top: 700, bottom: 1000 });
    for (let i = 0; i < 5; i++) locator.observe(900, 940);
    expect(locator.isLocated).toBe(true);
    expect(locator.band.top).toBeGreaterThanOrEqual(700);
    expect(locator.band.top).toBeLessThan(900 - 40);
    expect(locator.band.bottom).toBeGreaterThan(940);
  });
});

describe('cue assembly', () => {
  it('treats jittery and truncated readings as the same line', () => {
    expect(sameLine('上次玩LABO我就惊叹不已', 'ABO我就惊叹不已')).toBe(true);
    expect(sameLine('Joy-Con是真的牛皮', 'Joy Con是真的牛皮!')).toBe(true);
    expect(sameLine('还有一个技术上的问题', '然后去打破它就OK了')).toBe(false);
  });

  it('merges equal consecutive readings, keeps the fullest text and drops flashes', () => {
    const cues = new CueAssembler(0.25);
    cues.observe(0, 'ABO我就惊叹不已', 0.9);
    cues.observe(0.5, '上次玩LABO我就惊叹不已', 0.8);
    cues.observe(1.0, '', 0);
    cues.observe(1.1, '闪', 1);
    cues.observe(1.2, '下一句', 1);
    cues.close(2);
    expect(cues.cues).toEqual([
      { start: 0, end: 1, text: '上次玩LABO我就惊叹不已' },
      { start: 1.2, end: 2, text: '下一句' },
    ]);
  });

  it('calls centred or wide lines subtitles, corner captions not', () => {
    const quad = (left: number, right: number): Quad => [[left, 0], [right, 0], [right, 10], [left, 10]];
    expect(isSubtitleLike(quad(400, 600), 1000)).toBe(true);
    expect(isSubtitleLike(quad(20, 200), 1000)).toBe(false);
    expect(isSubtitleLike(quad(50, 800), 1000)).toBe(true);
  });
});
