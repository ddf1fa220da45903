// A tfjs graph model (GraphDef as JSON + weight shards, as tensorflowjs_converter writes it), read
// without tfjs: the nodes by name, their attributes decoded, and every Const's values (float16
// quantised weights dequantised exactly as tfjs does). What this reader does not know (other
// quantisations, string or bool constants) throws.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UnsupportedModelError } from '../graph-builder.js';

/** One attribute of a NodeDef as tfjs's JSON holds it (strings base64, int64s as strings). */
export interface TfAttrValue {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  list?: { s?: string[]; i?: (string | number)[]; f?: number[] };
  [other: string]: unknown;
}

export interface TfNodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttrValue>;
}

export interface TfWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; [other: string]: unknown };
}

export interface TfGraphModelJson {
  modelTopology: { node: TfNodeDef[] };
  weightsManifest: { paths: string[]; weights: TfWeightSpec[] }[];
}

export interface TfConst {
  dtype: 'float32' | 'int32';
  shape: number[];
  values: Float32Array | Int32Array;
}

export interface TfGraphModel {
  nodes: Map<string, TfNodeDef>;
  consts: Map<string, TfConst>;
}

/** IEEE 754 half → float, subnormals included (what tfjs's float16 dequantisation computes). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function decodeWeight(spec: TfWeightSpec, bytes: Buffer, offset: number): { value: TfConst; size: number } {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.dtype !== 'float32' && spec.dtype !== 'int32') throw new UnsupportedModelError(`weight ${spec.name}: dtype ${spec.dtype}`);
  if (spec.quantization) {
    if (spec.quantization.dtype !== 'float16' || spec.dtype !== 'float32') {
      throw new UnsupportedModelError(`weight ${spec.name}: ${spec.quantization.dtype} quantisation of ${spec.dtype}`);
    }
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = halfToFloat(bytes.readUInt16LE(offset + 2 * i));
    return { value: { dtype: 'float32', shape: spec.shape, values }, size: 2 * count };
  }
  const copy = bytes.subarray(offset, offset + 4 * count);
  if (copy.length !== 4 * count) throw new UnsupportedModelError(`weight ${spec.name} runs past the end of the weight data`);
  // A copy into an aligned buffer (the shard's offset need not be a multiple of 4); x86/ARM are little-endian like the file.
  const aligned = new Uint8Array(copy).buffer;
  const values = spec.dtype === 'float32' ? new Float32Array(aligned) : new Int32Array(aligned);
  return { value: { dtype: spec.dtype, shape: spec.shape, values }, size: 4 * count };
}

/** Parses a graph model from its JSON and the concatenated bytes of its weight shards. */
export function parseTfGraphModel(json: TfGraphModelJson, weightData: Buffer): TfGraphModel {
  const nodes = new Map(json.modelTopology.node.map((n) => [n.name, n]));
  const consts = new Map<string, TfConst>();
  let offset = 0;
  for (const spec of json.weightsManifest.flatMap((group) => group.weights)) {
    const { value, size } = decodeWeight(spec, weightData, offset);
    consts.set(spec.name, value);
    offset += size;
  }
  if (offset !== weightData.length) throw new UnsupportedModelError(`weights take ${offset} bytes, the shards hold ${weightData.length}`);
  for (const node of nodes.values()) {
    if (node.op === 'Const' && !consts.has(node.name)) throw new UnsupportedModelError(`Const ${node.name} has no weight entry`);
  }
  return { nodes, consts };
}

/** A tfjs model's model.json as parsed JSON, and its weight shards (beside it) joined in manifest order. */
export async function readTfModelFiles<Json extends { weightsManifest: { paths: string[] }[] }>(file: string): Promise<{ json: Json; weights: Buffer }> {
  const json = JSON.parse(await readFile(file, 'utf8')) as Json;
  const shards = await Promise.all(json.weightsManifest.flatMap((group) => group.paths.map((p) => readFile(path.join(path.dirname(file), p)))));
  return { json, weights: Buffer.concat(shards) };
}

/** Reads model.json and its weight shards from disk. */
export async function readTfGraphModel(file: string): Promise<TfGraphModel> {
  const { json, weights } = await readTfModelFiles<TfGraphModelJson>(file);
  return parseTfGraphModel(json, weights);
}

const decode = (base64: string): string => Buffer.from(base64, 'base64').toString('utf8');

/** Typed access to a node's attributes; a missing one reads as undefined. */
export const attr = {
  string: (node: TfNodeDef, key: string): string | undefined => (node.attr?.[key]?.s === undefined ? undefined : decode(node.attr[key]!.s!)),
  strings: (node: TfNodeDef, key: string): string[] => (node.attr?.[key]?.list?.s ?? []).map(decode),
  ints: (node: TfNodeDef, key: string): number[] | undefined => node.attr?.[key]?.list?.i?.map(Number),
  int: (node: TfNodeDef, key: string): number | undefined => (node.attr?.[key]?.i === undefined ? undefined : Number(node.attr[key]!.i)),
  float: (node: TfNodeDef, key: string): number | undefined => node.attr?.[key]?.f,
  bool: (node: TfNodeDef, key: string): boolean | undefined => node.attr?.[key]?.b,
  type: (node: TfNodeDef, key: string): string | undefined => node.attr?.[key]?.type,
};
