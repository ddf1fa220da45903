// Object detection: CenterNet (MobileNet-v3 backbone, 80 COCO classes) as shipped and decoded by
// @vladmandic/human, on tfjs's WASM backend (tfjs-node has no build here). Human's own model
// fetcher uses fetch(), which cannot read file:// in Node, so the model files are handed to tfjs
// through a file:// load router that reads them from the package folder.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Box, RawImage } from '../types.js';
import { COCO_LABELS_ZH } from './labels.js';

export const CENTERNET_MODEL_ID = 'human-centernet-coco80';

export interface DetectedObject {
  /** Canonical English COCO label. */
  label: string;
  labelZh: string;
  score: number;
  /** In the input image's pixels. */
  box: Box;
}

export interface ObjectDetector {
  readonly modelId: string;
  detect(image: RawImage): Promise<DetectedObject[]>;
}

export interface ObjectDetectorOptions {
  /** Detections below this score are dropped. */
  minScore: number;
  maxObjects: number;
}

const DEFAULTS: ObjectDetectorOptions = { minScore: 0.3, maxObjects: 20 };

/** The parts of Human's API used here (its own types pull in DOM typings). */
interface HumanObject {
  label: string;
  score: number;
  box: [number, number, number, number];
}
interface HumanTensor {
  dispose(): void;
}
interface HumanTf {
  io: {
    registerLoadRouter(router: (url: string | string[]) => { load(): Promise<unknown> } | null): void;
  };
  tensor3d(values: Uint8Array, shape: [number, number, number], dtype: 'int32'): HumanTensor;
  expandDims(x: HumanTensor, axis: number): HumanTensor;
}
interface HumanInstance {
  tf: HumanTf;
  load(): Promise<void>;
  detect(input: HumanTensor): Promise<{ object: HumanObject[]; error?: string | null }>;
  models: { loaded(): string[] };
}
type HumanConstructor = new (config: Record<string, unknown>) => HumanInstance;

const require = createRequire(import.meta.url);

/** `@vladmandic/human`'s folder (its package.json "exports" hide the node-wasm build and models). */
function humanDir(): string {
  return path.resolve(path.dirname(require.resolve('@vladmandic/human')), '..');
}

interface ModelJson {
  modelTopology: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  signature?: unknown;
  userDefinedMetadata?: unknown;
  weightsManifest: { paths: string[]; weights: unknown[] }[];
}

/** Reads a tfjs graph model (model.json + weight shards) from disk as tfjs model artifacts. */
export async function readModelArtifacts(file: string): Promise<Record<string, unknown>> {
  const json = JSON.parse(await readFile(file, 'utf8')) as ModelJson;
  const shards = await Promise.all(json.weightsManifest.flatMap((group) => group.paths.map((p) => readFile(path.join(path.dirname(file), p)))));
  const weights = Buffer.concat(shards);
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    signature: json.signature,
    userDefinedMetadata: json.userDefinedMetadata,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  };
}

/** Human keeps per-call state in the one shared instance: one detection at a time per process. */
let detectionQueue: Promise<unknown> = Promise.resolve();

class CenterNetDetector implements ObjectDetector {
  readonly modelId = CENTERNET_MODEL_ID;

  constructor(
    private readonly human: HumanInstance,
    private readonly options: ObjectDetectorOptions,
  ) {}

  detect(image: RawImage): Promise<DetectedObject[]> {
    const run = detectionQueue.then(() => this.detectNow(image));
    detectionQueue = run.catch(() => undefined);
    return run;
  }

  private async detectNow(image: RawImage): Promise<DetectedObject[]> {
    const rgb = image.channels === 3 ? image.data : toRgb(image);
    const { tf } = this.human;
    const frame = tf.tensor3d(new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength), [image.height, image.width, 3], 'int32');
    const batch = tf.expandDims(frame, 0);
    try {
      const result = await this.human.detect(batch);
      if (result.error) throw new Error(`object detection failed: ${result.error}`);
      return result.object
        .filter((o) => o.score >= this.options.minScore && o.label in COCO_LABELS_ZH)
        .slice(0, this.options.maxObjects)
        .map((o) => {
          const [x, y, width, height] = o.box;
          const left = Math.max(0, x);
          const top = Math.max(0, y);
          return {
            label: o.label,
            labelZh: COCO_LABELS_ZH[o.label]!,
            score: o.score,
            box: { x: left, y: top, width: Math.min(image.width, x + width) - left, height: Math.min(image.height, y + height) - top },
          };
        });
    } finally {
      batch.dispose();
      frame.dispose();
    }
  }
}

function toRgb(image: RawImage): Uint8Array {
  const out = new Uint8Array(image.width * image.height * 3);
  for (let i = 0, o = 0; i < image.width * image.height; i++, o += 3) {
    const base = i * image.channels;
    const grey = image.channels < 3;
    out[o] = image.data[base]!;
    out[o + 1] = image.data[grey ? base : base + 1]!;
    out[o + 2] = image.data[grey ? base : base + 2]!;
  }
  return out;
}

let loading: Promise<HumanInstance> | null = null;

async function loadHuman(): Promise<HumanInstance> {
  const dir = humanDir();
  const { Human } = require(path.join(dir, 'dist', 'human.node-wasm.js')) as { Human: HumanConstructor };
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  const human = new Human({
    backend: 'wasm',
    // Local WASM binaries (setWasmPaths(dir, false)): no CDN fetch, no network at all.
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
    object: { enabled: true, modelPath: 'centernet.json', minConfidence: 0.1, maxDetected: 50, iouThreshold: 0.4 },
  });
  human.tf.io.registerLoadRouter((url) =>
    typeof url === 'string' && url.startsWith('file://') ? { load: () => readModelArtifacts(url.slice('file://'.length)) } : null,
  );
  await human.load();
  if (!human.models.loaded().includes('centernet')) throw new Error('the CenterNet object model did not load');
  return human;
}

/** The shared detector (one model per process; a failed load is retried on the next call). */
export async function loadObjectDetector(options: Partial<ObjectDetectorOptions> = {}): Promise<ObjectDetector> {
  loading ??= loadHuman().catch((err: unknown) => {
    loading = null;
    throw err;
  });
  return new CenterNetDetector(await loading, { ...DEFAULTS, ...options });
}
