// Global CNN descriptor: the ImageNet-initialised MobileNetV2 backbone that ships inside the
// nsfwjs npm package (weights bundled, no download), cut at its last 7×7×1280 ReLU map and
// GeM-pooled. Pooled conv features survive crops, overlays, JPEG and colour shifts far better
// than an 8×8 colour grid. Runs on tfjs's WASM backend (no native build, ~25–60 ms a frame).
import type { LayersModel, Tensor4D } from '@tensorflow/tfjs';
import sharp from 'sharp';
import { loadNsfwjsMobileNet, type Tfjs } from '../nsfwjs-mobilenet.js';
import type { Box, RawImage } from '../types.js';

export const MOBILENET_INPUT = 224;
const FEATURE_LAYER = 'out_relu';
/** GeM exponent: between average (1) and max pooling (∞); 3 is the usual retrieval choice. */
const GEM_P = 3;

export interface ImageDescriptor {
  /** Recorded with every stored vector; two models' vectors are never compared. */
  readonly modelId: string;
  readonly dim: number;
  /** One L2-normalised descriptor per (image, region); region defaults to the whole image. */
  describe(inputs: readonly { image: RawImage; region?: Box; mirror?: boolean }[]): Promise<Float32Array[]>;
}

let loading: Promise<{ tf: Tfjs; backbone: LayersModel }> | null = null;

/** The backbone cut out of the shared nsfwjs model (loaded once per process; a failed load is retried). */
function backbone(): Promise<{ tf: Tfjs; backbone: LayersModel }> {
  loading ??= loadNsfwjsMobileNet()
    .then(({ tf, model }) => ({ tf, backbone: tf.model({ inputs: model.inputs, outputs: model.getLayer(FEATURE_LAYER).output }) }))
    .catch((err: unknown) => {
      loading = null;
      throw err;
    });
  return loading;
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

  /** Loads the weights now rather than on the first query. */
  async warmUp(): Promise<void> {
    await backbone();
  }

  async describe(inputs: readonly { image: RawImage; region?: Box; mirror?: boolean }[]): Promise<Float32Array[]> {
    if (inputs.length === 0) return [];
    const { tf, backbone: net } = await backbone();
    const pixels = await Promise.all(inputs.map((input) => networkInput(input.image, input.region, input.mirror ?? false)));
    const batch = new Float32Array(inputs.length * MOBILENET_INPUT * MOBILENET_INPUT * 3);
    pixels.forEach((p, i) => {
      const offset = i * p.length;
      for (let j = 0; j < p.length; j++) batch[offset + j] = p[j]! / 255; // nsfwjs normalises to 0..1
    });
    const pooled = tf.tidy(() => {
      const x = tf.tensor4d(batch, [inputs.length, MOBILENET_INPUT, MOBILENET_INPUT, 3]);
      const features = net.predict(x) as Tensor4D;
      // GeM: (mean of x^p)^(1/p) per channel; then L2-normalise.
      const gem = features.maximum(1e-6).pow(GEM_P).mean([1, 2]).pow(1 / GEM_P);
      return gem.div(gem.norm('euclidean', 1, true).maximum(1e-12));
    });
    const flat = (await pooled.data()) as Float32Array;
    pooled.dispose();
    return inputs.map((_, i) => flat.slice(i * this.dim, (i + 1) * this.dim));
  }
}
