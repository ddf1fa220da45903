// Object detection: @vladmandic/human's MobileNet-v3 CenterNet (80 COCO classes), its tfjs graph
// model converted to ONNX at load (onnx/tf-graph, no tfjs involved) and run by ONNX Runtime on its
// own thread, so inference never stalls the event loop. The ONNX graph takes a batch of same-size
// RGB frames (NHWC, 0..255), resizes them to the network's 512×512 as Human does
// (tf.image.resizeBilinear: no corner alignment, no half-pixel centres = ONNX 'asymmetric'), and
// ends at the model's own 3×3 max-pool peak filter and top-k; the box decode and Human's
// post-processing run here (centernet-decode.ts). The conversion (~0.3 s) runs on a short-lived
// thread at each load, like nsfwjs's: not worth a disk cache keyed on package and converter.
import { GraphBuilder, UnsupportedModelError } from '../onnx/graph-builder.js';
import { buildOnnxModel } from '../onnx/proto.js';
import { openOnnxRunner, type OnnxRunner } from '../onnx/runner.js';
import { convertTfGraph, resizeBilinear } from '../onnx/tf-graph/convert.js';
import { readTfGraphModel, type TfGraphModel } from '../onnx/tf-graph/model.js';
import { IdleReleasedModel } from '../idle-release.js';
import { verifiedManifestModelPath } from '../runtime.js';
import type { RawImage } from '../types.js';
import { decodeCenterNet, type CenterNetGeometry } from './centernet-decode.js';
import { CENTERNET_MODEL_ID, DEFAULT_OBJECT_OPTIONS, finishDetections, toRgb, type DetectedObject, type ObjectDetector, type ObjectDetectorOptions } from './detector.js';
import { COCO_LABELS } from './labels.js';

/** Tensors of Human's centernet.json the conversion reads (its input, peak-filtered heatmap, box extents, top-k and stride constants). */
const TF = { input: 'tower_0/images', peaks: 'tower_0/mul_1', extents: 'tower_0/wh', topK: 'tower_0/TopKV2/k', stride: 'tower_0/mul_3/y' };
/** The network's square input side and heatmap side (checked against the graph at conversion). */
const INPUT_SIZE = 512;
const GRID = 128;
const GEOMETRY: CenterNetGeometry = { classes: COCO_LABELS.length, gridWidth: GRID, stride: INPUT_SIZE / GRID, inputSize: INPUT_SIZE };
/** Frames per ONNX run: bounds activation memory (~40 MB per frame at 512×512). */
const MAX_BATCH = 4;
const MODEL_IDLE_MS = 60_000;

function constantValue(model: TfGraphModel, name: string): number {
  const constant = model.consts.get(name);
  if (!constant || constant.values.length !== 1) throw new UnsupportedModelError(`CenterNet graph: no scalar ${name}`);
  return constant.values[0]!;
}

function placeholderSize(model: TfGraphModel): number {
  const dims = (model.nodes.get(TF.input)?.attr?.shape?.shape as { dim?: { size: string }[] } | undefined)?.dim?.map((d) => Number(d.size));
  if (!dims || dims.length !== 4 || dims[1] !== dims[2] || dims[3] !== 3) throw new UnsupportedModelError(`CenterNet graph: input shape ${JSON.stringify(dims)}`);
  return dims[1]!;
}

/**
 * Human's CenterNet as ONNX (opset 13): input `frames` [batch, height, width, 3]; outputs `scores`
 * and `indices` [batch, k] (the k best peaks and their flat NHWC heatmap indices, as floats) and
 * `extents` [batch, 128, 128, 4].
 */
export function centerNetToOnnx(model: TfGraphModel): Uint8Array {
  if (placeholderSize(model) !== INPUT_SIZE) throw new UnsupportedModelError(`CenterNet graph: input side ${placeholderSize(model)}, expected ${INPUT_SIZE}`);
  if (constantValue(model, TF.stride) !== GEOMETRY.stride) throw new UnsupportedModelError(`CenterNet graph: stride ${constantValue(model, TF.stride)}`);
  const k = constantValue(model, TF.topK);
  const graph = new GraphBuilder();
  const nchw = graph.node('Transpose', ['frames'], 'frames/nchw', { perm: [0, 3, 1, 2] });
  const resized = resizeBilinear(graph, nchw, [INPUT_SIZE, INPUT_SIZE], 'asymmetric', 'frames/resized');
  const image = { value: resized, shape: [0, INPUT_SIZE, INPUT_SIZE, 3], dtype: 'float32' as const };
  const [peaks, extents] = convertTfGraph(graph, model, { [TF.input]: image }, [TF.peaks, TF.extents]);
  if (peaks!.shape.join() !== [0, GRID, GRID, GEOMETRY.classes].join() || extents!.shape.join() !== [0, GRID, GRID, 4].join()) {
    throw new UnsupportedModelError(`CenterNet graph: heads ${peaks!.shape.join('×')} and ${extents!.shape.join('×')}`);
  }
  // The graph's own tail: flatten the peaks NHWC per image, top-k (ties to the lower index, as TF's TopKV2).
  const flatPeaks = graph.node('Reshape', [graph.node('Transpose', [peaks!.value], 'peaks/nhwc', { perm: [0, 2, 3, 1] }), graph.int64s('peaks/flat', [0, -1])], 'peaks/flat_map');
  const [scores, indices] = graph.multiNode('TopK', [flatPeaks, graph.int64s('peaks/k', [k])], ['scores', 'top_indices'], { axis: -1, largest: 1, sorted: 1 });
  graph.node('Cast', [indices!], 'indices', { to: 1 });
  graph.node('Transpose', [extents!.value], 'extents', { perm: [0, 2, 3, 1] });
  return buildOnnxModel({
    producerName: 'vidsearch-tf-graph-to-onnx',
    inputs: [{ name: 'frames', shape: ['batch', 'height', 'width', 3] }],
    outputs: [
      { name: scores!, shape: ['batch', k] },
      { name: 'indices', shape: ['batch', k] },
      { name: 'extents', shape: ['batch', GRID, GRID, 4] },
    ],
    nodes: graph.nodes,
    initializers: graph.initializers,
  });
}

