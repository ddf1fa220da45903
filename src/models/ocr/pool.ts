// The OCR work pool from the Sohu moderation write-up (seed 003): every worker can run either
// detection or recognition, so neither step idles waiting for the other whatever the number of
// lines per image. Recognition goes first (images finish in the order they came, so results stream
// out early), except near the end of the queue, when detection goes first so the last images'
// lines reach the idle workers sooner.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ModelIntegrityError } from '../runtime.js';
import type { RawImage } from '../types.js';
import { OcrEngine, sortReadingOrder } from './engine.js';
import type { ReadOptions, TextCrop, TextLine } from './types.js';

/** One worker: a thread with its own sessions, or the engine in this thread. */
export interface OcrExecutor {
  detect(image: RawImage, options?: ReadOptions): Promise<TextCrop[]>;
  recognize(crops: readonly TextCrop[]): Promise<TextLine[]>;
  close(): Promise<void>;
}

/** Lines per recognition task: a dense page is split so several workers read it at once. */
const LINES_PER_TASK = 6;

interface ImageJob {
  sequence: number;
  image: RawImage;
  options: ReadOptions;
  pendingTasks: number;
  lines: TextLine[];
  resolve(lines: TextLine[]): void;
  reject(error: unknown): void;
  failed: boolean;
}

interface RecognitionTask {
  job: ImageJob;
  crops: TextCrop[];
}

export interface OcrPoolStats {
  detections: number;
  recognitions: number;
}

export class OcrWorkPool {
  private readonly idle: OcrExecutor[];
  private readonly detectQueue: ImageJob[] = [];
  private readonly recognizeQueue: RecognitionTask[] = [];
  private sequence = 0;
  readonly stats: OcrPoolStats = { detections: 0, recognitions: 0 };

  constructor(private readonly executors: readonly OcrExecutor[]) {
    if (executors.length === 0) throw new Error('OcrWorkPool needs at least one executor');
    this.idle = [...executors];
  }

  get size(): number {
    return this.executors.length;
  }

  /** Text lines of one image in reading order. */
  read(image: RawImage, options: ReadOptions = {}): Promise<TextLine[]> {
    return new Promise((resolve, reject) => {
      this.detectQueue.push({ sequence: this.sequence++, image, options, pendingTasks: 0, lines: [], resolve, reject, failed: false });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.executors.map((e) => e.close()));
  }

  private dispatch(): void {
    while (this.idle.length > 0) {
      const executor = this.idle.pop()!;
      if (!this.startNext(executor)) {
        this.idle.push(executor);
        return;
      }
    }
  }

  /** The scheduling rule: recognition first, detection first once few images are left. */
  private startNext(executor: OcrExecutor): boolean {
    const nearTheEnd = this.detectQueue.length > 0 && this.detectQueue.length < this.executors.length;
    if (this.recognizeQueue.length > 0 && !nearTheEnd) {
      this.runRecognition(executor, this.recognizeQueue.shift()!);
      return true;
    }
    if (this.detectQueue.length > 0) {
      this.runDetection(executor, this.detectQueue.shift()!);
      return true;
    }
    if (this.recognizeQueue.length > 0) {
      this.runRecognition(executor, this.recognizeQueue.shift()!);
      return true;
    }
    return false;
  }

  private release(executor: OcrExecutor): void {
    this.idle.push(executor);
    this.dispatch();
  }

  private runDetection(executor: OcrExecutor, job: ImageJob): void {
    this.stats.detections++;
    executor.detect(job.image, job.options).then(
      (crops) => {
        if (crops.length === 0) job.resolve([]);
        for (let start = 0; start < crops.length; start += LINES_PER_TASK) {
          job.pendingTasks++;
          this.recognizeQueue.push({ job, crops: crops.slice(start, start + LINES_PER_TASK) });
        }
        // Oldest image first, so images complete in the order they were given.
        this.recognizeQueue.sort((a, b) => a.job.sequence - b.job.sequence);
        this.release(executor);
      },
      (error: unknown) => {
        job.reject(error);
        this.release(executor);
      },
    );
  }

  private runRecognition(executor: OcrExecutor, task: RecognitionTask): void {
    this.stats.recognitions++;
    const { job } = task;
    executor.recognize(task.crops).then(
      (lines) => {
        job.lines.push(...lines);
        if (--job.pendingTasks === 0 && !job.failed) job.resolve(sortReadingOrder(job.lines));
        this.release(executor);
      },
      (error: unknown) => {
        job.failed = true;
        job.reject(error);
        this.release(executor);
      },
    );
  }
}

/** Runs the engine in this thread (tests, and when the compiled worker script is absent). */
export class InProcessExecutor implements OcrExecutor {
  constructor(private readonly engine: OcrEngine = new OcrEngine()) {}

  detect(image: RawImage, options?: ReadOptions): Promise<TextCrop[]> {
    return this.engine.detect(image, options);
  }

  recognize(crops: readonly TextCrop[]): Promise<TextLine[]> {
    return this.engine.recognize(crops);
  }

  async close(): Promise<void> {}
}

export type WorkerRequest =
  | { id: number; kind: 'detect'; image: RawImage; options?: ReadOptions }
  | { id: number; kind: 'recognize'; crops: TextCrop[] };

export type WorkerReply =
  | { id: number; ok: true; result: TextCrop[] | TextLine[] }
  | { id: number; ok: false; error: string; integrity: boolean };

/** A worker thread with its own ONNX sessions (onnxruntime-node runs inference on the calling thread). */
export class ThreadExecutor implements OcrExecutor {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(value: TextCrop[] | TextLine[]): void; reject(error: Error): void }>();

  constructor(script: URL) {
    this.worker = new Worker(script);
    this.worker.on('message', (reply: WorkerReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      if (reply.ok) waiter?.resolve(reply.result);
      // A missing or altered model keeps its type across the thread boundary: callers skip on it.
      else waiter?.reject(reply.integrity ? new ModelIntegrityError(reply.error) : new Error(reply.error));
    });
    this.worker.on('error', (error) => this.failAll(error));
    this.worker.on('exit', (code) => this.failAll(new Error(`OCR worker exited with code ${code}`)));
    // An idle pool must not keep the process alive; a busy one must (a pending reading is work).
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.worker.unref();
  }

  detect(image: RawImage, options?: ReadOptions): Promise<TextCrop[]> {
    return this.call({ id: this.nextId++, kind: 'detect', image, ...(options ? { options } : {}) }) as Promise<TextCrop[]>;
  }

  recognize(crops: readonly TextCrop[]): Promise<TextLine[]> {
    return this.call({ id: this.nextId++, kind: 'recognize', crops: [...crops] }) as Promise<TextLine[]>;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private call(request: WorkerRequest): Promise<TextCrop[] | TextLine[]> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(request.id, { resolve, reject });
      this.worker.postMessage(request);
    });
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

/**
 * A pool of `workers` threads when the compiled worker script is present (it is after `tsc`),
 * else one in-process executor (under vitest the sources are TypeScript, which a worker thread
 * cannot load).
 */
export function createOcrPool(workers: number): OcrWorkPool {
  const script = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(script))) {
    return new OcrWorkPool(Array.from({ length: Math.max(1, workers) }, () => new ThreadExecutor(script)));
  }
  return new OcrWorkPool([new InProcessExecutor()]);
}

let shared: OcrWorkPool | null = null;

/** The process-wide pool (sessions load once per worker, not per call), sized to the cores. */
export function sharedOcrPool(workers: number): OcrWorkPool {
  shared ??= createOcrPool(workers);
  return shared;
}
