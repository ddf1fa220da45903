// Face detector: the Ultra-Light-Fast-Generic-Face-Detector RFB-320 network (boxes + scores)
// followed by a 68-point landmark network on each box, reduced to the five ArcFace points.
// Both ONNX files ship in faceplugin-face-recognition-js (see manifest.json for licence/hash).
import type * as ort from 'onnxruntime-node';
import { letterbox, scaledFloats, toGrey } from '../image.js';
import { ort as runtime } from '../runtime.js';
import type { Box, DetectedFace, FaceDetectOptions, FaceDetector, Point, RawImage } from '../types.js';
import { iou } from '../box.js';
import { cropResize } from './align.js';

const INPUT_WIDTH = 320;
const INPUT_HEIGHT = 240;
const LANDMARK_SIZE = 64;
/** Largest box side, as a fraction of the picture's shorter side, above which the face "fills" it. */
const FILLS_FRAME = 0.6;

export interface UltraFaceOptions {
  /** Minimum face score (the package's own demo uses 0.65). */
  minScore?: number;
  /** Overlap above which the weaker of two boxes is dropped. */
  nmsIou?: number;
  /**
   * Margin added around the photo (fraction of its size per side) on a second pass when the
   * first finds nothing: a face filling the whole frame looks like no face to this network.
   */
  retryMargin?: number;
}

export class UltraFaceDetector implements FaceDetector {
  readonly modelId: string;
  private readonly minScore: number;
  private readonly nmsIou: number;
  private readonly retryMargin: number;

  constructor(
    private readonly detectSession: ort.InferenceSession,
    private readonly landmarkSession: ort.InferenceSession,
    modelId: string,
    options: UltraFaceOptions = {},
  ) {
    this.modelId = modelId;
    this.minScore = options.minScore ?? 0.65;
    this.nmsIou = options.nmsIou ?? 0.4;
    this.retryMargin = options.retryMargin ?? 0.3;
  }

  async detect(image: RawImage, options: FaceDetectOptions = {}): Promise<DetectedFace[]> {
    let boxes = await this.detectBoxes(image, 0);
    if ((options.tiles ?? 1) > 1) boxes = nonMaxSuppression([...boxes, ...(await this.detectInTiles(image, options.tiles!))], this.nmsIou);
    // A face that (nearly) fills the picture is found badly or not at all without context
    // around it: look again with a margin. Video frames rarely get here, so the cost is rare.
    const fillsFrame = boxes.some((b) => Math.max(b.box.width, b.box.height) > FILLS_FRAME * Math.min(image.width, image.height));
    if ((boxes.length === 0 || fillsFrame) && this.retryMargin > 0) {
      const padded = await this.detectBoxes(image, this.retryMargin);
      if (padded.length > 0) boxes = padded;
    }
    const faces: DetectedFace[] = [];
    for (const { box, score } of boxes) faces.push({ box, score, landmarks: await this.landmarks(image, box) });
    return faces.sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
  }

  /**
   * Boxes found in a grid of tiles overlapping by TILE_OVERLAP of a tile, in image pixels. A box
   * touching a tile's inner edge is a cut face: the neighbouring tile or the whole frame has it.
   */
  private async detectInTiles(image: RawImage, grid: number): Promise<{ box: Box; score: number }[]> {
    const tileW = Math.ceil(image.width / (grid - (grid - 1) * TILE_OVERLAP));
    const tileH = Math.ceil(image.height / (grid - (grid - 1) * TILE_OVERLAP));
    const found: { box: Box; score: number }[] = [];
    for (let row = 0; row < grid; row++) {
      for (let col = 0; col < grid; col++) {
        const x0 = Math.min(image.width - tileW, Math.round(col * tileW * (1 - TILE_OVERLAP)));
        const y0 = Math.min(image.height - tileH, Math.round(row * tileH * (1 - TILE_OVERLAP)));
        for (const { box, score } of await this.detectBoxes(subImage(image, x0, y0, tileW, tileH), 0)) {
          const cut = (box.x <= 1 && x0 > 0) || (box.y <= 1 && y0 > 0) || (box.x + box.width >= tileW - 1 && x0 + tileW < image.width) || (box.y + box.height >= tileH - 1 && y0 + tileH < image.height);
          if (!cut) found.push({ box: { ...box, x: box.x + x0, y: box.y + y0 }, score });
        }
      }
    }
    return found;
  }

