// PP-OCRv4 line recogniser (SVTR + CTC) with the PP-OCR angle classifier in front: crops are
// checked for 180° flips, scaled to 48 pixels high, read one by one, and decoded greedily
// with the dictionary shipped beside the model.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { loadManifestSession, ort, verifiedManifestModelPath } from '../runtime.js';
import type { RawImage } from '../types.js';
import { rotate180 } from './geometry.js';
import type { RecognizedText, TextRecognizer } from './types.js';

const REC_HEIGHT = 48;
/** PaddleOCR pads a batch to at least this width (its training shape 48×320). */
const REC_MIN_WIDTH = 320;
/** Longest line we feed at once; longer crops are squeezed (a 1080p frame's full width at 48 px). */
const REC_MAX_WIDTH = 2400;
const CLS_WIDTH = 192;
/** PaddleOCR flips a line only when the classifier is this sure it is upside down. */
const CLS_FLIP_THRESHOLD = 0.9;
const CLS_BATCH_SIZE = 6;

let dictionary: Promise<string[]> | null = null;

/** CTC labels: index 0 is the blank, then the dictionary, then the space the model was trained with. */
function loadDictionary(): Promise<string[]> {
  dictionary ??= (async () => {
    const file = await verifiedManifestModelPath('ppocr-keys-v1');
    const keys = (await readFile(file, 'utf8')).split(/\r?\n/).filter((line, i, all) => line !== '' || i < all.length - 1);
    return ['', ...keys, ' '];
  })();
  dictionary.catch(() => {
    dictionary = null;
  });
  return dictionary;
}

/**
 * Normalised CHW tensor data for one crop scaled to `height` × up to `width`, padded with zeros
 * (grey after normalisation) on the right, as PaddleOCR's resize_norm_img does.
 */
async function lineTensor(image: RawImage, height: number, width: number, target: Float32Array, offset: number): Promise<void> {
  const scaledWidth = Math.max(1, Math.min(width, Math.ceil((height * image.width) / image.height)));
  const { data } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .resize(scaledWidth, height, { fit: 'fill' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const channels = data.length / (scaledWidth * height);
  const plane = height * width;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < scaledWidth; x++) {
      const i = (y * scaledWidth + x) * channels;
      const r = data[i]!;
      const g = channels === 1 ? r : data[i + 1]!;
      const b = channels === 1 ? r : data[i + 2]!;
      const o = offset + y * width + x;
      // BGR order, scaled to [-1, 1].
      target[o] = b / 127.5 - 1;
      target[o + plane] = g / 127.5 - 1;
      target[o + 2 * plane] = r / 127.5 - 1;
    }
  }
}

/** Greedy CTC: best label per time step, repeats merged, blanks dropped. */
export function ctcGreedyDecode(probabilities: Float32Array, steps: number, classes: number, labels: readonly string[], offset = 0): { text: string; score: number } {
  let text = '';
  let scoreSum = 0;
  let count = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const base = offset + t * classes;
    let best = 0;
    let bestProbability = probabilities[base]!;
    for (let c = 1; c < classes; c++) {
      const p = probabilities[base + c]!;
      if (p > bestProbability) {
        bestProbability = p;
        best = c;
      }
    }
    if (best !== 0 && best !== previous) {
      text += labels[best] ?? '';
      scoreSum += bestProbability;
      count++;
    }
    previous = best;
  }
  return { text: text.trim(), score: count ? scoreSum / count : 0 };
}

export class CtcTextRecognizer implements TextRecognizer {
  readonly modelId = 'ppocrv4-rec';

  constructor(private readonly useAngleClassifier = true) {}

  /** Which crops are upside down, by the angle classifier. */
  private async upsideDown(crops: readonly RawImage[]): Promise<boolean[]> {
    const session = await loadManifestSession('ppocr-cls-v2');
    const flipped: boolean[] = [];
    for (let start = 0; start < crops.length; start += CLS_BATCH_SIZE) {
      const batch = crops.slice(start, start + CLS_BATCH_SIZE);
      const data = new Float32Array(batch.length * 3 * REC_HEIGHT * CLS_WIDTH);
      for (let i = 0; i < batch.length; i++) await lineTensor(batch[i]!, REC_HEIGHT, CLS_WIDTH, data, i * 3 * REC_HEIGHT * CLS_WIDTH);
      const tensor = new ort.Tensor('float32', data, [batch.length, 3, REC_HEIGHT, CLS_WIDTH]);
      const output = (await session.run({ [session.inputNames[0]!]: tensor }))[session.outputNames[0]!]!.data as Float32Array;
      for (let i = 0; i < batch.length; i++) flipped.push(output[i * 2 + 1]! > CLS_FLIP_THRESHOLD);
    }
    return flipped;
  }

  async recognize(crops: readonly RawImage[]): Promise<RecognizedText[]> {
    if (crops.length === 0) return [];
    const flipped = this.useAngleClassifier ? await this.upsideDown(crops) : crops.map(() => false);
    // The classifier also calls some squeezed long lines upside down; a line it flips is read
    // both ways and the more confident reading wins.
    const turned = crops.flatMap((crop, i) => (flipped[i] ? [rotate180(crop)] : []));
    const readings = await this.read([...crops, ...turned]);
    let next = crops.length;
    return crops.map((_, i) => {
      const asIs = readings[i]!;
      if (!flipped[i]) return { ...asIs, flipped: false };
      const turnedOver = readings[next++]!;
      return turnedOver.score > asIs.score ? { ...turnedOver, flipped: true } : { ...asIs, flipped: false };
    });
  }

  /**
   * CTC decoding of upright crops, one crop per model call, padded to its own width (at least
   * REC_MIN_WIDTH). Not batched: on the 38 line crops of the indexing-real footage's band and
   * keyframe reads (single-threaded sessions, as the pool runs them), a crop cost 100-102 ms CPU
   * alone against 154-160 ms in batches of six of similar aspect, padded to the batch's widest.
   */
  private async read(crops: readonly RawImage[]): Promise<{ text: string; score: number }[]> {
    const labels = await loadDictionary();
    const session = await loadManifestSession(this.modelId);
    const results: { text: string; score: number }[] = [];
    for (const crop of crops) {
      const width = Math.min(REC_MAX_WIDTH, Math.max(REC_MIN_WIDTH, Math.ceil((REC_HEIGHT * crop.width) / crop.height)));
      const data = new Float32Array(3 * REC_HEIGHT * width);
      await lineTensor(crop, REC_HEIGHT, width, data, 0);
      const tensor = new ort.Tensor('float32', data, [1, 3, REC_HEIGHT, width]);
      const output = (await session.run({ [session.inputNames[0]!]: tensor }))[session.outputNames[0]!]!;
      const [, steps, classes] = output.dims as [number, number, number];
      results.push(ctcGreedyDecode(output.data as Float32Array, steps, classes, labels));
    }
    return results;
  }
}
