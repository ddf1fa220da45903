// Builds tiny ONNX models in memory for tests of model-loading code, so no test depends on a
// downloaded network. The schema below is the subset of onnx.proto (github.com/onnx/onnx,
// onnx/onnx.proto) these graphs need, with the official field numbers.
import protobuf from 'protobufjs';

const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            type: { type: 'int32', id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7 },
            name: { type: 'string', id: 8 },
          },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
        TypeProto: { fields: { tensorType: { type: 'TypeProtoTensor', id: 1 } } },
        TypeProtoTensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
        TensorShapeProto: { fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } } },
        Dimension: { fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } } },
      },
    },
  },
};

/** TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
/** AttributeProto.AttributeType values used here. */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

const ModelProto = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');

export type Dim = number | string;

export interface TinyValue {
  name: string;
  /** Numbers are fixed sizes, strings symbolic ones (e.g. 'batch'). */
  shape: Dim[];
  elemType?: number;
}

export interface TinyNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, number | number[] | { float: number }>;
}

export interface TinyInitializer {
  name: string;
  dims: number[];
  /** Float32 values (or int64 values when elemType is ONNX_INT64). */
  values: ArrayLike<number>;
  elemType?: number;
}

export interface TinyGraph {
  inputs: TinyValue[];
  outputs: TinyValue[];
  nodes: TinyNode[];
  initializers?: TinyInitializer[];
  /** Default opset 13 (ReduceL2 still takes `axes` as an attribute there). */
  opset?: number;
}

function valueInfo(value: TinyValue): Record<string, unknown> {
  return {
    name: value.name,
    type: {
      tensorType: {
        elemType: value.elemType ?? ONNX_FLOAT,
        shape: { dim: value.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: number | number[] | { float: number }): Record<string, unknown> {
  if (Array.isArray(value)) return { name, type: ATTR_INTS, ints: value };
  if (typeof value === 'object') return { name, type: ATTR_FLOAT, f: value.float };
  return { name, type: ATTR_INT, i: value };
}

/** Serialises a graph to the bytes of a .onnx file. */
export function buildOnnxModel(graph: TinyGraph): Uint8Array {
  const model = {
    irVersion: 7,
    producerName: 'vidsearch-tests',
    opsetImport: [{ domain: '', version: graph.opset ?? 13 }],
    graph: {
      name: 'tiny',
      node: graph.nodes.map((n, i) => ({
        name: `${n.opType.toLowerCase()}_${i}`,
        opType: n.opType,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: (graph.initializers ?? []).map((t) =>
        (t.elemType ?? ONNX_FLOAT) === ONNX_INT64
          ? { name: t.name, dims: t.dims, dataType: ONNX_INT64, int64Data: Array.from(t.values) }
          : { name: t.name, dims: t.dims, dataType: ONNX_FLOAT, floatData: Array.from(t.values) },
      ),
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  };
  const problem = ModelProto.verify(model);
  if (problem) throw new Error(`tiny ONNX model is malformed: ${problem}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** Deterministic pseudo-random weights in [-1, 1) (mulberry32), so test models are reproducible. */
export function seededWeights(count: number, seed = 1): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
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
