// The ONNX conversion of nsfwjs's MobileNetV2 against the tfjs original it replaced: on generated
// pictures (always) and on real screenshots from ../shared/data (when present), the image-search
// descriptor must keep cosine ≥ 0.9999 with the tfjs one and the NSFW probabilities must stay
// within 1e-3 — the bar for keeping the stored vectors' modelId.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LayersModel, Tensor, Tensor2D, Tensor4D } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/models/image.js';
import { networkInput } from '../../src/models/image-descriptors/mobilenet.js';
import { FEATURE_LAYER, GEM_P, loadNsfwjsKerasModel, loadNsfwjsMobileNet, NSFWJS_INPUT, type NsfwjsMobileNet } from '../../src/models/nsfwjs-mobilenet.js';
import type { RawImage } from '../../src/models/types.js';
import { seededWeights } from '../helpers/tiny-onnx.js';
import { repoRoot, sharedData } from '../helpers/shared-data.js';

type Tfjs = typeof import('@tensorflow/tfjs');

const SIDE = NSFWJS_INPUT;

/** A synthetic 224×224 picture: colour gradients, a bright disc and seeded noise (0..1 floats). */
function generatedPicture(seed: number): Float32Array {
  const noise = seededWeights(SIDE * SIDE * 3, seed);
  const out = new Float32Array(SIDE * SIDE * 3);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const disc = (x - 80 - seed * 10) ** 2 + (y - 120) ** 2 < 40 ** 2 ? 0.6 : 0;
      const base = [x / SIDE, y / SIDE, (x + y) / (2 * SIDE)];
      for (let c = 0; c < 3; c++) {
        const i = (y * SIDE + x) * 3 + c;
        out[i] = Math.min(1, Math.max(0, base[c]! * 0.6 + disc + noise[i]! * 0.15));
      }
    }
  }
  return out;
}

/** The tfjs computation the ONNX graph replaced: out_relu → GeM → L2, and the softmax head. */
function tfjsReference(tf: Tfjs, keras: LayersModel, backbone: LayersModel, images: readonly Float32Array[]): { descriptors: Float32Array[]; probabilities: Float32Array[] } {
  return tf.tidy(() => {
    const batch = new Float32Array(images.length * SIDE * SIDE * 3);
    images.forEach((image, i) => batch.set(image, i * image.length));
    const x = tf.tensor4d(batch, [images.length, SIDE, SIDE, 3]);
    const features = backbone.predict(x) as Tensor4D;
    const gem = features.maximum(1e-6).pow(GEM_P).mean([1, 2]).pow(1 / GEM_P);
    const descriptors = gem.div(gem.norm('euclidean', 1, true).maximum(1e-12)) as Tensor2D;
    const probabilities = keras.predict(x) as Tensor;
    const rows = (t: Tensor) => (t.arraySync() as number[][]).map((row) => Float32Array.from(row));
    return { descriptors: rows(descriptors), probabilities: rows(probabilities) };
  });
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  return a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i]!)), 0);
}

describe('nsfwjs MobileNetV2 on ONNX Runtime vs tfjs', () => {
  let tf: Tfjs;
  let keras: LayersModel;
  let backbone: LayersModel;
  let onnx: NsfwjsMobileNet;

  beforeAll(async () => {
    keras = await loadNsfwjsKerasModel();
    tf = await import('@tensorflow/tfjs');
    backbone = tf.model({ inputs: keras.inputs, outputs: keras.getLayer(FEATURE_LAYER).output });
    onnx = await loadNsfwjsMobileNet();
  }, 120_000);

  async function expectEquivalent(label: string, images: Float32Array[]): Promise<void> {
    const reference = tfjsReference(tf, keras, backbone, images);
    const converted = await onnx.infer(images);
    images.forEach((_, i) => {
      const similarity = cosine(converted[i]!.descriptor, reference.descriptors[i]!);
      const probabilityGap = maxAbsDifference(converted[i]!.probabilities, reference.probabilities[i]!);
      console.log(`[nsfwjs-onnx] ${label} #${i}: 1 − descriptor cosine ${(1 - similarity).toExponential(2)}, max probability gap ${probabilityGap.toExponential(2)}`);
      expect(converted[i]!.descriptor).toHaveLength(1280);
      expect(similarity).toBeGreaterThanOrEqual(0.9999);
      expect(probabilityGap).toBeLessThanOrEqual(1e-3);
    });
  }

  it('matches tfjs on generated pictures', async () => {
    await expectEquivalent('generated', [1, 2, 3].map(generatedPicture));
  });

  it('gives a batch the same answers as single images', async () => {
    const images = [4, 5, 6, 7].map(generatedPicture);
    const batch = await onnx.infer(images);
    for (const [i, image] of images.entries()) {
      const [single] = await onnx.infer([image]);
      expect(maxAbsDifference(single!.descriptor, batch[i]!.descriptor)).toBeLessThan(1e-5);
      expect(maxAbsDifference(single!.probabilities, batch[i]!.probabilities)).toBeLessThan(1e-5);
    }
  });

  it('matches tfjs on real screenshots from ../shared/data', async () => {
    const manifestFile = sharedData('image-search-hard.json');
    if (!manifestFile) return console.warn('[nsfwjs-onnx] ../shared/data absent: real screenshots skipped');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { queries: { image: string }[] };
    const images: Float32Array[] = [];
    for (const query of manifest.queries.slice(0, 6)) {
      const image: RawImage = await decodeImage(path.resolve(path.dirname(manifestFile), query.image));
      const pixels = await networkInput(image, undefined, false);
      images.push(Float32Array.from(pixels, (v) => v / 255));
    }
    await expectEquivalent('real', images);
  });

  // Under vitest the sources are TypeScript and the model runs in this thread; the compiled build
  // (npm test runs tsc first) runs it on a worker thread, which this checks.
  it('runs on its own thread in the compiled build, leaving the event loop free', async () => {
    const compiled = path.join(repoRoot, 'dist/src/models/nsfwjs-mobilenet.js');
    if (!existsSync(compiled)) return console.warn('[nsfwjs-onnx] no dist/ build (run tsc): worker thread check skipped');
    const { loadNsfwjsMobileNet: loadCompiled } = (await import(pathToFileURL(compiled).href)) as { loadNsfwjsMobileNet: typeof loadNsfwjsMobileNet };
    const threaded = await loadCompiled();
    const images = [8, 9, 10, 11, 12, 13, 14, 15].map(generatedPicture);
    const inThread = await onnx.infer(images);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = performance.now();
    const offThread = await threaded.infer(images);
    const elapsed = performance.now() - started;
    clearInterval(timer);
    console.log(`[nsfwjs-onnx] worker thread: 8 images in ${elapsed.toFixed(0)} ms, ${ticks} 1-ms timer ticks meanwhile`);
    // Run on this thread, the batch would block the timer for its whole duration (0–1 ticks).
    expect(ticks).toBeGreaterThanOrEqual(Math.min(10, elapsed / 10));
    offThread.forEach((output, i) => expect(maxAbsDifference(output.descriptor, inThread[i]!.descriptor)).toBeLessThan(1e-5));
  });
});
