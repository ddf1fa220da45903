// The cheap half of subtitle reading on synthetic frames: which frames reach OCR, onsets, band
// location, and how readings merge into cues.
import { describe, expect, it } from 'vitest';
import type { Quad } from '../../src/models/ocr/types.js';
import { BandLocator, BandWatcher, CueAssembler, isSubtitleLike, sameLine, type GreyFrame } from '../../src/indexers/subtitle-band.js';

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
