// The tfjs graph model → ONNX converter (src/models/onnx/tf-graph) on tiny GraphDefs written here,
// each run by tfjs-converter itself (the reference: it executes the same JSON) and by ONNX Runtime
// on a batch of 2: TF's 'same' padding at stride 2 on odd sizes, fused bias + activations (Relu,
// Relu6, Prelu, LeakyRelu), depthwise multipliers, constants broadcast NHWC → NCHW, squeeze-excite
// means, the three ResizeBilinear coordinate rules, concatenation on channels, pooling and the
// max-pool peak filter. Ops and attributes it does not reproduce must throw.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder, UnsupportedModelError } from '../../src/models/onnx/graph-builder.js';
import { buildOnnxModel } from '../../src/models/onnx/proto.js';
import { openSessionRunner } from '../../src/models/onnx/runner.js';
import { convertTfGraph } from '../../src/models/onnx/tf-graph/convert.js';
import { halfToFloat, parseTfGraphModel, type TfAttrValue, type TfNodeDef, type TfWeightSpec } from '../../src/models/onnx/tf-graph/model.js';
import { seededWeights } from '../helpers/tiny-onnx.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  await tf.ready();
});

const a = {
  s: (value: string): TfAttrValue => ({ s: Buffer.from(value).toString('base64') }),
  strings: (values: string[]): TfAttrValue => ({ list: { s: values.map((v) => Buffer.from(v).toString('base64')) } }),
  ints: (values: number[]): TfAttrValue => ({ list: { i: values.map(String) } }),
  i: (value: number): TfAttrValue => ({ i: String(value) }),
  b: (value: boolean): TfAttrValue => ({ b: value }),
  f: (value: number): TfAttrValue => ({ f: value }),
};

/** A GraphDef under construction: one NHWC float input `x`, constants with seeded values. */
class TinyGraph {
  readonly nodes: TfNodeDef[] = [];
  private readonly specs: TfWeightSpec[] = [];
  private readonly data: Buffer[] = [];
  private seed = 1;

  constructor(readonly inputShape: [number, number, number]) {
    this.nodes.push({ name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [-1, ...inputShape].map((size) => ({ size: String(size) })) } } } });
  }

  constant(name: string, shape: number[], values?: number[], dtype: 'float32' | 'int32' = 'float32'): string {
    const count = shape.reduce((p, d) => p * d, 1);
    const data = values ?? Array.from(seededWeights(count, this.seed++), (v) => v * 0.5);
    this.specs.push({ name, shape, dtype });
    this.data.push(Buffer.from((dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data)).buffer));
    this.nodes.push({ name, op: 'Const', attr: { dtype: { type: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' } } });
    return name;
  }

  op(name: string, op: string, input: string[], attr: Record<string, TfAttrValue> = {}): string {
    this.nodes.push({ name, op, input, attr: { T: { type: 'DT_FLOAT' }, ...attr } });
    return name;
  }

  conv(name: string, op: string, input: string, filter: number[], strides: number, padding: string, extra: { bias?: number; fused?: string[]; args?: string[] } = {}): string {
    const inputs = [input, this.constant(`${name}/filter`, filter)];
    if (extra.bias) inputs.push(this.constant(`${name}/bias`, [extra.bias]));
    inputs.push(...(extra.args ?? []));
    const attr: Record<string, TfAttrValue> = { strides: a.ints([1, strides, strides, 1]), padding: a.s(padding), data_format: a.s('NHWC'), dilations: a.ints([1, 1, 1, 1]) };
    if (extra.fused) Object.assign(attr, { fused_ops: a.strings(extra.fused), num_args: a.i(inputs.length - 2) });
    return this.op(name, op, inputs, attr);
  }

  json() {
    return { modelTopology: { node: this.nodes, versions: { producer: 1 } }, weightsManifest: [{ paths: [], weights: this.specs }] };
  }

  weightData(): Buffer {
    return Buffer.concat(this.data);
  }
}

/** Runs `output` on tfjs and on the converted ONNX graph (NHWC in and out), batch 2; returns the worst absolute difference. */
async function worstDifference(graph: TinyGraph, output: string): Promise<number> {
  const input = seededWeights(2 * graph.inputShape.reduce((p, d) => p * d, 1), 99);
  const weights = graph.weightData();
  const model = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: graph.json().modelTopology, weightSpecs: graph.json().weightsManifest[0]!.weights as tf.io.WeightsManifestEntry[], weightData: new Uint8Array(weights).buffer }));
  const expectedTensor = model.execute(tf.tensor4d(input, [2, ...graph.inputShape]), output) as tf.Tensor;
  const expected = expectedTensor.dataSync() as Float32Array;
  const builder = new GraphBuilder();
  const x = builder.node('Transpose', ['input'], 'input/nchw', { perm: [0, 3, 1, 2] });
  const [converted] = convertTfGraph(builder, parseTfGraphModel(graph.json(), weights), { x: { value: x, shape: [0, ...graph.inputShape], dtype: 'float32' } }, [output]);
  builder.node('Transpose', [converted!.value], 'onnx_out', { perm: [0, 2, 3, 1] });
  expect([2, ...converted!.shape.slice(1)]).toEqual(expectedTensor.shape);
  const onnx = buildOnnxModel({ inputs: [{ name: 'input', shape: ['batch', ...graph.inputShape] }], outputs: [{ name: 'onnx_out', shape: ['batch', ...converted!.shape.slice(1)] }], nodes: builder.nodes, initializers: builder.initializers });
  const runner = await openSessionRunner(onnx);
  const { onnx_out: out } = await runner.run({ input: { data: input.slice(), dims: [2, ...graph.inputShape] } });
  await runner.close();
  expect(out!.dims).toEqual(expectedTensor.shape);
  return expected.reduce((m, v, i) => Math.max(m, Math.abs(v - out!.data[i]!)), 0);
}

