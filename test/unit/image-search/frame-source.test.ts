import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { VideoRecord } from '../../../src/domain.js';
import { greyThumbnail, THUMBNAIL_WIDTH } from '../../../src/models/image-descriptors/grey-thumbnail.js';
import { OrbMatcher } from '../../../src/models/image-descriptors/local-features.js';
import type { RawImage } from '../../../src/models/types.js';
import { createFrameSource } from '../../../src/services/image-search/frame-source.js';
import { phaseClock } from '../../../src/services/image-search/phases.js';
import type { PhaseTimings } from '../../../src/services/image-search/types.js';
import { FakeFrameEvidenceRepository } from '../../helpers/fake-frame-evidence.js';

/** A 320×180 RGB frame with a horizontal ramp and a bright square at `x`. */
function frame(x: number): RawImage {
  const width = 320;
  const height = 180;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < width; i++) {
      const inSquare = i >= x && i < x + 40 && y >= 60 && y < 100;
      data.fill(inSquare ? 250 : Math.round((i / width) * 120), (y * width + i) * 3, (y * width + i) * 3 + 3);
    }
  }
  return { data, width, height, channels: 3 };
}

const video = { id: 'v1' } as VideoRecord;
const noFrames = async function* () {};

describe('frame source thumbnails', () => {
  it('uses the thumbnails the index stored, decoding no JPEG; frames of older indexes get theirs from the JPEG', async () => {
    const evidence = new FakeFrameEvidenceRepository();
    const picture = await sharp(frame(200).data, { raw: { width: 320, height: 180, channels: 3 } }).jpeg().toBuffer();
    const stored = await greyThumbnail(frame(40));
    await evidence.add('v1', 'm', [
      // Not a JPEG: decoding it would throw, so the stored thumbnail must be what comes back.
      { time: 1, picture: Uint8Array.of(1, 2, 3), features: new Uint8Array(0), repeat: false, thumbnail: stored },
      { time: 1.5, picture, features: new Uint8Array(0), repeat: false },
    ]);
    const source = createFrameSource({ frameEvidence: evidence }, 'm', new OrbMatcher(), { readFrames: noFrames, readThumbnails: noFrames });
    const phases: PhaseTimings = {};
    const [first, second] = await source.thumbnails(video, 0, 2, phaseClock(phases));
    expect(first!.grey).toBe(stored.grey);
    expect([second!.width, second!.height]).toEqual([THUMBNAIL_WIDTH, 90]);
    // The decoded one shows its square where the frame had it (x 200–240 → 100–120 at half size).
    expect(second!.grey[40 * THUMBNAIL_WIDTH + 110]).toBeGreaterThan(230);
    expect(second!.grey[40 * THUMBNAIL_WIDTH + 30]).toBeLessThan(40);
    expect(phases.localiseRead?.calls).toBe(1);
  });

  it('computes a frame’s thumbnail at half the sampled width with the query’s grey weights', async () => {
    const thumb = await greyThumbnail(frame(0));
    expect([thumb.width, thumb.height, thumb.grey.length]).toEqual([160, 90, 160 * 90]);
    expect(thumb.grey[40 * 160 + 10]).toBeGreaterThan(240);
    expect(Math.abs(thumb.grey[10 * 160 + 120]! - (240 / 320) * 120)).toBeLessThan(3);
  });

  it('reads every frame of the media to refine the moment, at most 30 per second of it', async () => {
    const asked: (number | undefined)[] = [];
    const { grey, width, height } = await greyThumbnail(frame(40));
    const readThumbnails = async function* (_video: VideoRecord, opts: { start: number; end: number; fps?: number }) {
      asked.push(opts.fps);
      const fps = opts.fps ?? 25;
      for (let i = 0; opts.start + i / fps <= opts.end + 1e-9; i++) yield { time: opts.start + i / fps, data: grey, width, height };
    };
    const source = createFrameSource({ frameEvidence: new FakeFrameEvidenceRepository() }, 'm', new OrbMatcher(), { readFrames: noFrames, readThumbnails });
    const phases: PhaseTimings = {};
    const at25 = await source.decodedThumbnails({ id: 'v25', fps: 25 } as VideoRecord, [{ start: 1, end: 2 }], phaseClock(phases));
    const at60 = await source.decodedThumbnails({ id: 'v60', fps: 60 } as VideoRecord, [{ start: 1, end: 2 }], phaseClock(phases));
    expect(asked).toEqual([undefined, 30]);
    expect(at25).toHaveLength(26);
    expect(at60).toHaveLength(31);
    expect(at60[0]!.width).toBe(THUMBNAIL_WIDTH);
    expect(phases.refineDecode!.calls).toBe(2);
  });

  it('decodes several windows in one timed call, their frames in window order', async () => {
    const { grey, width, height } = await greyThumbnail(frame(40));
    const readThumbnails = async function* (_video: VideoRecord, opts: { start: number; end: number }) {
      // The later window's frames come first: order must not depend on which run finishes first.
      await new Promise((resolve) => setTimeout(resolve, opts.start < 5 ? 30 : 0));
      for (let t = opts.start; t <= opts.end + 1e-9; t += 0.25) yield { time: t, data: grey, width, height };
    };
    const source = createFrameSource({ frameEvidence: new FakeFrameEvidenceRepository() }, 'm', new OrbMatcher(), { readFrames: noFrames, readThumbnails });
    const phases: PhaseTimings = {};
    const frames = await source.decodedThumbnails({ id: 'v', fps: 25 } as VideoRecord, [{ start: 1, end: 2 }, { start: 6, end: 7 }], phaseClock(phases));
    expect(frames.map((f) => f.time)).toEqual([1, 1.25, 1.5, 1.75, 2, 6, 6.25, 6.5, 6.75, 7]);
    expect(phases.refineDecode!.calls).toBe(1);
  });
});
