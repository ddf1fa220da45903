// What an object detector returns, and the last step shared by every way of running CenterNet:
// Human's own result (label, score truncated to 0.01, whole-pixel [x, y, w, h] box) filtered by
// score and label and clipped to the picture.
import type { Box, RawImage } from '../types.js';
import { COCO_LABELS_ZH } from './labels.js';

export const CENTERNET_MODEL_ID = 'human-centernet-coco80';

export interface DetectedObject {
  /** Canonical English COCO label. */
  label: string;
  labelZh: string;
  score: number;
  /** In the input image's pixels. */
  box: Box;
}

export interface ObjectDetector {
  readonly modelId: string;
  /** One list per image, in the images' order. */
  detect(images: readonly RawImage[]): Promise<DetectedObject[][]>;
}

export interface ObjectDetectorOptions {
  /** Detections below this score are dropped. */
  minScore: number;
  maxObjects: number;
}

export const DEFAULT_OBJECT_OPTIONS: ObjectDetectorOptions = { minScore: 0.3, maxObjects: 20 };

/** A detection as @vladmandic/human reports it (box [x, y, width, height] in whole frame pixels, best first). */
export interface CenterNetResult {
  label: string;
  score: number;
  box: [number, number, number, number];
}

export function finishDetections(results: readonly CenterNetResult[], image: Pick<RawImage, 'width' | 'height'>, options: ObjectDetectorOptions): DetectedObject[] {
  return results
    .filter((o) => o.score >= options.minScore && o.label in COCO_LABELS_ZH)
    .slice(0, options.maxObjects)
    .map((o) => {
      const [x, y, width, height] = o.box;
      const left = Math.max(0, x);
      const top = Math.max(0, y);
      return {
        label: o.label,
        labelZh: COCO_LABELS_ZH[o.label]!,
        score: o.score,
        box: { x: left, y: top, width: Math.min(image.width, x + width) - left, height: Math.min(image.height, y + height) - top },
      };
    });
}

/** The RGB bytes of an image (grey expanded to three channels). */
export function toRgb(image: RawImage): Uint8Array {
  if (image.channels === 3) return image.data;
  const out = new Uint8Array(image.width * image.height * 3);
  for (let i = 0, o = 0; i < image.width * image.height; i++, o += 3) out[o] = out[o + 1] = out[o + 2] = image.data[i]!;
  return out;
}
