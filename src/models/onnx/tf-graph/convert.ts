// tfjs graph model (TF GraphDef, NHWC) → ONNX nodes (NCHW), op by op, for the ops image CNNs such
// as MobileNet-v3 CenterNet are made of after tfjs's converter has fused them: _FusedConv2D,
// Conv2D, (Fused)DepthwiseConv2dNative, Add/AddV2/Sub/Mul, Relu, Relu6, Sigmoid, Identity, Mean,
// ResizeBilinear, ConcatV2, MaxPool, AvgPool, Equal and Cast. Every op, and every attribute value
// whose meaning is not reproduced exactly, throws UnsupportedModelError: a converted graph is never
// silently wrong. Only the nodes the requested outputs depend on are converted.
//
// Layout: 4-D tensors are NCHW on the ONNX side; shapes are tracked in TF's order (NHWC, batch 0)
// and checked at every node, so a wrong axis mapping fails at conversion, not at inference.
import { convKernel, depthwiseKernel, GraphBuilder, UnsupportedModelError, windowGeometry, type Pair } from '../graph-builder.js';
import { attr, type TfConst, type TfGraphModel, type TfNodeDef } from './model.js';

/** A converted tensor: its ONNX name, TF-order shape (0 for the batch) and element type. */
export interface ConvertedTensor {
  value: string;
  shape: number[];
  dtype: 'float32' | 'bool';
}

/** NHWC axis → NCHW axis. */
const NCHW_AXIS = [0, 2, 3, 1];
/** ONNX TensorProto.DataType FLOAT, for Cast. */
const ONNX_FLOAT_TYPE = 1;

type Operand = { tensor: ConvertedTensor } | { constant: TfConst; name: string };

function fail(node: TfNodeDef, why: string): never {
  throw new UnsupportedModelError(`${node.op} ${node.name}: ${why}`);
}

function requireAttr(node: TfNodeDef, ok: boolean, what: string): void {
  if (!ok) fail(node, `${what} is not supported`);
}

class TfGraphConverter {
  private readonly done = new Map<string, ConvertedTensor>();

  constructor(
    private readonly graph: GraphBuilder,
    private readonly model: TfGraphModel,
    inputs: Record<string, ConvertedTensor>,
  ) {
    for (const [name, tensor] of Object.entries(inputs)) this.done.set(name, tensor);
  }

  tensor(ref: string): ConvertedTensor {
    const operand = this.operand(ref);
    if (!('tensor' in operand)) throw new UnsupportedModelError(`${ref} is a constant where a tensor is expected`);
    return operand.tensor;
  }

  private operand(ref: string): Operand {
    if (ref.startsWith('^')) throw new UnsupportedModelError(`control input ${ref}`);
    const [name, port] = ref.split(':');
    if (port !== undefined && port !== '0') throw new UnsupportedModelError(`output ${ref} (only first outputs are converted)`);
    const node = this.model.nodes.get(name!);
    if (!node) throw new UnsupportedModelError(`no node ${name}`);
    if (node.op === 'Const') return { constant: this.model.consts.get(node.name)!, name: node.name };
    let converted = this.done.get(node.name);
    if (!converted) {
      converted = this.convert(node);
      this.done.set(node.name, converted);
    }
    return { tensor: converted };
  }

  private constant(node: TfNodeDef, index: number): TfConst {
    const operand = this.operand(node.input?.[index] ?? fail(node, `input ${index} missing`));
    if (!('constant' in operand)) fail(node, `input ${index} must be a constant`);
    return operand.constant;
  }

  private input(node: TfNodeDef, index: number): ConvertedTensor {
    const tensor = this.tensor(node.input?.[index] ?? fail(node, `input ${index} missing`));
    if (tensor.dtype !== 'float32') fail(node, `input ${index} is ${tensor.dtype}`);
    return tensor;
  }

  private out(value: string, shape: number[], dtype: ConvertedTensor['dtype'] = 'float32'): ConvertedTensor {
    return { value, shape, dtype };
  }

