// Shot detection on generated media whose truth is known by construction, plus the segment split
// and the eval's cut matching.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchCuts } from '../../src/eval/shots.js';
import { streamFrames } from '../../src/media/frames.js';
import { splitIntoSegments } from '../../src/indexers/segments.js';
import { chooseKeyframe, detectShotBoundaries, frameFeatures, type FrameFeatures } from '../../src/indexers/shot-detection.js';
import { buildShots, keyframeCandidateStride, SHOT_ANALYSIS_WIDTH } from '../../src/indexers/shots.js';
import type { ShotRecord } from '../../src/domain.js';
import { makeTempDir, makeTestVideo, testTools, type TestVideoSpec } from '../helpers/media.js';

const FPS = 10;
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterAll(() => cleanup());

async function features(file: string): Promise<FrameFeatures[]> {
  const out: FrameFeatures[] = [];
  for await (const f of streamFrames(testTools, file, { fps: FPS, width: SHOT_ANALYSIS_WIDTH, pixFmt: 'rgb24' })) {
    out.push(frameFeatures(f.time, f.data, f.width, f.height));
  }
  return out;
}

async function detect(spec: Omit<TestVideoSpec, 'dir'>): Promise<{ predicted: number[]; truth: number[]; frames: FrameFeatures[] }> {
  // Small pictures: the detector looks at 96 px wide frames anyway.
  const video = await makeTestVideo({ dir, size: { width: 192, height: 108 }, ...spec });
  const frames = await features(video.path);
  return { predicted: detectShotBoundaries(frames, { fps: FPS }).map((b) => b.time), truth: video.boundaries, frames };
}

describe('detectShotBoundaries', () => {
  it('finds hard cuts and ignores white flashes', async () => {
    const { predicted, truth } = await detect({ name: 'cuts', durationSec: 8, cuts: [1.5, 3, 5.5], flashes: [2.2, 4.4, 6.8] });
    const m = matchCuts(predicted, truth, 0.2);
    expect(m).toMatchObject({ falsePositives: 0, falseNegatives: 0 });
  });

  it('places dissolves at their middle and a fade through black at each ramp\'s middle', async () => {
    const { predicted, truth } = await detect({
      name: 'gradual',
      durationSec: 10,
      fades: [
        { at: 2.5, durationSec: 1, kind: 'dissolve' },
        { at: 5.5, durationSec: 1.2, kind: 'black' },
        { at: 8, durationSec: 2, kind: 'dissolve' },
      ],
    });
    expect(matchCuts(predicted, truth, 0.2)).toMatchObject({ falsePositives: 0, falseNegatives: 0 });
  });

  it('does not cut a camera pan, but still finds the cuts inside it', async () => {
    const { predicted, truth } = await detect({ name: 'pan', durationSec: 8, cuts: [3, 5.5], pan: true });
    expect(matchCuts(predicted, truth, 0.2)).toMatchObject({ falsePositives: 0, falseNegatives: 0 });
  });

  it('finds nothing in a single shot, and keeps shots apart by the minimum length', async () => {
    const still = await detect({ name: 'single', durationSec: 4 });
    expect(still.predicted).toEqual([]);
    const crowded = await detect({ name: 'crowded', durationSec: 4, cuts: [1, 1.2, 2.5] });
    expect(crowded.predicted.every((t, i, all) => i === 0 || t - all[i - 1]! >= 0.5)).toBe(true);
  });

  it('chooses keyframes that are neither flat nor at the edges', async () => {
    const { frames } = await detect({ name: 'keys', durationSec: 6, fades: [{ at: 3, durationSec: 1.6, kind: 'black' }] });
    const shots = buildShots('v', frames, FPS, 6);
    // The fade out, the moment of black between (a shot of its own), the fade in.
    expect(shots).toHaveLength(3);
    expect(shots.map((s) => s.transition)).toEqual(['START', 'FADE', 'FADE']);
    for (const shot of [shots[0]!, shots[2]!]) {
      const key = frames.find((f) => Math.abs(f.time - shot.keyframeTime) < 1e-6)!;
      expect(key.stdLuma).toBeGreaterThan(0.05);
      // One of the candidate frames the job's decode keeps for the shot-aware stages.
      expect(frames.indexOf(key) % keyframeCandidateStride(FPS)).toBe(0);
      expect(shot.keyframeTime).toBeGreaterThan(shot.start);
      expect(shot.keyframeTime).toBeLessThan(shot.end);
    }
    expect(chooseKeyframe(frames, 100, 101)).toBeNull();
    // A shot shorter than the candidates' spacing still gets a frame of its own.
    const stride = keyframeCandidateStride(FPS);
    const short = frames.slice(1, stride);
    expect(short.length).toBeGreaterThan(0);
    const picked = chooseKeyframe(frames, short[0]!.time, short[short.length - 1]!.time + 1e-3, stride)!;
    expect(short).toContain(picked);
  });
});

describe('splitIntoSegments', () => {
  const shot = (index: number, start: number, end: number, keyframeTime: number): ShotRecord => ({
    id: `s${index}`, videoId: 'v', index, start, end, keyframeTime, transition: index ? 'CUT' : 'START',
  });

  it('keeps short shots whole and splits long ones into balanced windows', () => {
    const quality: [number, number][] = [[13, 5], [15, 9], [21, 2], [22.5, 7]];
    const segments = splitIntoSegments('v', [shot(0, 0, 4, 2), shot(1, 4, 29, 6)], quality, 10);
    expect(segments.map((s) => [s.shotIndex, +s.start.toFixed(3), +s.end.toFixed(3)])).toEqual([
      [0, 0, 4], [1, 4, 12.333], [1, 12.333, 20.667], [1, 20.667, 29],
    ]);
    expect(segments.map((s) => s.index)).toEqual([0, 1, 2, 3]);
    // The shot's keyframe where it falls, else the best-quality sample of the window.
    expect(segments.map((s) => s.keyframeTime)).toEqual([2, 6, 15, 22.5]);
    expect(new Set(segments.map((s) => s.id)).size).toBe(4);
  });
});

describe('matchCuts', () => {
  it('matches one-to-one, nearest first, within the tolerance', () => {
    // 3.05 is nearer to 3.0 than 2.9 is; 2.9 then has nothing left within 0.2.
    const m = matchCuts([2.9, 3.05, 6.3, 9.0], [3.0, 6.0, 9.2], 0.2);
    expect(m.pairs).toEqual([[3.05, 3.0], [9.0, 9.2]]);
    expect(m).toMatchObject({ truePositives: 2, falsePositives: 2, falseNegatives: 1 });
    expect(matchCuts([], [], 0.2)).toMatchObject({ truePositives: 0, falsePositives: 0, falseNegatives: 0 });
  });
});
