// Keras (tfjs LayersModel) → ONNX, for the layer kinds nsfwjs's MobileNetV2 is made of:
// InputLayer, ZeroPadding2D, Conv2D, DepthwiseConv2D, BatchNormalization, ReLU (max_value 6),
// Add, AveragePooling2D, Flatten, Dense and Dropout. Anything else — or an option of these
// layers whose meaning we do not reproduce — throws, so a converted graph is never silently wrong.
//
// Layout: the NHWC input is transposed once to NCHW (ONNX's convolution layout); kernels go
// HWIO → OIHW; depthwise convolutions become grouped Convs; padding is emitted explicitly from
// static shapes, which reproduces TF's 'same' rule exactly (the odd pixel goes after, not before).
// BatchNormalization stays a node: ONNX Runtime folds it into the preceding Conv when it builds
// the session.
import type { LayersModel } from '@tensorflow/tfjs';
import { convKernel, depthwiseKernel, GraphBuilder, UnsupportedModelError, windowGeometry, type Pair } from './graph-builder.js';
import { buildOnnxModel } from './proto.js';

export interface KerasWeight {
  /** Last part of the variable name: kernel, depthwise_kernel, bias, gamma, beta, moving_mean, moving_variance. */
  role: string;
  shape: number[];
  values: Float32Array;
}

/** One layer of a Keras functional model, read out of tfjs. */
export interface KerasLayer {
  name: string;
  className: string;
  /** tfjs's layer config (camelCase keys). */
  config: Record<string, unknown>;
  /** Names of the layers whose outputs feed this one. */
  inbound: string[];
  /** tfjs's output shape (NHWC for images, null batch): checked against the converted graph's. */
  outputShape: (number | null)[];
  weights: KerasWeight[];
}

export interface OnnxOutputSpec {
  /** Name of the ONNX graph output. */
  name: string;
  /** Keras layer whose output it is. */
  layer: string;
  /**
   * For a 4-D feature map: generalised-mean pooling with this exponent (mean over space of
   * max(x, 1e-6)^p, then ^(1/p)), then L2 normalisation. Without it a 4-D map is returned NHWC.
   */
  gemP?: number;
}

export class UnsupportedLayerError extends UnsupportedModelError {
  override name = 'UnsupportedLayerError';
}

/** Reads the layers, their wiring and their weights out of a loaded tfjs LayersModel. */
export function kerasLayersOf(model: LayersModel): KerasLayer[] {
  return model.layers.map((layer) => {
    if (layer.inboundNodes.length > 1) throw new UnsupportedLayerError(`layer ${layer.name} is shared by several calls`);
    const shape = layer.outputShape;
    if (Array.isArray(shape[0])) throw new UnsupportedLayerError(`layer ${layer.name} has several outputs`);
    return {
      name: layer.name,
      className: layer.getClassName(),
      config: layer.getConfig() as Record<string, unknown>,
      inbound: layer.inboundNodes[0]?.inboundLayers.map((l) => l.name) ?? [],
      outputShape: shape as (number | null)[],
      weights: layer.weights.map((variable, i) => {
        const value = layer.getWeights()[i]!;
        return { role: variable.name.split('/').pop()!.replace(/_\d+$/, ''), shape: value.shape, values: value.dataSync() as Float32Array };
      }),
    };
  });
}

/** A converted tensor: its ONNX name and static shape (NCHW for 4-D maps; batch is symbolic). */
interface Converted {
  value: string;
  shape: number[];
}

function pair(value: unknown, what: string): Pair {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) return value as Pair;
  throw new UnsupportedLayerError(`${what} must be a number or a pair, got ${JSON.stringify(value)}`);
}

function weightOf(layer: KerasLayer, role: string): KerasWeight {
  const weight = layer.weights.find((w) => w.role === role);
  if (!weight) throw new UnsupportedLayerError(`layer ${layer.name} has no ${role} weight`);
  return weight;
}

