// PP-OCRv4 DB text detector: the image is scaled to multiples of 32 inside a pixel budget, the
// model returns a text-probability map, and geometry.ts turns its regions into rotated line boxes
// that are cut out upright for the recogniser.
import sharp from 'sharp';
import { loadManifestSession, ort } from '../runtime.js';
import type { RawImage } from '../types.js';
import { connectedRegions, cropQuad, minAreaRect, readingQuad, unclip } from './geometry.js';
import type { DetectedText, Quad, ReadOptions, TextCrop, TextDetector } from './types.js';

export interface DbDetectorOptions {
  /** Longest side of the model input; larger images are scaled down (PaddleOCR's default 960). */
  maxSide: number;
  /** Pixel budget of the model input, so a huge frame cannot blow up memory or time. */
  maxPixels: number;
  /** Shortest side of the model input; tiny images are scaled up so small glyphs survive. */
  minSide: number;
  /** Map threshold for text pixels. */
  binaryThreshold: number;
  /** Mean probability a region needs to count as a line. */
  boxThreshold: number;
  unclipRatio: number;
  /** Boxes thinner than this (input pixels) are noise. */
  minBoxSide: number;
}

export const DEFAULT_DB_OPTIONS: DbDetectorOptions = {
  maxSide: 960,
  maxPixels: 960 * 960,
  minSide: 64,
  binaryThreshold: 0.3,
  boxThreshold: 0.6,
  unclipRatio: 1.5,
  minBoxSide: 3,
};

// PaddleOCR normalises det input with ImageNet statistics in BGR channel order.
const MEAN_BGR = [0.485, 0.456, 0.406] as const;
const STD_BGR = [0.229, 0.224, 0.225] as const;

/** The model input's sides are multiples of this (the network's downsampling). */
export const DETECTION_STRIDE = 32;

/** The model input size for an image: multiples of 32, within the side limits and pixel budget. */
export function detectionInputSize(width: number, height: number, options: DbDetectorOptions): { width: number; height: number } {
  let scale = Math.min(1, options.maxSide / Math.max(width, height));
  if (Math.min(width, height) * scale < options.minSide) scale = options.minSide / Math.min(width, height);
  if (width * height * scale * scale > options.maxPixels) scale = Math.sqrt(options.maxPixels / (width * height));
  const round32 = (v: number): number => Math.max(DETECTION_STRIDE, Math.round(v / DETECTION_STRIDE) * DETECTION_STRIDE);
  return { width: round32(width * scale), height: round32(height * scale) };
}

async function toDetectionTensor(image: RawImage, width: number, height: number): Promise<ort.Tensor> {
  const { data } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .resize(width, height, { fit: 'fill' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const channels = data.length / (width * height);
  const plane = width * height;
  const tensor = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    const r = data[i * channels]!;
    const g = channels === 1 ? r : data[i * channels + 1]!;
    const b = channels === 1 ? r : data[i * channels + 2]!;
    tensor[i] = (b / 255 - MEAN_BGR[0]) / STD_BGR[0];
    tensor[plane + i] = (g / 255 - MEAN_BGR[1]) / STD_BGR[1];
    tensor[2 * plane + i] = (r / 255 - MEAN_BGR[2]) / STD_BGR[2];
  }
  return new ort.Tensor('float32', tensor, [1, 3, height, width]);
}

export class DbTextDetector implements TextDetector {
  readonly modelId = 'ppocrv4-det';

  constructor(private readonly options: DbDetectorOptions = DEFAULT_DB_OPTIONS) {}

  /** The limits of one look: the detector's own, or smaller when the caller asks. */
  private limits(options: ReadOptions): DbDetectorOptions {
    const side = options.detectMaxSide;
    if (side === undefined || side >= this.options.maxSide) return this.options;
    return { ...this.options, maxSide: side, maxPixels: Math.min(this.options.maxPixels, side * side) };
  }

  /** The model's text-probability map of `image` seen within `limits`, and the input size it is on. */
  private async probabilityMap(image: RawImage, limits: DbDetectorOptions): Promise<{ probability: Float32Array; width: number; height: number }> {
    const session = await loadManifestSession(this.modelId);
    const input = detectionInputSize(image.width, image.height, limits);
    const tensor = await toDetectionTensor(image, input.width, input.height);
    const output = (await session.run({ [session.inputNames[0]!]: tensor }))[session.outputNames[0]!]!;
    return { probability: output.data as Float32Array, ...input };
  }

  /**
   * Whether a smaller look (`side` pixels long) sees any pixel of text at all: the map above the
   * threshold anywhere, even in a region too weak or small to be a box.
   */
  private async textSeen(image: RawImage, side: number): Promise<boolean> {
    const { probability } = await this.probabilityMap(image, this.limits({ detectMaxSide: side }));
    for (let i = 0; i < probability.length; i++) if (probability[i]! > this.options.binaryThreshold) return true;
    return false;
  }

  /** Line boxes in image pixels, without cutting them out. */
  async detectBoxes(image: RawImage, options: ReadOptions = {}): Promise<DetectedText[]> {
    if (image.width < 4 || image.height < 4) return [];
    const limits = this.limits(options);
    const presence = options.presenceMaxSide;
    if (presence !== undefined && presence < limits.maxSide && !(await this.textSeen(image, presence))) return [];
    const { probability, width, height } = await this.probabilityMap(image, limits);
    const scaleX = image.width / width;
    const scaleY = image.height / height;
    const boxes: DetectedText[] = [];
    for (const region of connectedRegions(probability, width, height, this.options.binaryThreshold)) {
      if (region.meanProbability < this.options.boxThreshold) continue;
      const kernel = minAreaRect(region.outline);
      if (Math.min(kernel.length, kernel.breadth) < this.options.minBoxSide) continue;
      const line = unclip(kernel, this.options.unclipRatio);
      // Corners may lie a little outside the image after unclip; cropQuad repeats edge pixels there.
      const quad = readingQuad(line).map(([x, y]) => [x * scaleX, y * scaleY]) as Quad;
      boxes.push({ quad, score: region.meanProbability });
    }
    return boxes;
  }

  async detect(image: RawImage, options: ReadOptions = {}): Promise<TextCrop[]> {
    const boxes = await this.detectBoxes(image, options);
    return boxes.map((detection) => ({ detection, image: cropQuad(image, detection.quad) }));
  }
}
