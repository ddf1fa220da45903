// Image search on a real clip: the `frames` stage indexes ../shared/data's Tears of Steel clip
// into a real embedded store, then screenshots from image-search-hard.json (mirrored, cropped,
// pasted into a player page, clean) go through the searchByImage service.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFramesStage, FRAME_COLLECTION, FRAME_COMPACT_COLLECTION } from '../../src/indexers/frames.js';
import { OrbMatcher } from '../../src/models/image-descriptors/local-features.js';
import { MobileNetDescriptor } from '../../src/models/image-descriptors/mobilenet.js';
import { createImageSearchService, ffmpegFrameSource, type ImageSearchService } from '../../src/services/image-search/index.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { sharedData } from '../helpers/shared-data.js';
import { stageContextFor } from '../helpers/stage-context.js';

const clip = sharedData('video_blender/clip_01_tears_of_steel.mp4');
const manifestFile = sharedData('image-search-hard.json');

interface Query {
  image: string;
  video: string;
  time: number;
  transform: string;
}

describe.skipIf(!clip || !manifestFile)('image search on a real clip', () => {
  let dir: string;
  let store: Store;
  let service: ImageSearchService;
  let videoId: string;
  let queries: Query[];
  /**
   * ffmpeg windows read at a sampling rate (verification's, localisation's fallback): none, the
   * index stored what they need. The moment's refinement reads every frame of the 24 fps clip (no fps) by design.
   */
  let ffmpegWindows = 0;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-image-search-'));
    store = await openEmbeddedStore(dir);
    const context = await stageContextFor(clip!, store);
    const media = context.media;
    videoId = context.video.id;
    const descriptor = new MobileNetDescriptor();
    const output = await createFramesStage({ descriptor }).run(context, {});
    expect(output.kept).toBeGreaterThan(5);
    expect(await store.vectors.count(FRAME_COLLECTION)).toBe(output.kept);
    // The first stage scans the compact copies: one per kept frame.
    expect(await store.vectors.count(FRAME_COMPACT_COLLECTION)).toBe(output.kept);
    const ffmpeg = ffmpegFrameSource(media);
    service = createImageSearchService({
      store,
      log: pino({ level: 'silent' }),
      descriptor,
      matcher: new OrbMatcher(),
      ...ffmpeg,
      readFrames: (v, opts) => {
        if (opts.fps !== undefined) ffmpegWindows++;
        return ffmpeg.readFrames(v, opts);
      },
    });
    const manifest = JSON.parse(await readFile(manifestFile!, 'utf8')) as { queries: Query[] };
    queries = manifest.queries.filter((q) => q.video === 'tears_of_steel');
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function search(transform: string, method: 'full' | 'colorlayout' = 'full') {
    const query = queries.find((q) => q.transform === transform)!;
    const image = await readFile(path.resolve(path.dirname(manifestFile!), query.image));
    return { query, matches: await service.searchByImage({ image, first: 5 }, { method }) };
  }

  it.each(['clean', 'hflip', 'crop70', 'pip_ui'])('finds the %s screenshot within 1 s, verified', async (transform) => {
    const { query, matches } = await search(transform);
    const [top] = matches;
    expect(top?.video.id).toBe(videoId);
    expect(Math.abs(top!.at - query.time)).toBeLessThanOrEqual(1);
    expect(top!.inliers).toBeGreaterThanOrEqual(10);
    expect(top!.from).toBeLessThanOrEqual(top!.at);
    expect(top!.to).toBeGreaterThanOrEqual(top!.at);
    expect(ffmpegWindows).toBe(0);
  });

  it('the ColorLayout baseline finds the clean screenshot but not the mirrored one', async () => {
    const clean = await search('clean', 'colorlayout');
    expect(Math.abs(clean.matches[0]!.at - clean.query.time)).toBeLessThanOrEqual(1);
    const mirrored = await search('hflip', 'colorlayout');
    const mirroredRight = mirrored.matches[0] && Math.abs(mirrored.matches[0].at - mirrored.query.time) <= 1;
    const full = await search('hflip');
    expect(full.matches[0]!.similarity).toBeGreaterThan(0.5);
    expect(mirroredRight && mirrored.matches[0]!.similarity > full.matches[0]!.similarity).toBeFalsy();
  });

  it('restricts results to the filter', async () => {
    const query = queries[0]!;
    const image = await readFile(path.resolve(path.dirname(manifestFile!), query.image));
    expect(await service.searchByImage({ image, filter: { videoIds: ['some-other-video'] } })).toEqual([]);
    expect(await service.searchByImage({ image, filter: { series: 'no such series' } })).toEqual([]);
  });
});
