// Objects: the real CenterNet (Human's model converted to ONNX) on a shared frame with people in it, and the
// objects stage turning keyframe detections into OBJECT tags on every segment of the shot.
import { pino } from 'pino';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { SegmentRecord, ShotRecord } from '../../src/domain.js';
import { createObjectsStage, objectDetectorThreads } from '../../src/indexers/objects.js';
import type { StageContext } from '../../src/indexers/stage.js';
import { canonicalObjectLabel, loadObjectDetector } from '../../src/models/objects/index.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { createFakeStore, makeVideo } from '../helpers/fake-store.js';
import { stageContextOf } from '../helpers/stage-context.js';
import { sharedData } from '../helpers/shared-data.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

describe('object labels', () => {
  it('accepts English, Chinese and common aliases, and nothing else', () => {
    expect(canonicalObjectLabel('Cup')).toBe('cup');
    expect(canonicalObjectLabel('杯子')).toBe('cup');
    expect(canonicalObjectLabel('手机')).toBe('cell phone');
    expect(canonicalObjectLabel('sofa')).toBe('couch');
    expect(canonicalObjectLabel('spaceship')).toBeNull();
  });
});

const frameWithPeople = sharedData('derived/screenshot_queries/q000.jpg');

describe.skipIf(!frameWithPeople)('CenterNet on ONNX Runtime', () => {
  it('finds the person in a drama frame with a box inside the picture', async () => {
    const detector = await loadObjectDetector();
    const { data, info } = await sharp(frameWithPeople!).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const [objects] = await detector.detect([{ data, width: info.width, height: info.height, channels: 3 }]);
    const person = objects!.find((o) => o.label === 'person');
    expect(person?.score).toBeGreaterThan(0.5);
    expect(person?.labelZh).toBe('人');
    expect(person!.box.x).toBeGreaterThanOrEqual(0);
    expect(person!.box.x + person!.box.width).toBeLessThanOrEqual(info.width + 1e-6);
    // A blank frame holds nothing.
    expect(await detector.detect([{ data: Buffer.alloc(64 * 64 * 3, 128), width: 64, height: 64, channels: 3 }])).toEqual([[]]);
  }, 120_000);
});