function requireConfig(layer: KerasLayer, key: string, allowed: readonly unknown[]): void {
  const value = layer.config[key];
  if (value !== undefined && value !== null && !allowed.includes(value)) {
    throw new UnsupportedLayerError(`layer ${layer.name} (${layer.className}): ${key} ${JSON.stringify(value)} is not supported`);
  }
}

function activation(graph: GraphBuilder, layer: KerasLayer, input: string): string {
  const kind = layer.config.activation ?? 'linear';
  if (kind === 'linear') return input;
  if (kind === 'relu') return graph.node('Relu', [input], `${layer.name}/relu`);
  // Keras applies softmax over the last (channel) axis: axis 1 both for [N, C] and for NCHW.
  if (kind === 'softmax') return graph.node('Softmax', [input], `${layer.name}/softmax`, { axis: 1 });
  throw new UnsupportedLayerError(`layer ${layer.name}: activation ${JSON.stringify(kind)} is not supported`);
}

function convertConv(graph: GraphBuilder, layer: KerasLayer, input: Converted): Converted {
  requireConfig(layer, 'dataFormat', ['channelsLast']);
  const depthwise = layer.className === 'DepthwiseConv2D';
  const kernel = weightOf(layer, depthwise ? 'depthwise_kernel' : 'kernel');
  const [kh, kw, kernelIn, kernelOut] = kernel.shape as [number, number, number, number];
  const channels = input.shape[1]!;
  if (kernelIn !== channels) throw new UnsupportedLayerError(`layer ${layer.name}: kernel expects ${kernelIn} channels, input has ${channels}`);
  const outChannels = depthwise ? channels * kernelOut : kernelOut;
  const strides = pair(layer.config.strides, `${layer.name} strides`);
  const dilation = pair(layer.config.dilationRate ?? 1, `${layer.name} dilationRate`);
  const { pads, outputHW } = windowGeometry([input.shape[2]!, input.shape[3]!], [kh, kw], strides, dilation, layer.config.padding);
  const inputs = [
    input.value,
    graph.weight(`${layer.name}/W`, [outChannels, depthwise ? 1 : channels, kh, kw], (depthwise ? depthwiseKernel : convKernel)(kernel.shape, kernel.values)),
  ];
  if (layer.config.useBias) inputs.push(graph.weight(`${layer.name}/B`, [outChannels], weightOf(layer, 'bias').values));
  const conv = graph.node('Conv', inputs, `${layer.name}/conv`, {
    kernel_shape: [kh, kw],
    strides,
    dilations: dilation,
    pads,
    group: depthwise ? channels : 1,
  });
  return { value: activation(graph, layer, conv), shape: [0, outChannels, ...outputHW] };
}

function convertBatchNorm(graph: GraphBuilder, layer: KerasLayer, input: Converted): Converted {
  requireConfig(layer, 'axis', [-1, 3]);
  const channels = input.shape[1]!;
  const scale = layer.config.scale === false ? new Float32Array(channels).fill(1) : weightOf(layer, 'gamma').values;
  const offset = layer.config.center === false ? new Float32Array(channels) : weightOf(layer, 'beta').values;
  const value = graph.node(
    'BatchNormalization',
    [
      input.value,
      graph.weight(`${layer.name}/scale`, [channels], scale),
      graph.weight(`${layer.name}/offset`, [channels], offset),
      graph.weight(`${layer.name}/mean`, [channels], weightOf(layer, 'moving_mean').values),
      graph.weight(`${layer.name}/variance`, [channels], weightOf(layer, 'moving_variance').values),
    ],
    layer.name,
    { epsilon: { float: Number(layer.config.epsilon ?? 1e-3) } },
  );
  return { value, shape: input.shape };
}

function convertReLU(graph: GraphBuilder, layer: KerasLayer, input: Converted): Converted {
  requireConfig(layer, 'negativeSlope', [0]);
  requireConfig(layer, 'threshold', [0]);
  const maxValue = layer.config.maxValue;
  const value =
    typeof maxValue === 'number'
      ? graph.node('Clip', [input.value, graph.scalar(0), graph.scalar(maxValue)], layer.name)
      : graph.node('Relu', [input.value], layer.name);
  return { value, shape: input.shape };
}

