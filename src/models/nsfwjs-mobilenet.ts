// nsfwjs's bundled MobileNetV2 (weights inside the npm package, no download) on tfjs's WASM
// backend, loaded once per process and shared: the NSFW classifier uses its head, image search
// its backbone features.
import type { LayersModel, Tensor3D } from '@tensorflow/tfjs';

export type Tfjs = typeof import('@tensorflow/tfjs');

export interface NsfwjsMobileNet {
  tf: Tfjs;
  classifier: { classify(img: Tensor3D, topk?: number): Promise<{ className: string; probability: number }[]> };
  /** The underlying Keras model (for cutting out backbone features). */
  model: LayersModel;
}

let loading: Promise<NsfwjsMobileNet> | null = null;

async function load(): Promise<NsfwjsMobileNet> {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
  await tf.ready();
  const nsfwjs = await import('nsfwjs');
  // nsfwjs announces the bundled model with console.info, i.e. on stdout, where the CLI's JSON
  // result must stand alone: send that line to stderr.
  const info = console.info;
  console.info = (...args: unknown[]) => console.error(...args);
  try {
    const classifier = await nsfwjs.load('MobileNetV2');
    return { tf, classifier: classifier as unknown as NsfwjsMobileNet['classifier'], model: (classifier as unknown as { model: LayersModel }).model };
  } finally {
    console.info = info;
  }
}

/** The shared model (a failed load is retried on the next call). */
export function loadNsfwjsMobileNet(): Promise<NsfwjsMobileNet> {
  loading ??= load().catch((err: unknown) => {
    loading = null;
    throw err;
  });
  return loading;
}