describe('objects stage', () => {
  it('gives the detector the cores divided among the jobs and stages that may run beside it, at least one', () => {
    expect(objectDetectorThreads({ concurrency: 1, stageConcurrency: 2 }, 2)).toBe(1);
    expect(objectDetectorThreads({ concurrency: 1, stageConcurrency: 1 }, 2)).toBe(2);
    expect(objectDetectorThreads({ concurrency: 2, stageConcurrency: 3 }, 2)).toBe(1);
    expect(objectDetectorThreads({ concurrency: 1, stageConcurrency: 2 }, 8)).toBe(4);
  });

  it('tags every segment of a shot with the shot keyframe\'s objects, and reports a missing model as skipped', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-objects-'));
    const store = await openEmbeddedStore(dir);
    try {
      const video = makeVideo({ width: 1280, height: 720, durationSec: 30 });
      await store.catalog.putVideo(video);
      const shots: ShotRecord[] = [
        { id: 'sh0', videoId: video.id, index: 0, start: 0, end: 20, keyframeTime: 3, transition: 'START' },
        { id: 'sh1', videoId: video.id, index: 1, start: 20, end: 30, keyframeTime: 25, transition: 'CUT' },
      ];
      const segments: SegmentRecord[] = [
        { id: 'g0', videoId: video.id, index: 0, shotIndex: 0, start: 0, end: 10, keyframeTime: 3 },
        { id: 'g1', videoId: video.id, index: 1, shotIndex: 0, start: 10, end: 20, keyframeTime: 13 },
        { id: 'g2', videoId: video.id, index: 2, shotIndex: 1, start: 20, end: 30, keyframeTime: 25 },
      ];
      await store.catalog.replaceStructure(video.id, shots, segments);
      const log = pino({ level: 'silent' });
      const ctx = { video, store, media: { ffmpeg: '', ffprobe: '' }, config: loadConfig({}), log, signal: new AbortController().signal, reportProgress: () => undefined } as StageContext;
      const stage = createObjectsStage({
        detector: async () => ({
          modelId: 'fake',
          detect: async (images) =>
            images.map((image) =>
              image.data[0] === 1
                ? [{ label: 'cup', labelZh: '杯子', score: 0.9, box: { x: 10, y: 10, width: 20, height: 20 } }, { label: 'cup', labelZh: '杯子', score: 0.4, box: { x: 0, y: 0, width: 5, height: 5 } }]
                : [],
            ),
        }),
        keyframe: async (_ctx, time) => ({ time, data: Buffer.alloc(640 * 360 * 3, time < 20 ? 1 : 100), width: 640, height: 360 }),
      });
      const output = await stage.run(ctx, {});
      expect(output).toMatchObject({ skipped: null, keyframes: 2, keyframesRepeated: 0, objects: 2, labels: { cup: 1 } });
      const [g0, g1, g2] = await store.tags.getTagsOfSegments(['g0', 'g1', 'g2']);
      expect(g0).toEqual([{ videoId: video.id, segmentId: 'g0', kind: 'OBJECT', label: 'cup', score: 0.9, source: 'MODEL', box: { x: 20, y: 20, width: 40, height: 40 } }]);
      expect(g1!.map((t) => t.label)).toEqual(['cup']);
      expect(g2).toEqual([]);

      const broken = createObjectsStage({ detector: async () => Promise.reject(new Error('no wasm')) });
      expect((await broken.run(ctx, {})).skipped).toMatch(/no wasm/);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('reuses the detections of an earlier keyframe whose picture nearly repeats, not of one that changed', async () => {
    const store = createFakeStore();
    const video = makeVideo({ width: 640, height: 360, durationSec: 40 });
    await store.catalog.putVideo(video);
    const times = [2, 12, 22, 32];
    const shots: ShotRecord[] = times.map((t, index) => ({ id: `sh${index}`, videoId: video.id, index, start: t - 2, end: t + 8, keyframeTime: t, transition: 'CUT' }));
    const segments: SegmentRecord[] = shots.map((s) => ({ id: `g${s.index}`, videoId: video.id, index: s.index, shotIndex: s.index, start: s.start, end: s.end, keyframeTime: s.keyframeTime }));
    await store.catalog.replaceStructure(video.id, shots, segments);
    // Shot 0: a pattern; shot 1: another; shot 2: shot 0's picture with sensor noise (±2 levels);
    // shot 3: shot 0's picture with a bright 96×96 square in it (4 % of the blocks changed).
    const pictures: Record<number, Buffer> = { 2: pattern(3), 12: pattern(5), 22: withNoise(pattern(3)), 32: withSquare(pattern(3)) };
    const detected: number[] = [];
    const stage = createObjectsStage({
      detector: async () => ({
        modelId: 'fake',
        detect: async (images) =>
          images.map((image) => {
            detected.push(image.width);
            return [{ label: `object${detected.length}`, labelZh: '', score: 0.9, box: { x: 1, y: 1, width: 2, height: 2 } }];
          }),
      }),
      keyframe: async (_ctx, time) => ({ time, data: pictures[time]!, width: 640, height: 360 }),
    });
    const output = await stage.run(stageContextOf(video, store), {});
    expect(output).toMatchObject({ keyframes: 4, keyframesRepeated: 1, objects: 4 });
    expect(detected).toHaveLength(3);
    const tags = await store.tags.getTagsOfSegments(['g0', 'g1', 'g2', 'g3']);
    expect(tags.map((t) => t.map((tag) => tag.label))).toEqual([['object1'], ['object2'], ['object1'], ['object3']]);
  });
});

/** A 640×360 RGB picture of diagonal stripes; `period` sets their width. */
function pattern(period: number): Buffer {
  const data = Buffer.alloc(640 * 360 * 3);
  for (let y = 0; y < 360; y++) for (let x = 0; x < 640; x++) data.fill(40 + (((x + y) >> period) % 2) * 120, (y * 640 + x) * 3, (y * 640 + x) * 3 + 3);
  return data;
}

function withNoise(picture: Buffer): Buffer {
  const out = Buffer.from(picture);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! + ((i * 7919) % 5) - 2;
  return out;
}

function withSquare(picture: Buffer): Buffer {
  const out = Buffer.from(picture);
  for (let y = 100; y < 196; y++) out.fill(250, (y * 640 + 200) * 3, (y * 640 + 296) * 3);
  return out;
}