  private convert(node: TfNodeDef): ConvertedTensor {
    const t = attr.type(node, 'T');
    if (t !== undefined && t !== 'DT_FLOAT' && node.op !== 'Cast') fail(node, `element type ${t}`);
    switch (node.op) {
      case '_FusedConv2D':
      case 'Conv2D':
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative':
        return this.conv(node);
      case 'Add':
      case 'AddV2':
      case 'Sub':
      case 'Mul':
        return this.binary(node, { Add: 'Add', AddV2: 'Add', Sub: 'Sub', Mul: 'Mul' }[node.op]);
      case 'Relu':
        return this.out(this.graph.node('Relu', [this.input(node, 0).value], node.name), this.input(node, 0).shape);
      case 'Relu6': {
        const x = this.input(node, 0);
        return this.out(this.graph.node('Clip', [x.value, this.graph.scalar(0), this.graph.scalar(6)], node.name), x.shape);
      }
      case 'Sigmoid':
        return this.out(this.graph.node('Sigmoid', [this.input(node, 0).value], node.name), this.input(node, 0).shape);
      case 'Identity':
        return this.tensor(node.input?.[0] ?? fail(node, 'no input'));
      case 'Mean':
        return this.mean(node);
      case 'ResizeBilinear':
        return this.resize(node);
      case 'ConcatV2':
        return this.concat(node);
      case 'MaxPool':
      case 'AvgPool':
        return this.pool(node);
      case 'Equal': {
        const [a, b] = [this.input(node, 0), this.input(node, 1)];
        requireAttr(node, a.shape.join() === b.shape.join(), 'broadcasting');
        return this.out(this.graph.node('Equal', [a.value, b.value], node.name), a.shape, 'bool');
      }
      case 'Cast': {
        requireAttr(node, attr.type(node, 'DstT') === 'DT_FLOAT' && attr.bool(node, 'Truncate') !== true, `Cast to ${attr.type(node, 'DstT')}`);
        const x = this.tensor(node.input?.[0] ?? fail(node, 'no input'));
        return this.out(this.graph.node('Cast', [x.value], node.name, { to: ONNX_FLOAT_TYPE }), x.shape);
      }
      case 'Placeholder':
        return fail(node, 'is not bound to an input');
      default:
        return fail(node, 'op is not supported');
    }
  }

  /** strides/dilations/ksize as [1, h, w, 1] (NHWC) → [h, w]. */
  private spatial(node: TfNodeDef, key: string, fallback: number[] | undefined): Pair {
    const values = attr.ints(node, key) ?? fallback;
    if (!values || values.length !== 4 || values[0] !== 1 || values[3] !== 1) fail(node, `${key} ${JSON.stringify(values)}`);
    return [values[1]!, values[2]!];
  }

  private window(node: TfNodeDef, x: ConvertedTensor, kernel: Pair, strides: Pair, dilation: Pair) {
    requireAttr(node, (attr.string(node, 'data_format') ?? 'NHWC') === 'NHWC', `data_format ${attr.string(node, 'data_format')}`);
    requireAttr(node, (attr.ints(node, 'explicit_paddings') ?? []).length === 0, 'explicit_paddings');
    const padding = attr.string(node, 'padding');
    requireAttr(node, padding === 'SAME' || padding === 'VALID', `padding ${padding}`);
    if (x.shape.length !== 4) fail(node, `input of rank ${x.shape.length}`);
    return windowGeometry([x.shape[1]!, x.shape[2]!], kernel, strides, dilation, padding!.toLowerCase());
  }

  private conv(node: TfNodeDef): ConvertedTensor {
    const depthwise = node.op.includes('Depthwise');
    const x = this.input(node, 0);
    const filter = this.constant(node, 1);
    const [kh, kw, kernelIn, kernelOut] = filter.shape as [number, number, number, number];
    if (filter.shape.length !== 4 || filter.dtype !== 'float32') fail(node, `filter of shape ${filter.shape.join('×')}`);
    const channels = x.shape[3]!;
    if (kernelIn !== channels) fail(node, `filter expects ${kernelIn} channels, input has ${channels}`);
    const outChannels = depthwise ? channels * kernelOut : kernelOut;
    const strides = this.spatial(node, 'strides', undefined);
    const dilation = this.spatial(node, 'dilations', [1, 1, 1, 1]);
    const { pads, outputHW } = this.window(node, x, [kh, kw], strides, dilation);
    const weights = (depthwise ? depthwiseKernel : convKernel)(filter.shape, filter.values as Float32Array);
    const inputs = [x.value, this.graph.weight(`${node.name}/W`, [outChannels, depthwise ? 1 : channels, kh, kw], weights)];
    const fused = node.op.startsWith('Fused') || node.op.startsWith('_Fused') ? attr.strings(node, 'fused_ops') : [];
    const [bias, activation, ...rest] = fused;
    if (fused.length > 0) {
      requireAttr(node, bias === 'BiasAdd' && rest.length === 0, `fused_ops ${JSON.stringify(fused)}`);
      const b = this.constant(node, 2);
      if (b.values.length !== outChannels) fail(node, `bias of ${b.values.length} values for ${outChannels} channels`);
      inputs.push(this.graph.weight(`${node.name}/B`, [outChannels], b.values as Float32Array));
    }
    const expectedArgs = activation === 'Prelu' ? 2 : fused.length > 0 ? 1 : undefined;
    requireAttr(node, attr.int(node, 'num_args') === expectedArgs || (expectedArgs === undefined && attr.int(node, 'num_args') === undefined), `num_args ${attr.int(node, 'num_args')}`);
    const convName = activation ? `${node.name}/conv` : node.name;
    const conv = this.graph.node('Conv', inputs, convName, { kernel_shape: [kh, kw], strides, dilations: dilation, pads, group: depthwise ? channels : 1 });
    const shape = [x.shape[0]!, ...outputHW, outChannels];
    return this.out(activation ? this.activation(node, activation, conv, outChannels) : conv, shape);
  }

