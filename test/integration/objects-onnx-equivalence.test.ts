// The ONNX CenterNet (converted from Human's tfjs graph model, run on ONNX Runtime) against Human
// on tfjs WASM — what the objects stage ran before — on real keyframes: the same labels, boxes
// with IoU ≥ 0.95 and scores within 0.011 (Human truncates scores to hundredths, so raw scores
// a hair apart can print 0.01 apart). A detection present on one side only must sit at the
// score threshold, where such a hair decides. Frames: shot-like moments of ../shared/data clips
// at the stage's 640-pixel keyframe width, and screenshot queries at their own size.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadObjectDetector } from '../../src/models/objects/index.js';
import { HUMAN_NMS_OPTIONS } from '../../src/models/objects/centernet-decode.js';
import { DEFAULT_OBJECT_OPTIONS, type DetectedObject } from '../../src/models/objects/detector.js';
import type { RawImage } from '../../src/models/types.js';
import { humanCenterNet } from '../helpers/human-centernet.js';
import { testTools } from '../helpers/media.js';
import { sharedData } from '../helpers/shared-data.js';

const run = promisify(execFile);
const clips = [
  { file: sharedData('video_blender/clip_01_tears_of_steel.mp4'), times: [1, 4, 7, 9.5] },
  { file: sharedData('video_blender/clip_03_sintel.mp4'), times: [2, 5, 8] },
];
const screenshots = ['q000.jpg', 'q003.jpg', 'q012.jpg'].map((name) => sharedData(`derived/screenshot_queries/${name}`));
const available = clips.every((c) => c.file) && screenshots.every(Boolean);

async function keyframe(file: string, time: number, width = 640): Promise<RawImage> {
  const { stdout } = await run(
    testTools.ffmpeg,
    ['-hide_banner', '-loglevel', 'error', '-ss', String(time), '-i', file, '-frames:v', '1', '-vf', `scale=${width}:-2`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  const { stdout: probe } = await run(testTools.ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file]);
  const [w, h] = probe.trim().split(',').map(Number) as [number, number];
  const height = 2 * Math.round((h * width) / w / 2);
  expect(stdout.length).toBe(width * height * 3);
  return { data: new Uint8Array(stdout), width, height, channels: 3 };
}

function iou(a: DetectedObject['box'], b: DetectedObject['box']): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const union = a.width * a.height + b.width * b.height - w * h;
  return union > 0 ? (w * h) / union : 1;
}

/** Pairs each reference detection with the best same-label ONNX one; returns what stays unpaired. */
function compare(reference: DetectedObject[], candidate: DetectedObject[]): { paired: number; unpaired: DetectedObject[] } {
  const left = [...candidate];
  const unpaired: DetectedObject[] = [];
  let paired = 0;
  for (const ref of reference) {
    const match = left.filter((c) => c.label === ref.label).sort((a, b) => iou(b.box, ref.box) - iou(a.box, ref.box))[0];
    if (match && iou(match.box, ref.box) >= 0.95 && Math.abs(match.score - ref.score) <= 0.011) {
      left.splice(left.indexOf(match), 1);
      paired += 1;
    } else unpaired.push(ref);
  }
  return { paired, unpaired: [...unpaired, ...left] };
}

describe.skipIf(!available)('CenterNet on ONNX Runtime against Human on tfjs', () => {
  it('finds the same objects in the same boxes on real keyframes, one at a time and batched', async () => {
    const frames = [
      ...(await Promise.all(clips.flatMap((c) => c.times.map((t) => keyframe(c.file!, t))))),
      ...(await Promise.all(
        screenshots.map(async (file) => {
          const { data, info } = await sharp(file!).removeAlpha().raw().toBuffer({ resolveWithObject: true });
          return { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 as const };
        }),
      )),
    ];
    // The stage's settings, and Human's own floor (every detection Human reports, up to its 50).
    for (const options of [DEFAULT_OBJECT_OPTIONS, { minScore: HUMAN_NMS_OPTIONS.minConfidence, maxObjects: HUMAN_NMS_OPTIONS.maxDetected }]) {
      const detector = await loadObjectDetector(options);
      const batched = await detector.detect(frames);
      let paired = 0;
      for (const [i, frame] of frames.entries()) {
        const reference = await humanCenterNet(frame, options);
        const [single] = await detector.detect([frame]);
        expect(single).toEqual(batched[i]);
        const result = compare(reference, single!);
        paired += result.paired;
        for (const odd of result.unpaired) expect(Math.abs(odd.score - options.minScore), `frame ${i}: ${JSON.stringify(odd)}`).toBeLessThanOrEqual(0.011);
      }
      // The frames hold people, cars and furniture: a comparison of empty lists proves nothing.
      expect(paired).toBeGreaterThanOrEqual(options.minScore < 0.3 ? 40 : 5);
    }
  }, 300_000);
});