describe('tfjs graph model → ONNX', () => {
  it("reproduces fused convolutions with TF's 'same' padding at stride 2, depthwise multipliers and broadcast constants", async () => {
    const g = new TinyGraph([9, 7, 3]);
    const c1 = g.conv('c1', '_FusedConv2D', 'x', [3, 3, 3, 4], 2, 'SAME', { bias: 4, fused: ['BiasAdd', 'Relu6'] });
    const d1 = g.conv('d1', 'FusedDepthwiseConv2dNative', c1, [3, 2, 4, 2], 2, 'SAME', { bias: 8, fused: ['BiasAdd', 'Relu'] });
    const d2 = g.conv('d2', 'DepthwiseConv2dNative', d1, [2, 2, 8, 1], 1, 'VALID');
    const c2 = g.conv('c2', 'Conv2D', d2, [1, 1, 8, 5], 1, 'SAME');
    const scaled = g.op('scaled', 'Mul', [g.constant('k', [], [0.1666259765625]), c2]);
    const shifted = g.op('shifted', 'AddV2', [scaled, g.constant('per_channel', [5])]);
    const hard = g.op('hard', 'Relu6', [g.op('sub', 'Sub', [shifted, g.constant('three', [], [3])])]);
    g.op('out', 'Sigmoid', [hard]);
    expect(await worstDifference(g, 'out')).toBeLessThan(1e-5);
  });

  it('reproduces Prelu and LeakyRelu fused into convolutions, and a squeeze-excite block (Mean, 1×1 convs, broadcast Mul)', async () => {
    const g = new TinyGraph([6, 6, 4]);
    const prelu = g.conv('p', '_FusedConv2D', 'x', [3, 3, 4, 4], 1, 'SAME', { bias: 4, fused: ['BiasAdd', 'Prelu'], args: [g.constant('alpha', [4])] });
    const leaky = g.conv('l', '_FusedConv2D', prelu, [1, 1, 4, 4], 1, 'SAME', { bias: 4, fused: ['BiasAdd', 'LeakyRelu'] });
    g.nodes.at(-1)!.attr!.leakyrelu_alpha = a.f(0.3);
    const mean = g.op('mean', 'Mean', [leaky, g.constant('axes', [2], [1, 2], 'int32')], { keep_dims: a.b(true) });
    const squeeze = g.conv('sq', '_FusedConv2D', mean, [1, 1, 4, 2], 1, 'SAME', { bias: 2, fused: ['BiasAdd', 'Relu'] });
    const excite = g.conv('ex', '_FusedConv2D', squeeze, [1, 1, 2, 4], 1, 'SAME', { bias: 4, fused: ['BiasAdd'] });
    g.op('out', 'Mul', [g.op('gate', 'Sigmoid', [excite]), leaky]);
    expect(await worstDifference(g, 'out')).toBeLessThan(1e-5);
  });

  it.each([
    [false, false],
    [true, false],
    [false, true],
  ])('reproduces ResizeBilinear (align_corners %s, half_pixel_centers %s) up and down, concatenated on channels', async (alignCorners, halfPixel) => {
    const g = new TinyGraph([4, 5, 2]);
    const flags = { align_corners: a.b(alignCorners), half_pixel_centers: a.b(halfPixel) };
    const up = g.op('up', 'ResizeBilinear', ['x', g.constant('up_size', [2], [9, 8], 'int32')], flags);
    const down = g.op('down', 'ResizeBilinear', [g.op('big', 'ResizeBilinear', ['x', g.constant('big_size', [2], [18, 16], 'int32')], flags), g.constant('down_size', [2], [9, 8], 'int32')], flags);
    g.op('out', 'ConcatV2', [up, down, g.constant('axis', [], [-1], 'int32')], { N: a.i(2) });
    expect(await worstDifference(g, 'out')).toBeLessThan(1e-5);
  });

  it("reproduces 'same' pooling and CenterNet's max-pool peak filter (Equal, Cast, Mul)", async () => {
    const g = new TinyGraph([7, 9, 3]);
    const pool = { ksize: a.ints([1, 3, 3, 1]), strides: a.ints([1, 1, 1, 1]), padding: a.s('SAME'), data_format: a.s('NHWC') };
    const peaks = g.op('is_peak', 'Cast', [g.op('eq', 'Equal', ['x', g.op('max', 'MaxPool', ['x'], pool)])], { SrcT: { type: 'DT_BOOL' }, DstT: { type: 'DT_FLOAT' } });
    const kept = g.op('kept', 'Mul', ['x', peaks]);
    g.op('out', 'AvgPool', [kept], { ...pool, ksize: a.ints([1, 2, 2, 1]), strides: a.ints([1, 2, 2, 1]) });
    expect(await worstDifference(g, 'kept')).toBe(0);
    expect(await worstDifference(g, 'out')).toBeLessThan(1e-6);
  });

  it('refuses ops and attributes it does not reproduce', () => {
    const convert = (g: TinyGraph, output: string) => () =>
      convertTfGraph(new GraphBuilder(), parseTfGraphModel(g.json(), g.weightData()), { x: { value: 'x', shape: [0, ...g.inputShape], dtype: 'float32' } }, [output]);
    const tanh = new TinyGraph([4, 4, 2]);
    tanh.op('out', 'Tanh', ['x']);
    expect(convert(tanh, 'out')).toThrow(UnsupportedModelError);
    const batchNorm = new TinyGraph([4, 4, 2]);
    batchNorm.conv('out', '_FusedConv2D', 'x', [1, 1, 2, 2], 1, 'SAME', { bias: 2, fused: ['BiasAdd', 'FusedBatchNorm'] });
    expect(convert(batchNorm, 'out')).toThrow(/FusedBatchNorm/);
    const explicit = new TinyGraph([4, 4, 2]);
    explicit.conv('out', 'Conv2D', 'x', [1, 1, 2, 2], 1, 'EXPLICIT');
    expect(convert(explicit, 'out')).toThrow(/padding EXPLICIT/);
    const dynamicSize = new TinyGraph([4, 4, 2]);
    dynamicSize.op('out', 'ResizeBilinear', ['x', dynamicSize.op('size', 'Relu', ['x'])], {});
    expect(convert(dynamicSize, 'out')).toThrow(/must be a constant/);
    const flatMean = new TinyGraph([4, 4, 2]);
    flatMean.op('out', 'Mean', ['x', flatMean.constant('axes', [2], [1, 2], 'int32')], { keep_dims: a.b(false) });
    expect(convert(flatMean, 'out')).toThrow(/keep_dims/);
    const nchw = new TinyGraph([4, 4, 2]);
    nchw.conv('out', 'Conv2D', 'x', [1, 1, 2, 2], 1, 'SAME');
    nchw.nodes.at(-1)!.attr!.data_format = a.s('NCHW');
    expect(convert(nchw, 'out')).toThrow(/data_format NCHW/);
  });

  it('dequantises float16 weights exactly (normal, subnormal, signed, infinite)', () => {
    expect([0x3c00, 0x3555, 0xc000, 0x0001, 0x7bff, 0xfc00].map(halfToFloat)).toEqual([1, 0.333251953125, -2, 2 ** -24, 65504, Number.NEGATIVE_INFINITY]);
  });
});
