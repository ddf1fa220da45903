// Scene/mood rules (HEURISTIC tags) on hand-made signals, and the pixel/audio measurements behind them.
import { describe, expect, it } from 'vitest';
import { audioWindows, frameStats, sceneTags, type SegmentSignals } from '../../src/indexers/scenes.js';

const base: SegmentSignals = {
  segmentId: 's', start: 0, end: 10, shotIndex: 0, loudnessDb: -20, loudnessChangeDb: 0, speechFraction: 0, flatness: 0.5,
  motion: 5, brightness: 120, sky: 0, foliage: 0, faceHeight: 0, people: 0,
};
const labels = (s: Partial<SegmentSignals>, objects: string[] = [], median = -25): string[] =>
  sceneTags({ ...base, ...s }, objects, median, { videoId: 'v', segmentId: 's' }).map((t) => `${t.kind}:${t.label}`).sort();

describe('scene rules', () => {
  it('frames people by face size and count', () => {
    expect(labels({ faceHeight: 0.45, people: 1, speechFraction: 0.8 })).toEqual(expect.arrayContaining(['SCENE:close-up', 'SCENE:single', 'SCENE:dialogue', 'MOOD:intimate']));
    expect(labels({ faceHeight: 0.2, people: 2 })).toEqual(expect.arrayContaining(['SCENE:medium-shot', 'SCENE:two-shot']));
    expect(labels({ faceHeight: 0.05, people: 6 })).toEqual(expect.arrayContaining(['SCENE:wide-shot', 'SCENE:crowd']));
  });

  it('tells outdoor from indoor by sky, foliage and objects, and night from day by brightness', () => {
    expect(labels({ sky: 0.4, brightness: 150 })).toEqual(expect.arrayContaining(['SCENE:outdoor', 'SCENE:day']));
    expect(labels({}, ['couch', 'tv'])).toEqual(expect.arrayContaining(['SCENE:indoor']));
    expect(labels({ brightness: 20 }, ['car', 'traffic light'])).toEqual(expect.arrayContaining(['SCENE:outdoor', 'SCENE:night']));
  });

  it('classes the sound and derives moods', () => {
    expect(labels({ loudnessDb: -70, motion: 1 })).toEqual(expect.arrayContaining(['SCENE:silence', 'SCENE:motion-low', 'MOOD:calm']));
    expect(labels({ flatness: 0.05, motion: 6 })).toEqual(expect.arrayContaining(['SCENE:music', 'MOOD:upbeat']));
    expect(labels({ motion: 25, loudnessDb: -10 })).toEqual(expect.arrayContaining(['SCENE:motion-high', 'MOOD:tense']));
    expect(labels({ motion: 25, loudnessDb: -40 })).not.toContain('MOOD:tense');
  });
});

describe('measurements', () => {
  it('finds sky in the top third, foliage, brightness and motion', () => {
    const width = 6;
    const height = 6;
    const data = Buffer.alloc(width * height * 3);
    for (let i = 0; i < width * height; i++) {
      const top = i < 2 * width;
      data.set(top ? [90, 140, 230] : [30, 160, 40], i * 3);
    }
    const first = frameStats({ time: 0, data, width, height }, null);
    expect(first.stats.sky).toBe(1);
    expect(first.stats.foliage).toBeCloseTo(4 / 6, 5);
    expect(first.stats.motion).toBeNull();
    const dark = frameStats({ time: 0.5, data: Buffer.alloc(width * height * 3), width, height }, first.luma);
    expect(dark.stats.brightness).toBe(0);
    expect(dark.stats.motion).toBeGreaterThan(100);
  });

  it('measures loudness and separates a tone (flat ≈ 0) from noise (flat ≫ tone)', () => {
    const rate = 16000;
    const tone = Float32Array.from({ length: rate }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate));
    let seed = 1;
    const noise = Float32Array.from({ length: rate }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.5);
    const t = audioWindows(tone, rate);
    const n = audioWindows(noise, rate);
    expect(t.db[3]).toBeCloseTo(20 * Math.log10(0.5 / Math.SQRT2), 0);
    expect(t.flatness[3]!).toBeLessThan(0.1);
    expect(n.flatness[3]!).toBeGreaterThan(0.4);
    expect(audioWindows(new Float32Array(rate), rate).db[0]).toBe(-100);
  });
});
