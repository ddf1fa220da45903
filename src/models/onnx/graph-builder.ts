// Pieces shared by the converters that emit ONNX graphs (Keras layers, tfjs graph models): a node
// and initializer accumulator, and TF's sliding-window geometry ('same'/'valid' padding made
// explicit, since ONNX's SAME_UPPER/LOWER are not always TF's rule on every runtime).
import { ONNX_INT64, type OnnxAttribute, type OnnxInitializer, type OnnxNode } from './proto.js';

/** A model uses something a converter does not reproduce exactly: it throws instead of guessing. */
export class UnsupportedModelError extends Error {
  override name = 'UnsupportedModelError';
}

export type Pair = [number, number];

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private readonly scalars = new Map<number, string>();

  node(opType: string, inputs: string[], output: string, attributes?: Record<string, OnnxAttribute>): string {
    this.nodes.push({ opType, inputs, outputs: [output], attributes });
    return output;
  }

  /** A node with several outputs (e.g. TopK's values and indices). */
  multiNode(opType: string, inputs: string[], outputs: string[], attributes?: Record<string, OnnxAttribute>): string[] {
    this.nodes.push({ opType, inputs, outputs, attributes });
    return outputs;
  }

  weight(name: string, dims: number[], values: Float32Array): string {
    this.initializers.push({ name, dims, values });
    return name;
  }

  /** A float scalar constant (shared by every node that needs the same value). */
  scalar(value: number): string {
    let name = this.scalars.get(value);
    if (!name) {
      name = `const_${this.scalars.size}`;
      this.initializers.push({ name, dims: [], values: [value] });
      this.scalars.set(value, name);
    }
    return name;
  }

  int64s(name: string, values: number[]): string {
    this.initializers.push({ name, dims: [values.length], values, elemType: ONNX_INT64 });
    return name;
  }
}

/** Pads [top, left, bottom, right] and output size for a sliding window over an H×W map (padding 'same' or 'valid', as Keras and TF spell them in lower case). */
export function windowGeometry(inputHW: Pair, kernel: Pair, strides: Pair, dilation: Pair, padding: unknown): { pads: number[]; outputHW: Pair } {
  const extent = [0, 1].map((i) => (kernel[i]! - 1) * dilation[i]! + 1);
  if (padding === 'valid') {
    return { pads: [0, 0, 0, 0], outputHW: [0, 1].map((i) => Math.floor((inputHW[i]! - extent[i]!) / strides[i]!) + 1) as Pair };
  }
  if (padding === 'same') {
    const outputHW = [0, 1].map((i) => Math.ceil(inputHW[i]! / strides[i]!)) as Pair;
    const total = [0, 1].map((i) => Math.max(0, (outputHW[i]! - 1) * strides[i]! + extent[i]! - inputHW[i]!));
    // TF puts the smaller half before: floor(total / 2) on top/left, the rest bottom/right.
    const before = total.map((t) => Math.floor(t / 2));
    return { pads: [before[0]!, before[1]!, total[0]! - before[0]!, total[1]! - before[1]!], outputHW };
  }
  throw new UnsupportedModelError(`padding ${JSON.stringify(padding)}`);
}

/** H×W×I×O (TF Conv2D, Keras Conv2D) → O×I×H×W (ONNX Conv). */
export function convKernel(shape: readonly number[], values: Float32Array): Float32Array {
  const [kh, kw, cin, cout] = shape as [number, number, number, number];
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = values[((y * kw + x) * cin + i) * cout + o]!;
  return out;
}

/** H×W×C×M (TF depthwise) → (C·M)×1×H×W (grouped ONNX Conv, group C; output channel c·M + m as in TF). */
export function depthwiseKernel(shape: readonly number[], values: Float32Array): Float32Array {
  const [kh, kw, channels, multiplier] = shape as [number, number, number, number];
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let c = 0; c < channels; c++)
        for (let m = 0; m < multiplier; m++) out[((c * multiplier + m) * kh + y) * kw + x] = values[((y * kw + x) * channels + c) * multiplier + m]!;
  return out;
}
