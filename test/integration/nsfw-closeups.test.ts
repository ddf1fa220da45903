// The brand-safety failure class "a talking-head close-up flagged PORN", built from the held-out
// ("report") half of the ../shared face photos (bench/calibration-split.ts; the rule's constants
// were fitted on the other half by bench/nsfw-calibration.ts): each photo becomes one 3 s segment
// of three close-up frames (the centre third of the picture, then shifted as a head moves), run
// through the real nsfw stage (nsfwjs + the face detector's skin gate) on a real store.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrationHalf } from '../../bench/calibration-split.js';
import { loadConfig } from '../../src/config.js';
import type { SegmentRecord, ShotRecord } from '../../src/domain.js';
import { LABEL_LINE } from '../../src/indexers/nsfw-risk.js';
import { createNsfwStage } from '../../src/indexers/nsfw.js';
import type { RawFrame } from '../../src/media/frames.js';
import { loadNsfwClassifier } from '../../src/models/nsfw/index.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { makeVideo } from '../helpers/fake-store.js';
import { makeTempDir, testTools } from '../helpers/media.js';
import { sharedDataDir } from '../helpers/shared-data.js';

const FACE_DIRS = ['faces_deepface', 'faces_pose'];
const SEGMENT_SEC = 3;

function heldOutPhotos(): string[] {
  return FACE_DIRS.flatMap((dir) => {
    const root = path.join(sharedDataDir, dir);
    try {
      return readdirSync(root, { recursive: true, encoding: 'utf8' })
        .filter((f) => /\.(jpe?g|png)$/i.test(f))
        .map((f) => path.join(root, f))
        .filter((f) => calibrationHalf(path.relative(sharedDataDir, f)) === 'report')
        .sort();
    } catch {
      return [];
    }
  });
}

/** Three close-up frames of a photo: its centre third, then moved left/down by a tenth of it. */
async function closeUpFrames(file: string, start: number): Promise<RawFrame[]> {
  const { width = 0, height = 0 } = await sharp(file).metadata();
  const side = { width: Math.round(width / 3), height: Math.round(height / 3) };
  const shifts = [0, -0.1, 0.1];
  return Promise.all(
    shifts.map(async (shift, i) => {
      const left = Math.round(width / 3 + shift * side.width);
      const top = Math.round(height / 3 + Math.abs(shift) * side.height);
      const { data, info } = await sharp(file).extract({ left, top, ...side }).removeAlpha().resize(256, 256, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
      return { time: start + 0.5 + i, data, width: info.width, height: info.height };
    }),
  );
}

describe('talking-head close-ups (held-out face photos)', () => {
  const photos = heldOutPhotos();
  let temp: { dir: string; cleanup(): Promise<void> };
  let store: Store;

  beforeAll(async () => {
    temp = await makeTempDir('vidsearch-nsfw-closeups-');
    store = await openEmbeddedStore(temp.dir);
  });

  afterAll(async () => {
    await store?.close();
    await temp?.cleanup();
  });

  it('flags none of them, though the raw per-frame rule would', async () => {
    if (photos.length === 0) return console.warn('[nsfw-closeups] ../shared/data face photos absent: skipped');
    const video = makeVideo({ path: '/closeups.mp4', durationSec: photos.length * SEGMENT_SEC });
    const shots: ShotRecord[] = photos.map((_, i) => ({ id: `${video.id}:shot:${i}`, videoId: video.id, index: i, start: i * SEGMENT_SEC, end: (i + 1) * SEGMENT_SEC, keyframeTime: i * SEGMENT_SEC + 1.5, transition: i ? 'CUT' : 'START' }));
    const segments: SegmentRecord[] = shots.map((s) => ({ id: `${video.id}:seg:${s.index}`, videoId: video.id, index: s.index, shotIndex: s.index, start: s.start, end: s.end, keyframeTime: s.keyframeTime }));
    await store.catalog.putVideo(video);
    await store.catalog.replaceStructure(video.id, shots, segments);
    const frames = (await Promise.all(photos.map((file, i) => closeUpFrames(file, i * SEGMENT_SEC)))).flat();

    // The first rule: a segment flagged when any one frame passes a label's line.
    const classifier = await loadNsfwClassifier();
    const scores = await classifier.classify(frames.map((f) => ({ data: f.data, width: f.width, height: f.height, channels: 3 })));
    const rawFlagged = new Set(scores.flatMap((s, i) => (s.Porn >= LABEL_LINE.PORN || s.Sexy >= LABEL_LINE.SEXY || s.Hentai >= LABEL_LINE.HENTAI ? [Math.floor(i / 3)] : [])));

    const stage = createNsfwStage({ keyframes: async function* () { yield* frames; }, frameAt: () => Promise.reject(new Error('every segment has frames')) });
    const ctx = { video, store, media: testTools, config: loadConfig({}), log: pino({ level: 'silent' }), signal: new AbortController().signal, reportProgress: () => undefined };
    const output = await stage.run(ctx, {});
    console.log(`[nsfw-closeups] ${photos.length} held-out photos → ${frames.length} close-up frames; raw rule flags ${rawFlagged.size} segments, the stage ${output.flags} (skin checked on ${output.skinChecked})`);
    expect(rawFlagged.size).toBeGreaterThan(0);
    expect(output.flags).toBe(0);
  }, 180_000);
});
