// Visual moderation: per-segment flags from scored keyframes (thresholds, evidence, segment
// membership), the stage's fallback to shot keyframes and its skip when the model is missing, and
// the real nsfwjs MobileNetV2 on real footage from ../shared/data (an action film clip: no flag).
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { SegmentRecord, ShotRecord } from '../../src/domain.js';
import { createNsfwStage, shotsWithoutFrames, visualFlags, type ScoredFrame } from '../../src/indexers/nsfw.js';
import type { StageContext } from '../../src/indexers/stage.js';
import { probeMedia } from '../../src/media/probe.js';
import type { NsfwScores } from '../../src/models/nsfw/index.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { makeVideo } from '../helpers/fake-store.js';
import { makeTempDir, testTools } from '../helpers/media.js';
import { sharedData } from '../helpers/shared-data.js';

const neutral: NsfwScores = { Drawing: 0.02, Hentai: 0.01, Neutral: 0.9, Porn: 0.02, Sexy: 0.05 };
const segment = (index: number, start: number, end: number): SegmentRecord => ({ id: `v:seg:${index}`, videoId: 'v', index, shotIndex: index, start, end, keyframeTime: start });

describe('visual flags from scored frames', () => {
  it('flags a segment per label above its threshold, best evidence first', () => {
    const frames: ScoredFrame[] = [
      { time: 0.5, scores: neutral },
      { time: 2.5, scores: { ...neutral, Porn: 0.7, Neutral: 0.2 } },
      { time: 3.5, scores: { ...neutral, Porn: 0.9, Neutral: 0.05 } },
      { time: 5, scores: { ...neutral, Sexy: 0.75 } },
    ];
    const flags = visualFlags('v', [segment(0, 0, 2), segment(1, 2, 4), segment(2, 4, 6)], frames, 'm');
    expect(flags.map((f) => [f.segmentId, f.label, f.score, f.evidenceTimes])).toEqual([['v:seg:1', 'PORN', 0.9, [3.5, 2.5]]]);
  });

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
    expect(await store.technical.getVisualFlags(ctx.video.id)).toEqual([]);
  }, 180_000);
});