/** Reads Human's model files (their sha256 checked against the manifest) and converts them; called by name on the runner's build thread. */
export async function buildCenterNetOnnx(): Promise<Uint8Array> {
  const [graph] = await Promise.all([CENTERNET_MODEL_ID, `${CENTERNET_MODEL_ID}-weights`].map(verifiedManifestModelPath));
  return centerNetToOnnx(await readTfGraphModel(graph!));
}

/** Runs same-size frames in batches of at most MAX_BATCH; one result list per frame. */
async function detectSameSize(runner: OnnxRunner, frames: readonly RawImage[], options: ObjectDetectorOptions): Promise<DetectedObject[][]> {
  const { width, height } = frames[0]!;
  const pixels = width * height * 3;
  const results: DetectedObject[][] = [];
  for (let start = 0; start < frames.length; start += MAX_BATCH) {
    const chunk = frames.slice(start, start + MAX_BATCH);
    const batch = new Float32Array(chunk.length * pixels);
    chunk.forEach((frame, i) => batch.set(toRgb(frame), i * pixels));
    const out = await runner.run({ frames: { data: batch, dims: [chunk.length, height, width, 3] } });
    const k = out.scores!.dims[1]!;
    const cells = GRID * GRID * 4;
    chunk.forEach((frame, i) => {
      const peaks = { scores: out.scores!.data.subarray(i * k, (i + 1) * k), indices: out.indices!.data.subarray(i * k, (i + 1) * k), extents: out.extents!.data.subarray(i * cells, (i + 1) * cells) };
      results.push(finishDetections(decodeCenterNet(peaks, GEOMETRY, frame), frame, options));
    });
  }
  return results;
}

class OnnxCenterNetDetector implements ObjectDetector {
  readonly modelId = CENTERNET_MODEL_ID;

  constructor(
    private readonly runners: IdleReleasedModel<OnnxRunner>,
    private readonly options: ObjectDetectorOptions,
  ) {}

  async detect(images: readonly RawImage[]): Promise<DetectedObject[][]> {
    const results: DetectedObject[][] = new Array(images.length);
    // Batches need one frame size: group by size, answer in the callers' order.
    const bySize = new Map<string, number[]>();
    images.forEach((image, i) => {
      const key = `${image.width}x${image.height}`;
      bySize.set(key, [...(bySize.get(key) ?? []), i]);
    });
    for (const indices of bySize.values()) {
      const detected = await this.runners.use((runner) => detectSameSize(runner, indices.map((i) => images[i]!), this.options));
      indices.forEach((imageIndex, j) => (results[imageIndex] = detected[j]!));
    }
    return results;
  }
}

/** One runner thread per intra-op thread count asked for (a process asks for one), released after MODEL_IDLE_MS unused. */
const runnersByThreads = new Map<number, IdleReleasedModel<OnnxRunner>>();

function runnersFor(threads: number): IdleReleasedModel<OnnxRunner> {
  let runners = runnersByThreads.get(threads);
  if (!runners) {
    const model: IdleReleasedModel<OnnxRunner> = new IdleReleasedModel<OnnxRunner>({
      idleMs: MODEL_IDLE_MS,
      async load() {
        const runner = await openOnnxRunner({ module: import.meta.url, exportName: buildCenterNetOnnx.name }, { intraOpNumThreads: threads });
        void runner.ended.then(() => model.forget(runner));
        return runner;
      },
      release: (runner) => runner.close(),
    });
    runners = model;
    runnersByThreads.set(threads, runners);
  }
  return runners;
}

export interface LoadObjectDetectorOptions extends Partial<ObjectDetectorOptions> {
  /** ONNX Runtime intra-op threads (default 1: see objects stage for how the stage chooses). */
  intraOpThreads?: number;
}

/** The shared detector, its model loaded (or loaded again after an idle release) before it resolves. */
export async function loadObjectDetector(options: LoadObjectDetectorOptions = {}): Promise<ObjectDetector> {
  const { intraOpThreads = 1, ...detectorOptions } = options;
  const runners = runnersFor(intraOpThreads);
  await runners.use(async () => undefined);
  return new OnnxCenterNetDetector(runners, { ...DEFAULT_OBJECT_OPTIONS, ...detectorOptions });
}
