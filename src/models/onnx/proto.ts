// Writes .onnx files: the subset of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto) that our
// generated graphs need, with the official field numbers, encoded by protobufjs. Shared by the
// Keras → ONNX converter and by the tests' tiny models, so both speak one schema.
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
            s: { type: 'bytes', id: 4 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            type: { type: 'int32', id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
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
const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
/** AttributeProto.AttributeType values used here. */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

const ModelProto = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');

type Dim = number | string;

export interface OnnxValueInfo {
  name: string;
  /** Numbers are fixed sizes, strings symbolic ones (e.g. 'batch'). */
  shape: Dim[];
  elemType?: number;
}

export type OnnxAttribute = number | number[] | { float: number } | string;

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, OnnxAttribute>;
}

export interface OnnxInitializer {
  name: string;
  dims: number[];
  /** Float32 values (or int64 values when elemType is ONNX_INT64). */
  values: ArrayLike<number>;
  elemType?: number;
}

export interface OnnxGraph {
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  nodes: OnnxNode[];
  initializers?: OnnxInitializer[];
  /** Default opset 13 (ReduceL2/ReduceMean still take `axes` as an attribute there). */
  opset?: number;
  producerName?: string;
}

function valueInfo(value: OnnxValueInfo): Record<string, unknown> {
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

function attribute(name: string, value: OnnxAttribute): Record<string, unknown> {
  if (Array.isArray(value)) return { name, type: ATTR_INTS, ints: value };
  if (typeof value === 'object') return { name, type: ATTR_FLOAT, f: value.float };
  if (typeof value === 'string') return { name, type: ATTR_STRING, s: new TextEncoder().encode(value) };
  return { name, type: ATTR_INT, i: value };
}

function initializer(t: OnnxInitializer): Record<string, unknown> {
  if ((t.elemType ?? ONNX_FLOAT) === ONNX_INT64) return { name: t.name, dims: t.dims, dataType: ONNX_INT64, int64Data: Array.from(t.values) };
  // raw_data (little-endian bytes, as on x86/ARM) rather than float_data: millions of weights
  // encode as one copy instead of one varint field each.
  const floats = t.values instanceof Float32Array ? t.values : Float32Array.from(t.values);
  return { name: t.name, dims: t.dims, dataType: ONNX_FLOAT, rawData: new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength) };
}

/** Serialises a graph to the bytes of a .onnx file. */
export function buildOnnxModel(graph: OnnxGraph): Uint8Array {
  const model = {
    irVersion: 7,
    producerName: graph.producerName ?? 'vidsearch',
    opsetImport: [{ domain: '', version: graph.opset ?? 13 }],
    graph: {
      name: 'main',
      node: graph.nodes.map((n, i) => ({
        name: `${n.opType.toLowerCase()}_${i}`,
        opType: n.opType,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: (graph.initializers ?? []).map(initializer),
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  };
  const problem = ModelProto.verify(model);
  if (problem) throw new Error(`ONNX model is malformed: ${problem}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}
