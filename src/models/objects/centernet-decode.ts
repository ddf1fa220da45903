// CenterNet's decode, as @vladmandic/human 3.x runs it (src/object/centernet.ts and the model's own
// tail): the top-k heatmap peaks become [x1, y1, x2, y2] boxes around their grid cell (cell ×
// stride ∓ the predicted extents, float32 as in the graph), tfjs's non-max suppression keeps the
// best (tf.image.nonMaxSuppressionAsync: greedy, ties to the lower index, IoU ≥ threshold
// suppresses), and Human scales each box to the frame with Math.trunc and truncates the score to
// hundredths. Reproduced step for step so the ONNX path answers what the tfjs path answered.
import type { CenterNetResult } from './detector.js';
import { COCO_LABELS } from './labels.js';

export interface CenterNetGeometry {
  classes: number;
  /** Heatmap width in cells. */
  gridWidth: number;
  /** Input pixels per heatmap cell. */
  stride: number;
  /** Side of the square network input the boxes are measured in. */
  inputSize: number;
}

/** Human's object settings this project runs with (config.object: maxDetected, iouThreshold, minConfidence). */
export interface CenterNetNmsOptions {
  maxDetected: number;
  iouThreshold: number;
  minConfidence: number;
}

export const HUMAN_NMS_OPTIONS: CenterNetNmsOptions = { maxDetected: 50, iouThreshold: 0.4, minConfidence: 0.1 };

/** One image's network outputs: the k best peak scores, their flat heatmap indices (NHWC), and the extents map (H×W×4, NHWC). */
export interface CenterNetPeaks {
  scores: Float32Array;
  indices: Float32Array;
  extents: Float32Array;
}

/** [x1, y1, x2, y2] per peak, float32 like the graph's tail computes them. */
function peakBoxes(peaks: CenterNetPeaks, geometry: CenterNetGeometry): Float32Array {
  const boxes = new Float32Array(peaks.scores.length * 4);
  peaks.indices.forEach((index, i) => {
    const cell = Math.floor(index / geometry.classes);
    const cx = (cell % geometry.gridWidth) * geometry.stride;
    const cy = Math.floor(cell / geometry.gridWidth) * geometry.stride;
    const e = peaks.extents.subarray(cell * 4, cell * 4 + 4);
    boxes.set([cx - e[0]!, cy - e[1]!, cx + e[2]!, cy + e[3]!], i * 4);
  });
  return boxes;
}

/** tfjs's IoU of boxes i and j ([x1, y1, x2, y2] rows; the corner order does not matter). */
function iou(boxes: Float32Array, i: number, j: number): number {
  const [ax1, ay1, ax2, ay2] = [Math.min(boxes[i * 4]!, boxes[i * 4 + 2]!), Math.min(boxes[i * 4 + 1]!, boxes[i * 4 + 3]!), Math.max(boxes[i * 4]!, boxes[i * 4 + 2]!), Math.max(boxes[i * 4 + 1]!, boxes[i * 4 + 3]!)];
  const [bx1, by1, bx2, by2] = [Math.min(boxes[j * 4]!, boxes[j * 4 + 2]!), Math.min(boxes[j * 4 + 1]!, boxes[j * 4 + 3]!), Math.max(boxes[j * 4]!, boxes[j * 4 + 2]!), Math.max(boxes[j * 4 + 1]!, boxes[j * 4 + 3]!)];
  const areaA = (ay2 - ay1) * (ax2 - ax1);
  const areaB = (by2 - by1) * (bx2 - bx1);
  if (areaA <= 0 || areaB <= 0) return 0;
  const inter = Math.max(Math.min(ay2, by2) - Math.max(ay1, by1), 0) * Math.max(Math.min(ax2, bx2) - Math.max(ax1, bx1), 0);
  return inter / (areaA + areaB - inter);
}

/** Greedy NMS as tfjs's nonMaxSuppressionV3Impl with soft-NMS off: indices of the kept boxes, best first. */
export function nonMaxSuppression(boxes: Float32Array, scores: Float32Array, options: CenterNetNmsOptions): number[] {
  const candidates = [...scores.keys()].filter((i) => scores[i]! > options.minConfidence).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const kept: number[] = [];
  for (const candidate of candidates) {
    if (kept.length >= options.maxDetected) break;
    if (kept.every((k) => iou(boxes, candidate, k) < options.iouThreshold)) kept.push(candidate);
  }
  return kept;
}

/** Human's detections for one frame of frameWidth × frameHeight pixels. */
export function decodeCenterNet(peaks: CenterNetPeaks, geometry: CenterNetGeometry, frame: { width: number; height: number }, options = HUMAN_NMS_OPTIONS): CenterNetResult[] {
  const boxes = peakBoxes(peaks, geometry);
  return nonMaxSuppression(boxes, peaks.scores, options).map((i) => {
    const size = geometry.inputSize;
    const [x, y] = [boxes[i * 4]! / size, boxes[i * 4 + 1]! / size];
    const raw = [x, y, boxes[i * 4 + 2]! / size - x, boxes[i * 4 + 3]! / size - y] as const;
    return {
      label: COCO_LABELS[peaks.indices[i]! % geometry.classes]!,
      score: Math.trunc(100 * peaks.scores[i]!) / 100,
      box: [Math.trunc(raw[0] * frame.width), Math.trunc(raw[1] * frame.height), Math.trunc(raw[2] * frame.width), Math.trunc(raw[3] * frame.height)],
    };
  });
}
