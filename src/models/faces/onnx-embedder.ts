// A face embedder for any ONNX network that takes an aligned RGB face (NCHW float) and returns
// one vector: the shipped 512-d model and user models from VIDSEARCH_MODEL_DIR alike.
import type * as ort from 'onnxruntime-node';
import { cropRegion } from '../image.js';
import { ort as runtime } from '../runtime.js';
import type { AligningFaceEmbedder, DetectedFace, Point, RawImage } from '../types.js';
import { ARCFACE_TEMPLATE_112, alignFace, cropResize } from './align.js';

export interface EmbedderPreprocessing {
  /** Square input side in pixels (the ArcFace template is scaled to it). */
  inputSize: number;
  /** Per-channel mean and std in 0..255 units, RGB order: value = (pixel − mean) / std. */
  mean: [number, number, number];
  std: [number, number, number];
}

/** ArcFace-style normalisation, which most exported recognisers use (default for user models). */
export const ARCFACE_PREPROCESSING: EmbedderPreprocessing = { inputSize: 112, mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] };

export class OnnxFaceEmbedder implements AligningFaceEmbedder {
  readonly modelId: string;
  readonly dim: number;
  private readonly inputName: string;
  private readonly outputName: string;

  constructor(
    private readonly session: ort.InferenceSession,
    modelId: string,
    dim: number,
    private readonly preprocessing: EmbedderPreprocessing = ARCFACE_PREPROCESSING,
  ) {
    this.modelId = modelId;
    this.dim = dim;
    this.inputName = session.inputNames[0]!;
    this.outputName = session.outputNames[0]!;
  }

  async embed(image: RawImage, face: DetectedFace): Promise<Float32Array> {
    return this.embedAligned(await this.align(image, face));
  }

  /** The aligned crop `embed` runs the network on: it needs only the face's neighbourhood. */
  align(image: RawImage, face: DetectedFace): Promise<RawImage> {
    return this.alignedCrop(image, face, this.preprocessing.inputSize);
  }

  async embedAligned(aligned: RawImage): Promise<Float32Array> {
    const size = this.preprocessing.inputSize;
    const pixels = size * size;
    const input = new Float32Array(3 * pixels);
    const { mean, std } = this.preprocessing;
    for (let i = 0; i < pixels; i++) {
      for (let c = 0; c < 3; c++) {
        const value = aligned.data[i * aligned.channels + (aligned.channels === 3 ? c : 0)]!;
        input[c * pixels + i] = (value - mean[c]!) / std[c]!;
      }
    }
    const out = await this.session.run({ [this.inputName]: new runtime.Tensor('float32', input, [1, 3, size, size]) });
    const vector = Float32Array.from(out[this.outputName]!.data as Float32Array);
    if (vector.length !== this.dim) throw new Error(`${this.modelId} returned ${vector.length} values, expected ${this.dim}`);
    return l2Normalise(vector);
  }

  /** Landmarks → ArcFace alignment; without landmarks, a centred square crop of the box. */
  private async alignedCrop(image: RawImage, face: DetectedFace, size: number): Promise<RawImage> {
    const { box } = face;
    const side = Math.max(box.width, box.height);
    // Shrink a generous region around the face first so the bilinear warp works near 1:1.
    const region = await cropRegion(image, { x: box.x - side, y: box.y - side, width: side * 3, height: side * 3 }, size * 3);
    const toRegion = (p: Point): Point => [(p[0] - region.originX) * region.scale, (p[1] - region.originY) * region.scale];
    if (face.landmarks && face.landmarks.length === 5) {
      const template = ARCFACE_TEMPLATE_112.map(([x, y]): Point => [(x * size) / 112, (y * size) / 112]);
      return alignFace(region.image, face.landmarks.map(toRegion), template, size);
    }
    const [cx, cy] = toRegion([box.x + box.width / 2, box.y + box.height / 2]);
    const regionSide = side * region.scale;
    return cropResize(region.image, cx - regionSide / 2, cy - regionSide / 2, regionSide, size);
  }
}

export function l2Normalise(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
  return vector;
}