function convertLayer(graph: GraphBuilder, layer: KerasLayer, inputs: Converted[]): Converted {
  const [input] = inputs;
  if (!input) throw new UnsupportedLayerError(`layer ${layer.name} has no input`);
  switch (layer.className) {
    case 'ZeroPadding2D': {
      requireConfig(layer, 'dataFormat', ['channelsLast']);
      const raw = layer.config.padding;
      const [[top, bottom], [left, right]] = (Array.isArray(raw) && Array.isArray(raw[0]) ? raw : [pair(raw, 'padding'), pair(raw, 'padding')]) as [Pair, Pair];
      const pads = graph.int64s(`${layer.name}/pads`, [0, 0, top, left, 0, 0, bottom, right]);
      const [n, c, h, w] = input.shape as [number, number, number, number];
      return { value: graph.node('Pad', [input.value, pads], layer.name), shape: [n, c, h + top + bottom, w + left + right] };
    }
    case 'Conv2D':
    case 'DepthwiseConv2D':
      return convertConv(graph, layer, input);
    case 'BatchNormalization':
      return convertBatchNorm(graph, layer, input);
    case 'ReLU':
      return convertReLU(graph, layer, input);
    case 'Add': {
      if (inputs.some((other) => other.shape.join() !== input.shape.join())) throw new UnsupportedLayerError(`layer ${layer.name}: broadcasting Add`);
      let sum = input.value;
      inputs.slice(1).forEach((other, i) => {
        sum = graph.node('Add', [sum, other.value], i === inputs.length - 2 ? layer.name : `${layer.name}/${i}`);
      });
      return { value: sum, shape: input.shape };
    }
    case 'AveragePooling2D': {
      requireConfig(layer, 'dataFormat', ['channelsLast']);
      const kernel = pair(layer.config.poolSize, `${layer.name} poolSize`);
      const strides = pair(layer.config.strides ?? kernel, `${layer.name} strides`);
      const { pads, outputHW } = windowGeometry([input.shape[2]!, input.shape[3]!], kernel, strides, [1, 1], layer.config.padding);
      // TF's 'same' average ignores the padded cells: count_include_pad 0.
      const value = graph.node('AveragePool', [input.value], layer.name, { kernel_shape: kernel, strides, pads, count_include_pad: 0 });
      return { value, shape: [input.shape[0]!, input.shape[1]!, ...outputHW] };
    }
    case 'Flatten': {
      requireConfig(layer, 'dataFormat', ['channelsLast']);
      // Keras flattens in NHWC order: transpose back before flattening.
      const source = input.shape.length === 4 ? graph.node('Transpose', [input.value], `${layer.name}/nhwc`, { perm: [0, 2, 3, 1] }) : input.value;
      const value = graph.node('Flatten', [source], layer.name, { axis: 1 });
      return { value, shape: [input.shape[0]!, input.shape.slice(1).reduce((a, b) => a * b, 1)] };
    }
    case 'Dense': {
      if (input.shape.length !== 2) throw new UnsupportedLayerError(`layer ${layer.name}: Dense on a ${input.shape.length}-D input`);
      const kernel = weightOf(layer, 'kernel');
      const [inFeatures, units] = kernel.shape as [number, number];
      const gemmInputs = [input.value, graph.weight(`${layer.name}/W`, [inFeatures, units], kernel.values)];
      if (layer.config.useBias) gemmInputs.push(graph.weight(`${layer.name}/B`, [units], weightOf(layer, 'bias').values));
      const gemm = graph.node('Gemm', gemmInputs, `${layer.name}/gemm`);
      return { value: activation(graph, layer, gemm), shape: [input.shape[0]!, units] };
    }
    case 'Dropout':
      // Identity at inference.
      return input;
    default:
      throw new UnsupportedLayerError(`layer ${layer.name}: ${layer.className} is not supported`);
  }
}