  private async detectBoxes(image: RawImage, margin: number): Promise<{ box: Box; score: number }[]> {
    const fitted = await letterbox(image, INPUT_WIDTH, INPUT_HEIGHT, margin);
    const pixels = INPUT_WIDTH * INPUT_HEIGHT;
    const input = new Float32Array(3 * pixels);
    const rgb = fitted.image.data;
    const channels = fitted.image.channels;
    for (let i = 0; i < pixels; i++) {
      for (let c = 0; c < 3; c++) input[c * pixels + i] = (rgb[i * channels + (channels === 3 ? c : 0)]! - 127) / 128;
    }
    const out = await this.detectSession.run({ input: new runtime.Tensor('float32', input, [1, 3, INPUT_HEIGHT, INPUT_WIDTH]) });
    const scores = out.scores!.data as Float32Array;
    const corners = out.boxes!.data as Float32Array;
    const candidates: { box: Box; score: number }[] = [];
    for (let i = 0; i < scores.length / 2; i++) {
      const score = scores[i * 2 + 1]!;
      if (score < this.minScore) continue;
      // Normalised corners in the letterboxed frame → source pixels.
      const x1 = (corners[i * 4]! * INPUT_WIDTH - fitted.offsetX) * fitted.scale;
      const y1 = (corners[i * 4 + 1]! * INPUT_HEIGHT - fitted.offsetY) * fitted.scale;
      const x2 = (corners[i * 4 + 2]! * INPUT_WIDTH - fitted.offsetX) * fitted.scale;
      const y2 = (corners[i * 4 + 3]! * INPUT_HEIGHT - fitted.offsetY) * fitted.scale;
      if (x2 <= x1 || y2 <= y1) continue;
      candidates.push({ box: clampBox({ x: x1, y: y1, width: x2 - x1, height: y2 - y1 }, image), score });
    }
    return nonMaxSuppression(candidates, this.nmsIou).filter((c) => c.box.width >= 8 && c.box.height >= 8);
  }

  /** 68 landmarks on a square grey crop of the box, reduced to eyes, nose tip and mouth corners. */
  private async landmarks(image: RawImage, box: Box): Promise<Point[]> {
    // The landmark network was trained on square crops as tall as the detector's box.
    const side = box.height;
    const left = box.x + box.width / 2 - side / 2;
    const crop = toGrey(cropResize(image, left, box.y, side, LANDMARK_SIZE));
    const input = scaledFloats(crop.data, 256);
    const out = await this.landmarkSession.run({ input: new runtime.Tensor('float32', input, [1, 1, LANDMARK_SIZE, LANDMARK_SIZE]) });
    const raw = out.output!.data as Float32Array;
    const point = (index: number): Point => [left + raw[index * 2]! * side, box.y + raw[index * 2 + 1]! * side];
    const mean = (...indices: number[]): Point => {
      const pts = indices.map(point);
      return [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];
    };
    // iBUG-68 indices: eye contours 36–41 and 42–47, nose tip 30, outer/inner mouth corners 48/60 and 54/64.
    return [mean(36, 37, 38, 39, 40, 41), mean(42, 43, 44, 45, 46, 47), point(30), mean(48, 60), mean(54, 64)];
  }
}

/** Share of a tile that overlaps its neighbour: a face up to this wide lies whole in one tile. */
const TILE_OVERLAP = 0.2;

/** A copy of the w×h region at (x, y) (inside the image). */
function subImage(image: RawImage, x: number, y: number, width: number, height: number): RawImage {
  const { channels } = image;
  const data = new Uint8Array(width * height * channels);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * image.width + x) * channels;
    data.set(image.data.subarray(from, from + width * channels), row * width * channels);
  }
  return { data, width, height, channels };
}

function clampBox(box: Box, image: RawImage): Box {
  const x = Math.max(0, box.x);
  const y = Math.max(0, box.y);
  return { x, y, width: Math.min(image.width, box.x + box.width) - x, height: Math.min(image.height, box.y + box.height) - y };
}

export function nonMaxSuppression<T extends { box: Box; score: number }>(candidates: T[], maxIou: number): T[] {
  const kept: T[] = [];
  for (const candidate of [...candidates].sort((a, b) => b.score - a.score)) {
    if (kept.every((k) => iou(k.box, candidate.box) <= maxIou)) kept.push(candidate);
  }
  return kept;
}
