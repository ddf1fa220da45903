// Where the `ocr` stage's CPU goes on the indexing-real footage (bench/real-footage.ts), per
// component: the frame decode (ffmpeg), frame delivery and band watching on the main thread, the
// detector's first look (bands / shot keyframes), the retry views, the recogniser (angle
// classifier and line model), pre/post-processing around the models. The essential stages run
// first (shots for the keyframe times), then the stage alone, in process, one reading at a time:
// every read finishes before the next frame is delivered, so process CPU between two marks
// belongs to one component. Prints one JSON line (CPU-s per media minute).
//   node dist/bench/ocr-profile.js [--minutes 3] [--data ../shared/data]
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createOcrStage, type OcrReader } from '../src/indexers/ocr.js';
import { stageFrames } from '../src/indexers/stage-media.js';
import { createLogger } from '../src/logger.js';
import { OcrEngine } from '../src/models/ocr/engine.js';
import type { ReadOptions, TextCrop, TextDetector, TextRecognizer } from '../src/models/ocr/types.js';
import { ort } from '../src/models/runtime.js';
import type { RawImage } from '../src/models/types.js';
import { resolveMediaTools } from '../src/media/tools.js';
import { realFootage } from './real-footage.js';

const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** CPU seconds of this process's reaped children (the stage's ffmpeg decode, once it exited). */
function childCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** CPU seconds and calls per component. */
class Ledger {
  readonly sec = new Map<string, number>();
  readonly calls = new Map<string, number>();
  add(name: string, seconds: number, calls = 1): void {
    this.sec.set(name, (this.sec.get(name) ?? 0) + seconds);
    this.calls.set(name, (this.calls.get(name) ?? 0) + calls);
  }
  async time<T>(name: string, work: () => Promise<T>): Promise<T> {
    const start = cpu();
    try {
      return await work();
    } finally {
      this.add(name, cpu() - start);
    }
  }
}

/** What the serial reader is reading now: its detector passes are counted under it. */
let reading: 'band' | 'keyframe' = 'band';

/**
 * Model inference CPU by model, told apart by input shape (cls: 48×192; det: batch 1 of any
 * height; rec: 48 high); detector passes by what is read, a keyframe's small presence look
 * (longest side ≤ 480) apart from its full look.
 */
function detName(dims: readonly number[]): string {
  if (reading === 'band') return 'infer.det.band';
  return Math.max(dims[2]!, dims[3]!) <= 480 ? 'infer.det.keyframePresence' : 'infer.det.keyframe';
}

function instrumentInference(ledger: Ledger): void {
  // The factory's prototype is the class the sessions are made of (onnxruntime-common).
  const proto = (ort.InferenceSession as unknown as { prototype: { run: (...args: unknown[]) => Promise<unknown> } }).prototype;
  const run = proto.run;
  proto.run = async function (this: unknown, ...args: unknown[]) {
    const feeds = args[0] as Record<string, ort.Tensor>;
    const dims = Object.values(feeds)[0]!.dims;
    const model = dims[2] === 48 ? (dims[3] === 192 ? 'infer.cls' : 'infer.rec') : detName(dims);
    return ledger.time(model, () => run.apply(this, args));
  };
}

function timedDetector(inner: TextDetector, name: (image: RawImage) => string, ledger: Ledger): TextDetector {
  return { modelId: inner.modelId, detect: (image, options) => ledger.time(name(image), () => inner.detect(image, options)) };
}

function timedRecognizer(inner: TextRecognizer, ledger: Ledger): TextRecognizer {
  return {
    modelId: inner.modelId,
    recognize: (crops) => {
      ledger.add('lines', 0, crops.length);
      return ledger.time('recognize', () => inner.recognize(crops));
    },
  };
}

/** A reader that runs one read at a time and says when it is idle. */
class SerialReader implements OcrReader {
  readonly size = 1;
  private tail: Promise<unknown> = Promise.resolve();
  constructor(
    private readonly engine: OcrEngine,
    private readonly ledger: Ledger,
  ) {}

  read(image: RawImage, options?: ReadOptions) {
    const kind = image.height > 400 ? 'keyframe' : 'band';
    const work = this.tail.then(async () => {
      reading = kind;
      const crops = await this.ledger.time(`detect.${kind}`, () => this.engine.detect(image, options));
      const fallback = crops.length === 1 && crops[0]!.detection.score === 0;
      if (fallback) this.ledger.add('fallbackWholeBand', 0);
      return this.ledger.time(fallback ? 'recognize.fallback' : `recognize.${kind}`, () => this.engine.recognize(crops as TextCrop[]));
    });
    this.tail = work.catch(() => undefined);
    return work;
  }

  idle(): Promise<unknown> {
    return this.tail;
  }
}

const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '3' }, data: { type: 'string', default: path.resolve('../shared/data') } } });
  const base = loadConfig();
  const media = resolveMediaTools(base);
  const footage = await realFootage(media.ffmpeg, values.data!, Math.round(Number(values.minutes) * 60));
  if (!footage) {
    process.stderr.write(`ocr-profile: no videos under ${values.data}; skipped\n`);
    return;
  }
  const work = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-bench-ocrprof-'));
  const config = { ...base, dataDir: path.join(work, 'store'), mediaRoots: [path.dirname(footage.file)], indexing: { ...base.indexing, enrichmentStages: [] } };
  const app = await createApp(config, { log: createLogger('warn') });
  try {
    const video = await app.indexNow({ path: footage.file });
    const ledger = new Ledger();
    instrumentInference(ledger);
    const plain = new OcrEngine();
    const engine = new OcrEngine(
      timedDetector(plain.detector, (i) => (i.height > 400 ? 'detector.keyframe' : 'detector.band'), ledger),
      timedRecognizer(plain.recognizer, ledger),
      timedDetector(plain.retryDetector, () => 'detector.retryView', ledger),
    );
    const reader = new SerialReader(engine, ledger);
    const stage = createOcrStage({
      reader: () => reader,
      async *frames(ctx, request) {
        const stream = stageFrames(ctx, { ...request, pixFmt: 'gray' });
        for (;;) {
          await reader.idle();
          const next = await ledger.time('frameDelivery', () => stream.next());
          if (next.done) return;
          yield next.value;
        }
      },
    });
    const ffmpegBefore = childCpuSeconds();
    const start = cpu();
    const out = await stage.run({ video, store: app.store, media, config, log: createLogger('warn'), signal: new AbortController().signal, reportProgress: () => undefined }, {});
    const total = cpu() - start;
    const minutes = video.durationSec / 60;
    const per = (s: number): number => round(s / minutes);
    const sec = Object.fromEntries([...ledger.sec].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, per(v)]));
    const reads = [...ledger.sec.keys()].filter((k) => k.startsWith('detect.') || k.startsWith('recognize.')).reduce((s, k) => s + ledger.sec.get(k)!, 0);
    console.log(
      JSON.stringify({
        bench: 'ocr-profile',
        videoSec: round(video.durationSec, 1),
        cpuSecPerMediaMin: {
          stageInProcess: per(total),
          ffmpegDecode: per(childCpuSeconds() - ffmpegBefore),
          bandWatchAndStage: per(total - reads - (ledger.sec.get('frameDelivery') ?? 0)),
          ...sec,
        },
        calls: Object.fromEntries(ledger.calls),
        stage: out,
        loadAvg: os.loadavg().map((l) => round(l)),
      }),
    );
  } finally {
    await app.close();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
