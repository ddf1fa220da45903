// Global CNN descriptor: the ImageNet-initialised MobileNetV2 backbone that ships inside the
// nsfwjs npm package (weights bundled, no download), cut at its last 7×7×1280 ReLU map and
// GeM-pooled. Pooled conv features survive crops, overlays, JPEG and colour shifts far better
// than an 8×8 colour grid. Runs on ONNX Runtime, converted from the Keras model at load.
import sharp from 'sharp';
import { FEATURE_LAYER, GEM_P, loadNsfwjsMobileNet, NSFWJS_INPUT } from '../nsfwjs-mobilenet.js';
import { scaledFloats } from '../image.js';
import type { Box, RawImage } from '../types.js';

export const MOBILENET_INPUT = NSFWJS_INPUT;

export interface ImageDescriptor {
  /** Recorded with every stored vector; two models' vectors are never compared. */
  readonly modelId: string;
  readonly dim: number;
  /** One L2-normalised descriptor per (image, region); region defaults to the whole image. */
  describe(inputs: readonly { image: RawImage; region?: Box; mirror?: boolean }[]): Promise<Float32Array[]>;
}

/** Crops, optionally mirrors, and squashes to the network's square input with area averaging. */
export async function networkInput(image: RawImage, region: Box | undefined, mirror: boolean, size = MOBILENET_INPUT): Promise<Uint8Array> {
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  if (region) {
    pipeline = pipeline.extract({
      left: Math.max(0, Math.round(region.x)),
      top: Math.max(0, Math.round(region.y)),
      width: Math.max(1, Math.min(image.width - Math.round(region.x), Math.round(region.width))),
      height: Math.max(1, Math.min(image.height - Math.round(region.y), Math.round(region.height))),
    });
  }
  if (mirror) pipeline = pipeline.flop();
  if (image.channels === 1) pipeline = pipeline.toColourspace('srgb');
  const data = await pipeline.resize(size, size, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

export class MobileNetDescriptor implements ImageDescriptor {
  readonly modelId = `nsfwjs-mobilenetv2-${FEATURE_LAYER}-gem${GEM_P}-${MOBILENET_INPUT}`;
  readonly dim = 1280;

  /** Loads (converts) the model now rather than on the first query. */
  async warmUp(): Promise<void> {
    await loadNsfwjsMobileNet();
  }

  async describe(inputs: readonly { image: RawImage; region?: Box; mirror?: boolean }[]): Promise<Float32Array[]> {
    if (inputs.length === 0) return [];
    const model = await loadNsfwjsMobileNet();
    const pixels = await Promise.all(inputs.map((input) => networkInput(input.image, input.region, input.mirror ?? false)));
    // nsfwjs normalises to 0..1.
    const outputs = await model.infer(pixels.map((p) => scaledFloats(p, 255)));
    return outputs.map((o) => o.descriptor);
  }
}