  private activation(node: TfNodeDef, kind: string, input: string, channels: number): string {
    switch (kind) {
      case 'Relu':
        return this.graph.node('Relu', [input], node.name);
      case 'Relu6':
        return this.graph.node('Clip', [input, this.graph.scalar(0), this.graph.scalar(6)], node.name);
      case 'Sigmoid':
        return this.graph.node('Sigmoid', [input], node.name);
      case 'LeakyRelu':
        return this.graph.node('LeakyRelu', [input], node.name, { alpha: { float: attr.float(node, 'leakyrelu_alpha') ?? 0.2 } });
      case 'Prelu': {
        const alpha = this.constant(node, 3);
        if (alpha.values.length !== channels) fail(node, `Prelu alpha of ${alpha.values.length} values for ${channels} channels`);
        return this.graph.node('PRelu', [input, this.graph.weight(`${node.name}/alpha`, [channels, 1, 1], alpha.values as Float32Array)], node.name);
      }
      default:
        return fail(node, `fused activation ${kind}`);
    }
  }

  /** An elementwise op with TF (numpy) broadcasting; constants are laid out NCHW like the tensors. */
  private binary(node: TfNodeDef, opType: string): ConvertedTensor {
    const operands = [0, 1].map((i) => this.operand(node.input?.[i] ?? fail(node, `input ${i} missing`)));
    const tensors = operands.flatMap((o) => ('tensor' in o ? [o.tensor] : []));
    if (tensors.length === 0) fail(node, 'two constant inputs (not folded)');
    const rank = Math.max(...tensors.map((x) => x.shape.length));
    // Tensors of different ranks would broadcast on NCHW axes, not on TF's: refused.
    if (tensors.some((x) => x.shape.length !== rank)) fail(node, 'tensors of different ranks');
    const names = operands.map((o, i) => ('tensor' in o ? o.tensor.value : this.broadcastConstant(node, o.constant, `${o.name}@${node.name}/${i}`, rank)));
    const shapes = operands.map((o) => ('tensor' in o ? o.tensor.shape : o.constant.shape));
    return this.out(this.graph.node(opType, names, node.name), broadcastShape(node, shapes, rank));
  }

  private broadcastConstant(node: TfNodeDef, constant: TfConst, name: string, rank: number): string {
    if (constant.dtype !== 'float32') fail(node, `${constant.dtype} constant`);
    if (constant.values.length === 1) return this.graph.scalar(constant.values[0]!);
    if (rank !== 4 || constant.shape.length > 4) fail(node, `a ${constant.shape.length}-D constant against a ${rank}-D tensor`);
    // Right-aligned like numpy, then NHWC → NCHW: a [C] constant becomes [1, C, 1, 1].
    const nhwc = [...Array(4 - constant.shape.length).fill(1), ...constant.shape] as number[];
    const [n, h, w, c] = nhwc as [number, number, number, number];
    const values = new Float32Array(constant.values.length);
    for (let i = 0; i < n; i++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) values[((i * c + k) * h + y) * w + x] = constant.values[((i * h + y) * w + x) * c + k]!;
    return this.graph.weight(name, [n, c, h, w], values);
  }

  private mean(node: TfNodeDef): ConvertedTensor {
    const x = this.input(node, 0);
    requireAttr(node, attr.bool(node, 'keep_dims') === true, 'keep_dims false');
    if (x.shape.length !== 4) fail(node, `input of rank ${x.shape.length}`);
    const axes = [...this.constant(node, 1).values].map((a) => (a < 0 ? a + 4 : a));
    const shape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    return this.out(this.graph.node('ReduceMean', [x.value], node.name, { axes: axes.map((a) => NCHW_AXIS[a]!), keepdims: 1 }), shape);
  }

