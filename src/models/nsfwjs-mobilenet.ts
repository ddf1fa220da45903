// nsfwjs's bundled MobileNetV2 (weights inside the npm package, no download), shared by the NSFW
// classifier (its softmax head) and image search (its last feature map, GeM-pooled). tfjs only
// reads the Keras model, on a short-lived thread that converts it to ONNX (onnx/keras-to-onnx.ts);
// ONNX Runtime runs it on another thread, ~5× faster than tfjs's WASM backend did, and never
// stalls the event loop. The .onnx is not cached on disk: converting costs ~0.6–1 s per
// load, off the main thread, against ~50 ms to open a cached file — not worth a cache keyed on
// the package and converter versions. The thread is released after a minute unused (idle-release.ts).
import type { LayersModel } from '@tensorflow/tfjs';
import { kerasLayersOf, kerasToOnnx } from './onnx/keras-to-onnx.js';
import { IdleReleasedModel } from './idle-release.js';
import { openOnnxRunner, type OnnxRunner } from './onnx/runner.js';

/** The network's square input side. */
export const NSFWJS_INPUT = 224;
/** Last 7×7×1280 ReLU map of the backbone: the image-search descriptor is pooled from it. */
export const FEATURE_LAYER = 'out_relu';
/** GeM exponent: between average (1) and max pooling (∞); 3 is the usual retrieval choice. */
export const GEM_P = 3;
const CLASSIFIER_LAYER = 'dense_3';
/** Images per ONNX run: bounds the activation memory of large batches. */
const MAX_BATCH = 8;
/** An unused model is released after this long (a policy, not a fitted value: see `runners`). */
const MODEL_IDLE_MS = 60_000;

export interface MobileNetOutput {
  /** GeM-pooled (p = GEM_P), L2-normalised `out_relu` features, 1280 values. */
  descriptor: Float32Array;
  /** Softmax over nsfwjs's classes (Drawing, Hentai, Neutral, Porn, Sexy). */
  probabilities: Float32Array;
}

export interface NsfwjsMobileNet {
  /** Runs 224×224 RGB images, each NHWC floats scaled to 0..1 as nsfwjs does. */
  infer(images: readonly Float32Array[]): Promise<MobileNetOutput[]>;
}

/** nsfwjs's Keras model on tfjs (the conversion's source, and the reference in tests). */
export async function loadNsfwjsKerasModel(): Promise<LayersModel> {
  const tf = await import('@tensorflow/tfjs');
  // tfjs's advice to install tfjs-node (printed at its first tensor) goes through a warn() that is
  // silent in production mode; nothing else here depends on the mode.
  tf.enableProdMode();
  await import('@tensorflow/tfjs-backend-wasm');
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
  await tf.ready();
  const nsfwjs = await import('nsfwjs');
  // nsfwjs announces the bundled model with console.info ("You're using the model…", stdout,
  // where the CLI's JSON result must stand alone, and once per test worker): drop that line only.
  const info = console.info;
  console.info = (...args: unknown[]) => {
    if (!String(args[0]).includes("You're using the model")) info(...args);
  };
  try {
    const classifier = await nsfwjs.load('MobileNetV2');
    return (classifier as unknown as { model: LayersModel }).model;
  } finally {
    console.info = info;
  }
}

/** The ONNX form of nsfwjs's MobileNetV2: input NHWC 'input', outputs 'descriptor' and 'probabilities' (called by name on the runner's thread). */
export async function convertNsfwjsMobileNet(): Promise<Uint8Array> {
  const model = await loadNsfwjsKerasModel();
  const onnx = kerasToOnnx(kerasLayersOf(model), [
    { name: 'descriptor', layer: FEATURE_LAYER, gemP: GEM_P },
    { name: 'probabilities', layer: CLASSIFIER_LAYER },
  ]);
  model.dispose();
  return onnx;
}

/** Runs images in batches of at most MAX_BATCH on `runner`'s thread. */
async function inferBatches(runner: OnnxRunner, images: readonly Float32Array[]): Promise<MobileNetOutput[]> {
  const pixels = NSFWJS_INPUT * NSFWJS_INPUT * 3;
  const results: MobileNetOutput[] = [];
  for (let start = 0; start < images.length; start += MAX_BATCH) {
    const chunk = images.slice(start, start + MAX_BATCH);
    const batch = new Float32Array(chunk.length * pixels);
    chunk.forEach((image, i) => {
      if (image.length !== pixels) throw new RangeError(`expected ${NSFWJS_INPUT}×${NSFWJS_INPUT}×3 values, got ${image.length}`);
      batch.set(image, i * pixels);
    });
    const output = await runner.run({ input: { data: batch, dims: [chunk.length, NSFWJS_INPUT, NSFWJS_INPUT, 3] } });
    const descriptors = output.descriptor!.data;
    const probabilities = output.probabilities!.data;
    const descriptorDim = descriptors.length / chunk.length;
    const classes = probabilities.length / chunk.length;
    chunk.forEach((_, i) => {
      results.push({
        descriptor: descriptors.slice(i * descriptorDim, (i + 1) * descriptorDim),
        probabilities: probabilities.slice(i * classes, (i + 1) * classes),
      });
    });
  }
  return results;
}

/**
 * The runner thread, released after MODEL_IDLE_MS without inference (its ~100 MB go with the
 * thread) and started again on the next use (~1 s of conversion off the main thread). Indexing
 * and image-search bursts reuse it; a server idle between them does not hold it. A runner whose
 * thread died is forgotten, so the next use starts a new one.
 */
const runners = new IdleReleasedModel<OnnxRunner>({
  idleMs: MODEL_IDLE_MS,
  async load() {
    // One intra-op thread: on two cores shared with ffmpeg and the other stages, two threads ran a
    // single image 2× slower (20–25 ms against 10–12 ms), the threads fighting for the cores.
    const runner = await openOnnxRunner({ module: import.meta.url, exportName: convertNsfwjsMobileNet.name }, { intraOpNumThreads: 1 });
    void runner.ended.then(() => runners.forget(runner));
    return runner;
  },
  release: (runner) => runner.close(),
});

const model: NsfwjsMobileNet = { infer: (images) => runners.use((runner) => inferBatches(runner, images)) };

/** The shared model, loaded (or loaded again after an idle release) before it resolves. */
export async function loadNsfwjsMobileNet(): Promise<NsfwjsMobileNet> {
  await runners.use(async () => undefined);
  return model;
}

