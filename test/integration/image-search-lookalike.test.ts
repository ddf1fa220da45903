// Image search on look-alike clips (issue 18's failure classes, on fit-half videos of
// test/fixtures/image-search-lookalike.json): three GRID clips (one studio, backdrop and framing,
// different people) indexed by the `frames` stage into a real embedded store; the screenshots are
// built by construction (src/eval/image-queries.ts, cached in os.tmpdir()).
// - Mirrored: the upright screenshot matches the true clip only on its symmetric backdrop and
//   face (31 inliers before, enough to pass as certain, at the wrong moment); the mirrored
//   match is several times stronger.
// - 70 % crop: a look-alike clip's backdrop gave 22 inliers and ended the cascade before the
//   true clip, one candidate further, was matched.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedQuery, type QueryTransform } from '../../src/eval/image-queries.js';
import { createFramesStage } from '../../src/indexers/frames.js';
import type { MediaTools } from '../../src/media/tools.js';
import { OrbMatcher } from '../../src/models/image-descriptors/local-features.js';
import { MobileNetDescriptor } from '../../src/models/image-descriptors/mobilenet.js';
import { createImageSearchService, ffmpegFrameSource, type ImageSearchService } from '../../src/services/image-search/index.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { sharedData } from '../helpers/shared-data.js';
import { stageContextFor } from '../helpers/stage-context.js';

const clips = ['bbaf2n', 'id2_vcd_swwp2s', 'sbia1a', 'pwij3p'].map((name) => sharedData(`video_people/grid_lipnet/${name}.mpg`));

describe.skipIf(clips.some((c) => c === null))('image search on look-alike clips', () => {
  let dir: string;
  let store: Store;
  let media: MediaTools;
  let service: ImageSearchService;
  const videoIds = new Map<string, string>();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-image-lookalike-'));
    store = await openEmbeddedStore(dir);
    const descriptor = new MobileNetDescriptor();
    for (const clip of clips) {
      const context = await stageContextFor(clip!, store);
      media = context.media;
      await createFramesStage({ descriptor }).run(context, {});
      videoIds.set(clip!, context.video.id);
    }
    service = createImageSearchService({ store, log: pino({ level: 'silent' }), descriptor, matcher: new OrbMatcher(), ...ffmpegFrameSource(media) });
  }, 180_000);

  afterAll(async () => {
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each([
    [0, 0.76, 'hflip'],
    [1, 1.6, 'hflip'],
    [2, 2.16, 'crop70'],
  ] as const)('clip %i at %f s, %s: the right clip and moment, decisively verified', async (clip, time, transform: QueryTransform) => {
    const image = await generatedQuery(media, clips[clip]!, time, transform);
    const [top] = await service.searchByImage({ image, first: 3 });
    expect(top?.video.id).toBe(videoIds.get(clips[clip]!));
    expect(Math.abs(top!.at - time)).toBeLessThanOrEqual(1);
    // Far above what a look-alike's backdrop or a mirrored face's symmetry gives (≤ 31).
    expect(top!.inliers).toBeGreaterThanOrEqual(60);
    expect(top!.similarity).toBeGreaterThan(0.9);
  });
});
