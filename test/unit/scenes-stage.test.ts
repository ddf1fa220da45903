// The scenes stage on real decoded media (ffmpeg lavfi clips): a bright moving pattern with a
// pure tone vs a black, silent picture. The HEURISTIC tags must follow what was generated.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createScenesStage } from '../../src/indexers/scenes.js';
import type { StageContext } from '../../src/indexers/stage.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { makeVideo } from '../helpers/fake-store.js';
import { makeTempDir, runFfmpeg, testTools } from '../helpers/media.js';

let temp: { dir: string; cleanup(): Promise<void> };
let store: Store;

beforeAll(async () => {
  temp = await makeTempDir('vidsearch-scenes-');
  store = await openEmbeddedStore(temp.dir);
  await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:duration=4', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=4', '-shortest', '-pix_fmt', 'yuv420p', `${temp.dir}/lively.mp4`]);
  await runFfmpeg(['-f', 'lavfi', '-i', 'color=black:size=320x240:rate=10:duration=4', '-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono', '-t', '4', '-pix_fmt', 'yuv420p', `${temp.dir}/still.mp4`]);
}, 60_000);

afterAll(async () => {
  await store.close();
  await temp.cleanup();
});

async function tagsOf(file: string): Promise<string[]> {
  const video = makeVideo({ path: `${temp.dir}/${file}`, durationSec: 4, width: 320, height: 240, hasAudio: true });
  await store.catalog.putVideo(video);
  await store.catalog.replaceStructure(
    video.id,
    [{ id: `${video.id}:shot:0`, videoId: video.id, index: 0, start: 0, end: 4, keyframeTime: 2, transition: 'START' }],
    [{ id: `${video.id}:seg:0`, videoId: video.id, index: 0, shotIndex: 0, start: 0, end: 4, keyframeTime: 2 }],
  );
  const ctx: StageContext = { video, store, media: testTools, config: loadConfig({}), log: pino({ level: 'silent' }), signal: new AbortController().signal, reportProgress: () => undefined };
  const output = await createScenesStage().run(ctx, {});
  expect(output.skippedAudio).toBeNull();
  expect(output.segments).toHaveLength(1);
  return (await store.tags.getTagsOfVideo(video.id)).map((t) => `${t.kind}:${t.label}`);
}

describe('scenes stage on generated media', () => {
  it('hears a tone as music and sees a moving bright pattern as day with motion', async () => {
    const tags = await tagsOf('lively.mp4');
    expect(tags).toEqual(expect.arrayContaining(['SCENE:music', 'SCENE:day', 'SCENE:wide-shot']));
    expect(tags.some((t) => t === 'SCENE:motion-medium' || t === 'SCENE:motion-high')).toBe(true);
    expect(tags).not.toContain('SCENE:dialogue');
  }, 120_000);

  it('finds a black, silent picture still, silent, dark and calm', async () => {
    const tags = await tagsOf('still.mp4');
    expect(tags).toEqual(expect.arrayContaining(['SCENE:silence', 'SCENE:night', 'SCENE:motion-low', 'MOOD:calm']));
  }, 120_000);
});
