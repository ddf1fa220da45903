// The Keras → ONNX converter on small tfjs models built here, layer kinds and options that
// nsfwjs's MobileNetV2 does not exercise included: TF's asymmetric 'same' padding at stride 2 on
// odd and even sizes, depthwise multipliers, dilation, 'same' average pooling, Flatten over a
// spatial map (NHWC order), Dense + softmax. Every weight is random, BatchNormalization's moving
// statistics included, so a transposed kernel or a swapped parameter cannot pass.
import type { LayersModel, SymbolicTensor, Tensor } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { kerasLayersOf, kerasToOnnx, UnsupportedLayerError } from '../../src/models/onnx/keras-to-onnx.js';
import { openSessionRunner } from '../../src/models/onnx/runner.js';
import { seededWeights } from '../helpers/tiny-onnx.js';

beforeAll(async () => {
  tf.enableProdMode(); // as src/models/nsfwjs-mobilenet.ts does: no advice to install tfjs-node
  await tf.setBackend('cpu');
  await tf.ready();
});

/** Replaces every weight (BN variances made positive) with seeded values, so nothing is 0 or 1 by default. */
function randomiseWeights(model: LayersModel): void {
  let seed = 1;
  for (const layer of model.layers) {
    const weights = layer.weights.map((variable) => {
      const values = seededWeights(variable.shape.reduce((a, b) => a! * b!, 1)!, seed++);
      const positive = /moving_variance|gamma/.test(variable.name);
      return tf.tensor(positive ? values.map((v) => 0.5 + Math.abs(v)) : values.map((v) => v * 0.5), variable.shape as number[]);
    });
    layer.setWeights(weights);
    weights.forEach((w) => w.dispose());
  }
}

async function expectSameOutputs(model: LayersModel, inputShape: [number, number, number], batch = 2): Promise<void> {
  randomiseWeights(model);
  const onnx = kerasToOnnx(kerasLayersOf(model), [{ name: 'out', layer: model.layers.at(-1)!.name }]);
  const runner = await openSessionRunner(onnx);
  const input = seededWeights(batch * inputShape.reduce((a, b) => a * b, 1), 99);
  const expected = tf.tidy(() => (model.predict(tf.tensor4d(input, [batch, ...inputShape])) as Tensor).dataSync() as Float32Array);
  const expectedShape = (model.outputs[0]!.shape as (number | null)[]).map((d) => d ?? batch);
  const { out } = await runner.run({ input: { data: input.slice(), dims: [batch, ...inputShape] } });
  await runner.close();
  expect(out!.dims).toEqual(expectedShape);
  const worst = expected.reduce((m, v, i) => Math.max(m, Math.abs(v - out!.data[i]!)), 0);
  expect(worst).toBeLessThan(1e-4);
}

function chain(input: SymbolicTensor, ...layers: { apply(x: SymbolicTensor): unknown }[]): SymbolicTensor {
  return layers.reduce((x, layer) => layer.apply(x) as SymbolicTensor, input);
}

describe('Keras → ONNX', () => {
  it.each([
    [9, 9],
    [10, 7],
  ])("keeps TF's 'same' padding at stride 2 on a %i×%i input (Conv2D, depthwise ×2 with bias, dilation)", async (height, width) => {
    const input = tf.input({ shape: [height, width, 3] });
    const output = chain(
      input,
      tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', useBias: true }),
      tf.layers.depthwiseConv2d({ kernelSize: [3, 2], strides: 2, padding: 'same', depthMultiplier: 2, useBias: true }),
      tf.layers.conv2d({ filters: 3, kernelSize: 2, dilationRate: 2, padding: 'same', activation: 'relu' }),
    );
    await expectSameOutputs(tf.model({ inputs: input, outputs: output }), [height, width, 3]);
  });

  it('converts a MobileNetV2-style residual block with its classifier head', async () => {
    const input = tf.input({ shape: [12, 12, 3] });
    const stem = chain(
      input,
      tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]] }),
      tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: false }),
      tf.layers.batchNormalization({ epsilon: 1e-3 }),
      tf.layers.reLU({ maxValue: 6 }),
    );
    const branch = chain(
      stem,
      tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }),
      tf.layers.batchNormalization(),
      tf.layers.reLU({ maxValue: 6 }),
      tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false }),
      tf.layers.batchNormalization(),
    );
    const head = chain(
      tf.layers.add().apply([stem, branch]) as SymbolicTensor,
      tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same' }),
      // 3×3×8 map: flattening must follow NHWC order, not ONNX's NCHW.
      tf.layers.flatten(),
      tf.layers.dense({ units: 6, activation: 'relu' }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 5, activation: 'softmax' }),
    );
    await expectSameOutputs(tf.model({ inputs: input, outputs: head }), [12, 12, 3], 3);
  });

  it('refuses layers and options it does not reproduce', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const pooled = tf.model({ inputs: input, outputs: tf.layers.maxPooling2d({ poolSize: 2 }).apply(input) as SymbolicTensor });
    expect(() => kerasToOnnx(kerasLayersOf(pooled), [{ name: 'out', layer: pooled.layers.at(-1)!.name }])).toThrow(UnsupportedLayerError);
    const channelsFirst = tf.model({ inputs: input, outputs: tf.layers.conv2d({ filters: 2, kernelSize: 1, dataFormat: 'channelsFirst' }).apply(input) as SymbolicTensor });
    expect(() => kerasToOnnx(kerasLayersOf(channelsFirst), [{ name: 'out', layer: channelsFirst.layers.at(-1)!.name }])).toThrow(/dataFormat "channelsFirst"/);
    const tanh = tf.model({ inputs: input, outputs: tf.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'tanh' }).apply(input) as SymbolicTensor });
    expect(() => kerasToOnnx(kerasLayersOf(tanh), [{ name: 'out', layer: tanh.layers.at(-1)!.name }])).toThrow(/activation "tanh"/);
  });
});
