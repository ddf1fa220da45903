// Visual moderation: the stage's fallback to shot keyframes, its skip when the model is missing,
// the skin gate fed from the face detector, and the real nsfwjs MobileNetV2 on real footage from
// ../shared/data (an action film clip: no flag). The risk rule itself: nsfw-risk.test.ts.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { ShotRecord } from '../../src/domain.js';
import { createNsfwStage, shotsWithoutFrames } from '../../src/indexers/nsfw.js';
import type { StageContext } from '../../src/indexers/stage.js';
import type { RawFrame } from '../../src/media/frames.js';
import { probeMedia } from '../../src/media/probe.js';
import type { NsfwScores } from '../../src/models/nsfw/index.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { makeVideo } from '../helpers/fake-store.js';
import { makeTempDir, testTools } from '../helpers/media.js';
import { sharedData } from '../helpers/shared-data.js';


describe('nsfw stage helpers', () => {
  it('finds shots that need their own keyframe', () => {
    const shot = (index: number, start: number, end: number): ShotRecord => ({ id: `s${index}`, videoId: 'v', index, start, end, keyframeTime: start + 0.5, transition: 'CUT' });
    expect(shotsWithoutFrames([shot(0, 0, 2), shot(1, 2, 3), shot(2, 3, 6)], [0, 4]).map((s) => s.index)).toEqual([1]);
  });
});

describe('nsfw stage', () => {
  let temp: { dir: string; cleanup(): Promise<void> };
  let store: Store;

  beforeAll(async () => {
    temp = await makeTempDir('vidsearch-nsfw-');
    store = await openEmbeddedStore(temp.dir);
  }, 60_000);

  afterAll(async () => {
    await store.close();
    await temp.cleanup();
  });

  async function contextFor(file: string): Promise<StageContext> {
    const probe = await probeMedia(testTools, file);
    const video = makeVideo({ path: file, durationSec: probe.durationSec, width: probe.width, height: probe.height });
    await store.catalog.putVideo(video);
    const half = probe.durationSec / 2;
    const shots: ShotRecord[] = [0, 1].map((i) => ({ id: `${video.id}:shot:${i}`, videoId: video.id, index: i, start: i * half, end: (i + 1) * half, keyframeTime: i * half + half / 2, transition: i ? 'CUT' : 'START' }));
    await store.catalog.replaceStructure(video.id, shots, shots.map((s) => ({ id: `${video.id}:seg:${s.index}`, videoId: video.id, index: s.index, shotIndex: s.index, start: s.start, end: s.end, keyframeTime: s.keyframeTime })));
    return { video, store, media: testTools, config: loadConfig({}), log: pino({ level: 'silent' }), signal: new AbortController().signal, reportProgress: () => undefined };
  }

  it('is skipped, not failed, when the classifier cannot load', async () => {
    const clip = sharedData('video_blender/clip_01_tears_of_steel.mp4');
    if (!clip) return console.warn('[nsfw] ../shared/data absent: skipped');
    const stage = createNsfwStage({ classifier: () => Promise.reject(new Error('no weights')) });
    const output = await stage.run(await contextFor(clip), {});
    expect(output.skipped).toMatch(/no weights/);
  });

  it('classifies the I-frames of real footage with nsfwjs and flags nothing in an action clip', async () => {
    const clip = sharedData('video_blender/clip_03_sintel.mp4');
    if (!clip) return console.warn('[nsfw] ../shared/data absent: skipped');
    const ctx = await contextFor(clip);
    const output = await createNsfwStage().run(ctx, {});
    console.log(`[nsfw] sintel clip: ${output.frames} frames, ${output.msPerFrame} ms/frame, ${output.flags} flags (${output.modelId})`);
    expect(output.skipped).toBeNull();
    expect(output.frames).toBeGreaterThanOrEqual(2);
    expect((await store.technical.getVisualFlags(ctx.video.id)).filter((f) => f.flagged)).toEqual([]);
  }, 180_000);

  /** Two 4 s segments, a frame every second, each frame a flat picture: skin-coloured or grey. */
  async function syntheticContext(): Promise<StageContext> {
    const video = makeVideo({ path: '/synthetic.mp4', durationSec: 8 });
    await store.catalog.putVideo(video);
    const shots: ShotRecord[] = [0, 1].map((i) => ({ id: `${video.id}:shot:${i}`, videoId: video.id, index: i, start: i * 4, end: i * 4 + 4, keyframeTime: i * 4 + 2, transition: i ? 'CUT' : 'START' }));
    await store.catalog.replaceStructure(video.id, shots, shots.map((s) => ({ id: `${video.id}:seg:${s.index}`, videoId: video.id, index: s.index, shotIndex: s.index, start: s.start, end: s.end, keyframeTime: s.keyframeTime })));
    return { video, store, media: testTools, config: loadConfig({}), log: pino({ level: 'silent' }), signal: new AbortController().signal, reportProgress: () => undefined };
  }

  const SKIN: [number, number, number] = [224, 172, 150];
  function flatFrame(time: number, rgb: [number, number, number]): RawFrame {
    const data = Buffer.alloc(32 * 32 * 3);
    for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
    return { time, width: 32, height: 32, data } as RawFrame;
  }

  it('weighs Porn by skin outside faces: a face filling the frame is no evidence, bare skin beyond it is', async () => {
    const ctx = await syntheticContext();
    const frames = [0.5, 1.5, 2.5, 4.5, 5.5, 6.5].map((t) => flatFrame(t, SKIN));
    const porn: NsfwScores = { Drawing: 0.01, Hentai: 0.01, Neutral: 0.03, Porn: 0.9, Sexy: 0.05 };
    const faceChecks: number[] = [];
    const stage = createNsfwStage({
      classifier: async () => ({ modelId: 'fake', classify: async (images) => images.map(() => porn) }),
      keyframes: async function* () {
        yield* frames;
      },
      frameAt: () => Promise.reject(new Error('not needed')),
      // Segment 0: the whole frame is one face (a close-up); segment 1: no face at all.
      faceBoxes: async (_ctx, image) => {
        faceChecks.push(image.width);
        return faceChecks.length <= 3 ? [{ x: 4, y: 2, width: 24, height: 14 }] : [];
      },
    });
    const output = await stage.run(ctx, {});
    expect(output).toMatchObject({ frames: 6, skinChecked: 6, flags: 1 });
    const risks = await store.technical.getVisualFlags(ctx.video.id);
    expect(risks.filter((r) => r.flagged).map((r) => [r.segmentId, r.label])).toEqual([[`${ctx.video.id}:seg:1`, 'PORN']]);
    expect(risks.find((r) => r.segmentId === `${ctx.video.id}:seg:0` && r.label === 'PORN')).toBeUndefined();
  });

  it('counts every skin pixel when the face detector is unavailable (errs towards flagging)', async () => {
    const ctx = await syntheticContext();
    const porn: NsfwScores = { Drawing: 0.01, Hentai: 0.01, Neutral: 0.03, Porn: 0.9, Sexy: 0.05 };
    const stage = createNsfwStage({
      classifier: async () => ({ modelId: 'fake', classify: async (images) => images.map(() => porn) }),
      keyframes: async function* () {
        yield* [0.5, 1.5].map((t) => flatFrame(t, SKIN));
      },
      frameAt: (_ctx, time) => Promise.resolve(flatFrame(time, [128, 128, 128])),
      faceBoxes: () => Promise.reject(new Error('no face model')),
    });
    const output = await stage.run(ctx, {});
    expect(output.flags).toBe(1);
  });
});
