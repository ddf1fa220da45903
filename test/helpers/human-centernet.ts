// The reference object detector: CenterNet as @vladmandic/human runs and decodes it, on tfjs's
// WASM backend — what the objects stage ran before the ONNX conversion, kept for the equivalence
// test. Human's own model fetcher uses fetch(), which cannot read file:// in Node, so the model
// files are handed to tfjs through a file:// load router that reads them from the package folder.
import { createRequire } from 'node:module';
import path from 'node:path';
import { readTfModelFiles } from '../../src/models/onnx/tf-graph/model.js';
import { DEFAULT_OBJECT_OPTIONS, finishDetections, toRgb, type CenterNetResult, type DetectedObject, type ObjectDetectorOptions } from '../../src/models/objects/detector.js';
import type { RawImage } from '../../src/models/types.js';

/** The parts of Human's API used here (its own types pull in DOM typings). */
interface HumanTensor {
  dispose(): void;
}
interface HumanInstance {
  tf: {
    io: { registerLoadRouter(router: (url: string | string[]) => { load(): Promise<unknown> } | null): void };
    tensor3d(values: Uint8Array, shape: [number, number, number], dtype: 'int32'): HumanTensor;
    expandDims(x: HumanTensor, axis: number): HumanTensor;
  };
  load(): Promise<void>;
  detect(input: HumanTensor): Promise<{ object: CenterNetResult[]; error?: string | null }>;
  models: { loaded(): string[] };
}
type HumanConstructor = new (config: Record<string, unknown>) => HumanInstance;

const require = createRequire(import.meta.url);

interface ModelJson {
  modelTopology: unknown;
  format?: string;
  signature?: unknown;
  weightsManifest: { paths: string[]; weights: unknown[] }[];
}

async function readModelArtifacts(file: string): Promise<Record<string, unknown>> {
  const { json, weights } = await readTfModelFiles<ModelJson>(file);
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    // Human reads the input size from the signature.
    signature: json.signature,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  };
}

async function loadHuman(): Promise<HumanInstance> {
  // `@vladmandic/human`'s package.json "exports" hide the node-wasm build and the models.
  const dir = path.resolve(path.dirname(require.resolve('@vladmandic/human')), '..');
  const { Human } = require(path.join(dir, 'dist', 'human.node-wasm.js')) as { Human: HumanConstructor };
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  const human = new Human({
    backend: 'wasm',
    wasmPath: `${wasmDir}${path.sep}`,
    wasmPlatformFetch: false,
    modelBasePath: `file://${path.join(dir, 'models')}${path.sep}`,
    debug: false,
    // Every keyframe is a new picture: Human's frame-to-frame result cache must not answer.
    cacheSensitivity: 0,
    filter: { enabled: false },
    face: { enabled: false },
    body: { enabled: false },
    hand: { enabled: false },
    gesture: { enabled: false },
    segmentation: { enabled: false },
    // The settings the objects stage ran Human with (HUMAN_NMS_OPTIONS in centernet-decode.ts).
    object: { enabled: true, modelPath: 'centernet.json', minConfidence: 0.1, maxDetected: 50, iouThreshold: 0.4 },
  });
  human.tf.io.registerLoadRouter((url) =>
    typeof url === 'string' && url.startsWith('file://') ? { load: () => readModelArtifacts(url.slice('file://'.length)) } : null,
  );
  await human.load();
  if (!human.models.loaded().includes('centernet')) throw new Error('the CenterNet object model did not load');
  return human;
}

let loading: Promise<HumanInstance> | null = null;

/** Human's detections of one image, finished as the objects stage finishes them. */
export async function humanCenterNet(image: RawImage, options: ObjectDetectorOptions = DEFAULT_OBJECT_OPTIONS): Promise<DetectedObject[]> {
  loading ??= loadHuman();
  const human = await loading;
  const frame = human.tf.tensor3d(new Uint8Array(toRgb(image)), [image.height, image.width, 3], 'int32');
  const batch = human.tf.expandDims(frame, 0);
  try {
    const result = await human.detect(batch);
    if (result.error) throw new Error(`object detection failed: ${result.error}`);
    return finishDetections(result.object, image, options);
  } finally {
    batch.dispose();
    frame.dispose();
  }
}