/** tfjs's NHWC output shape, in our layout (NCHW for 4-D), batch as 0. */
function expectedShape(layer: KerasLayer): number[] {
  const dims = layer.outputShape.map((d) => d ?? 0);
  return dims.length === 4 ? [dims[0]!, dims[3]!, dims[1]!, dims[2]!] : dims;
}

function gemHead(graph: GraphBuilder, output: OnnxOutputSpec, map: Converted, p: number): string {
  const positive = graph.node('Max', [map.value, graph.scalar(1e-6)], `${output.name}/positive`);
  const powered = graph.node('Pow', [positive, graph.scalar(p)], `${output.name}/pow`);
  const mean = graph.node('ReduceMean', [powered], `${output.name}/mean`, { axes: [2, 3], keepdims: 0 });
  const pooled = graph.node('Pow', [mean, graph.scalar(1 / p)], `${output.name}/gem`);
  const norm = graph.node('ReduceL2', [pooled], `${output.name}/norm`, { axes: [1], keepdims: 1 });
  const safeNorm = graph.node('Max', [norm, graph.scalar(1e-12)], `${output.name}/safe_norm`);
  return graph.node('Div', [pooled, safeNorm], output.name);
}

/**
 * Converts a Keras image model (one NHWC float input) to the bytes of an ONNX model (opset 13)
 * with a symbolic batch dimension and the requested outputs.
 */
export function kerasToOnnx(layers: readonly KerasLayer[], outputs: readonly OnnxOutputSpec[], inputName = 'input'): Uint8Array {
  const graph = new GraphBuilder();
  const converted = new Map<string, Converted>();
  const inputLayers = layers.filter((l) => l.className === 'InputLayer');
  if (inputLayers.length !== 1) throw new UnsupportedLayerError(`expected one InputLayer, found ${inputLayers.length}`);
  const inputShape = inputLayers[0]!.outputShape;
  if (inputShape.length !== 4 || inputShape.slice(1).some((d) => d === null)) {
    throw new UnsupportedLayerError(`input must be NHWC with fixed H, W, C; got ${JSON.stringify(inputShape)}`);
  }
  const [, height, width, channels] = inputShape as [null, number, number, number];

  for (const layer of layers) {
    let result: Converted;
    if (layer.className === 'InputLayer') {
      result = { value: graph.node('Transpose', [inputName], `${layer.name}/nchw`, { perm: [0, 3, 1, 2] }), shape: [0, channels, height, width] };
    } else {
      const inputs = layer.inbound.map((name) => {
        const source = converted.get(name);
        if (!source) throw new UnsupportedLayerError(`layer ${layer.name} reads ${name}, which comes later or does not exist`);
        return source;
      });
      result = convertLayer(graph, layer, inputs);
    }
    const expected = expectedShape(layer);
    if (result.shape.join() !== expected.join()) {
      throw new UnsupportedLayerError(`layer ${layer.name}: converted shape ${result.shape.join('×')} differs from Keras ${expected.join('×')}`);
    }
    converted.set(layer.name, result);
  }

  const graphOutputs = outputs.map((output) => {
    const source = converted.get(output.layer);
    if (!source) throw new UnsupportedLayerError(`output ${output.name}: no layer ${output.layer}`);
    if (output.gemP !== undefined) {
      if (source.shape.length !== 4) throw new UnsupportedLayerError(`output ${output.name}: GeM needs a 4-D map`);
      gemHead(graph, output, source, output.gemP);
      return { name: output.name, shape: ['batch', source.shape[1]!] };
    }
    if (source.shape.length === 4) {
      graph.node('Transpose', [source.value], output.name, { perm: [0, 2, 3, 1] });
      return { name: output.name, shape: ['batch', source.shape[2]!, source.shape[3]!, source.shape[1]!] };
    }
    graph.node('Identity', [source.value], output.name);
    return { name: output.name, shape: ['batch', ...source.shape.slice(1)] };
  });

  return buildOnnxModel({
    producerName: 'vidsearch-keras-to-onnx',
    inputs: [{ name: inputName, shape: ['batch', height, width, channels] }],
    outputs: graphOutputs,
    nodes: graph.nodes,
    initializers: graph.initializers,
  });
}
