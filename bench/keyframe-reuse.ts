// Does a picture that nearly repeats an earlier one (repeated-keyframes.ts: the 2 % block test,
// taken over from the OCR band, not fitted here) detect the same objects? Every video of the
// chosen ../shared/data folders is sampled at 1 fps at the objects stage's 640 px; each frame
// that the test calls a repeat of an earlier frame of the same video is run through CenterNet
// anyway, and its label set is compared with the earlier frame's (what the objects stage would
// have reused). One JSON line: frames, repeats, repeats with other labels, examples.
//   node dist/bench/keyframe-reuse.js [--data ../shared/data]
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { OBJECT_FRAME_WIDTH } from '../src/indexers/objects.js';
import { RepeatedKeyframes, wholeFrameSignature } from '../src/indexers/repeated-keyframes.js';
import { streamFrames } from '../src/media/frames.js';
import { resolveMediaTools } from '../src/media/tools.js';
import { loadObjectDetector } from '../src/models/objects/index.js';

/** Folders with shot changes, cut-backs and near-static talking heads: where reuse would happen. */
const FOLDERS = ['video_blender', 'talking_head/sadtalker', 'talking_head/video_retalking', 'derived/transitions', 'derived/burned_subs', 'video_people/grid_lipnet'];

async function videosIn(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => /\.(mp4|mkv|webm|mov|mpg)$/i.test(n)).sort().map((n) => path.join(dir, n));
}

const { values } = parseArgs({ options: { data: { type: 'string', default: path.resolve('../shared/data') } } });
const tools = resolveMediaTools(loadConfig());
const detector = await loadObjectDetector();
const labelsOf = async (frame: { data: Buffer; width: number; height: number }): Promise<string> =>
  [...new Set((await detector.detect([{ ...frame, channels: 3 }]))[0]!.map((o) => o.label))].sort().join(',');
let frames = 0;
let repeats = 0;
const differing: string[] = [];
for (const folder of FOLDERS) {
  for (const file of await videosIn(path.join(values.data!, folder))) {
    const seen = new RepeatedKeyframes<{ time: number; labels: string }>(128);
    for await (const frame of streamFrames(tools, file, { fps: 1, width: OBJECT_FRAME_WIDTH, pixFmt: 'rgb24' })) {
      frames++;
      const signature = wholeFrameSignature(frame);
      const earlier = seen.find(signature);
      const labels = await labelsOf(frame);
      if (!earlier) {
        seen.add(signature, { time: frame.time, labels });
        continue;
      }
      repeats++;
      if (earlier.labels !== labels) differing.push(`${path.relative(values.data!, file)}@${frame.time.toFixed(1)}s: [${labels}] vs [${earlier.labels}]@${earlier.time.toFixed(1)}s`);
    }
  }
}
console.log(JSON.stringify({ bench: 'keyframe-reuse', frames, repeats, repeatsWithOtherLabels: differing.length, examples: differing.slice(0, 10) }));
