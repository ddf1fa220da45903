// Builds tiny ONNX models in memory for tests of model-loading code, so no test depends on a
// downloaded network. The schema and writer live in src/models/onnx/proto.ts (shared with the
// Keras → ONNX converter).
import { buildOnnxModel } from '../../src/models/onnx/proto.js';

export { buildOnnxModel } from '../../src/models/onnx/proto.js';
import { seededRandom } from '../../src/seeded-random.js';

/** Deterministic pseudo-random weights in [-1, 1) (mulberry32), so test models are reproducible. */
export function seededWeights(count: number, seed = 1): Float32Array {
  const out = new Float32Array(count);
  const uniform = seededRandom(seed);
  for (let i = 0; i < count; i++) out[i] = uniform() * 2 - 1;
  return out;
}

/**
 * An "embedder": input [1, ...inputShape] → Flatten → Gemm (seeded weights) → `embedding`
 * [1, dim], plus a second output `norm` = ReduceL2(embedding) so callers can check they read
 * the first output. Reusable for any model that maps a tensor to a vector (faces, voices).
 */
export function tinyEmbedderModel(opts: { inputShape: number[]; dim: number; seed?: number; inputName?: string }): Uint8Array {
  const features = opts.inputShape.reduce((a, b) => a * b, 1);
  const inputName = opts.inputName ?? 'input';
  return buildOnnxModel({
    inputs: [{ name: inputName, shape: [1, ...opts.inputShape] }],
    outputs: [
      { name: 'embedding', shape: [1, opts.dim] },
      { name: 'norm', shape: [1, 1] },
    ],
    initializers: [
      { name: 'W', dims: [features, opts.dim], values: seededWeights(features * opts.dim, opts.seed) },
      { name: 'B', dims: [opts.dim], values: new Float32Array(opts.dim) },
    ],
    nodes: [
      { opType: 'Flatten', inputs: [inputName], outputs: ['flat'], attributes: { axis: 1 } },
      { opType: 'Gemm', inputs: ['flat', 'W', 'B'], outputs: ['embedding'] },
      { opType: 'ReduceL2', inputs: ['embedding'], outputs: ['norm'], attributes: { axes: [1], keepdims: 1 } },
    ],
  });
}