  private resize(node: TfNodeDef): ConvertedTensor {
    const x = this.input(node, 0);
    const [height, width] = [...this.constant(node, 1).values] as [number, number];
    const alignCorners = attr.bool(node, 'align_corners') === true;
    const halfPixel = attr.bool(node, 'half_pixel_centers') === true;
    requireAttr(node, !(alignCorners && halfPixel), 'align_corners with half_pixel_centers');
    // TF's legacy rule (neither flag) samples at out·in/out: ONNX 'asymmetric'.
    const mode = alignCorners ? 'align_corners' : halfPixel ? 'half_pixel' : 'asymmetric';
    return this.out(resizeBilinear(this.graph, x.value, [height, width], mode, node.name), [x.shape[0]!, height, width, x.shape[3]!]);
  }

  private concat(node: TfNodeDef): ConvertedTensor {
    const count = attr.int(node, 'N') ?? fail(node, 'no N');
    const parts = Array.from({ length: count }, (_, i) => this.input(node, i));
    const rank = parts[0]!.shape.length;
    let [axis] = [...this.constant(node, count).values] as [number];
    if (axis < 0) axis += rank;
    if (rank !== 4 || parts.some((p) => p.shape.length !== 4 || p.shape.some((d, i) => i !== axis && d !== parts[0]!.shape[i]))) fail(node, 'parts of different shapes');
    const shape = parts[0]!.shape.map((d, i) => (i === axis ? parts.reduce((sum, p) => sum + p.shape[i]!, 0) : d));
    return this.out(this.graph.node('Concat', parts.map((p) => p.value), node.name, { axis: NCHW_AXIS[axis]! }), shape);
  }

  private pool(node: TfNodeDef): ConvertedTensor {
    const x = this.input(node, 0);
    const kernel = this.spatial(node, 'ksize', undefined);
    const strides = this.spatial(node, 'strides', undefined);
    const { pads, outputHW } = this.window(node, x, kernel, strides, [1, 1]);
    // TF leaves padded cells out of both the max and the average: ONNX's -inf padding and count_include_pad 0.
    const attributes = { kernel_shape: kernel, strides, pads, ...(node.op === 'AvgPool' ? { count_include_pad: 0 } : {}) };
    const value = this.graph.node(node.op === 'AvgPool' ? 'AveragePool' : 'MaxPool', [x.value], node.name, attributes);
    return this.out(value, [x.shape[0]!, ...outputHW, x.shape[3]!]);
  }
}

function broadcastShape(node: TfNodeDef, shapes: number[][], rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => {
    const dims = shapes.map((s) => s[s.length - rank + i] ?? 1);
    const sizes = new Set(dims.filter((d) => d !== 1));
    if (sizes.size > 1) fail(node, `shapes ${shapes.map((s) => s.join('×')).join(' and ')} do not broadcast`);
    return dims.includes(0) ? 0 : (sizes.values().next().value ?? 1);
  });
}

/**
 * Bilinear resize of an NCHW map to height×width, the batch and channels kept (read from the
 * tensor's shape at run time, so the batch stays symbolic).
 */
export function resizeBilinear(graph: GraphBuilder, x: string, [height, width]: Pair, mode: 'asymmetric' | 'align_corners' | 'half_pixel', name: string): string {
  const shape = graph.node('Shape', [x], `${name}/shape`);
  const batchChannels = graph.node('Slice', [shape, graph.int64s(`${name}/from`, [0]), graph.int64s(`${name}/to`, [2])], `${name}/nc`);
  const sizes = graph.node('Concat', [batchChannels, graph.int64s(`${name}/hw`, [height, width])], `${name}/sizes`, { axis: 0 });
  return graph.node('Resize', [x, '', '', sizes], name, { mode: 'linear', coordinate_transformation_mode: mode });
}

/** Converts what `outputs` (TF tensor names) depend on, the Placeholders bound to `inputs`. */
export function convertTfGraph(graph: GraphBuilder, model: TfGraphModel, inputs: Record<string, ConvertedTensor>, outputs: readonly string[]): ConvertedTensor[] {
  const converter = new TfGraphConverter(graph, model, inputs);
  return outputs.map((name) => converter.tensor(name));
}
