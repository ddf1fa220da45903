// NSFW picture classifier: nsfwjs's MobileNetV2 (weights bundled in the npm package, no
// download), converted to ONNX at load and run on ONNX Runtime. Five classes per picture:
// Drawing, Hentai, Neutral, Porn, Sexy. MobileNetV2 rather than InceptionV3 (~4× the cost, +4
// points in the seed article): the pipeline runs on 2 CPU cores, and keyframes are many.
import { loadNsfwjsMobileNet, NSFWJS_INPUT } from '../nsfwjs-mobilenet.js';
import type { RawImage } from '../types.js';

export const NSFW_CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] as const;
export type NsfwClass = (typeof NSFW_CLASSES)[number];
export type NsfwScores = Record<NsfwClass, number>;

export interface NsfwClassifier {
  readonly modelId: string;
  /** Class probabilities per picture (any size; squashed to the network's 224×224 input). */
  classify(images: readonly RawImage[]): Promise<NsfwScores[]>;
}

const INPUT = NSFWJS_INPUT;

/** Nearest-neighbour squash to 224×224 RGB scaled to 0..1, as nsfwjs feeds its network. */
function toInput(image: RawImage): Float32Array {
  const out = new Float32Array(INPUT * INPUT * 3);
  for (let y = 0; y < INPUT; y++) {
    const sy = Math.min(image.height - 1, Math.floor(((y + 0.5) * image.height) / INPUT));
    for (let x = 0; x < INPUT; x++) {
      const sx = Math.min(image.width - 1, Math.floor(((x + 0.5) * image.width) / INPUT));
      const s = (sy * image.width + sx) * image.channels;
      const o = (y * INPUT + x) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = image.data[s + (image.channels === 3 ? c : 0)]! / 255;
    }
  }
  return out;
}

/** The shared classifier (loaded once per process; a failed load is retried on the next call). */
export async function loadNsfwClassifier(): Promise<NsfwClassifier> {
  const model = await loadNsfwjsMobileNet();
  return {
    modelId: 'nsfwjs-4.3-mobilenetv2-224',
    async classify(images) {
      const outputs = await model.infer(images.map(toInput));
      return outputs.map(({ probabilities }) => Object.fromEntries(NSFW_CLASSES.map((c, i) => [c, probabilities[i]!])) as NsfwScores);
    },
  };
}
