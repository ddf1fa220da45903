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
import { makeVideo } from '../helpers/fake-store.js';
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
        keyframe: async (_ctx, time) => ({ time, data: Buffer.alloc(640 * 360 * 3, time < 20 ? 1 : 2), width: 640, height: 360 }),
      });
      const output = await stage.run(ctx, {});
      expect(output).toMatchObject({ skipped: null, keyframes: 2, objects: 2, labels: { cup: 1 } });
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
});
