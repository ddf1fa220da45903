// An ONNX model run on its own thread. onnxruntime-node's session.run is synchronous underneath
// its Promise (microsoft/onnxruntime#19611): on the main thread every inference stalls the event
// loop, i.e. every GraphQL request in flight. The model is built (by an export of a module named
// by URL) on a second, short-lived thread: heavy builders such as the tfjs → ONNX conversion
// never load here, and what they leave in memory (~110 MB for tfjs) goes when that thread ends.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createOnnxSession, ort } from '../runtime.js';

export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

export type FloatTensors = Record<string, FloatTensor>;

/** Where the model bytes come from: `await (await import(module))[exportName]()`. */
export interface ModelBuilder {
  module: string;
  exportName: string;
}

export interface OnnxRunnerOptions {
  intraOpNumThreads?: number;
}

export interface OnnxRunner {
  /** Runs float inputs; the input buffers may be handed to the thread (do not reuse them). */
  run(feeds: FloatTensors): Promise<FloatTensors>;
  /** Settles when the runner can run no more (its thread died or it was closed). */
  readonly ended: Promise<void>;
  close(): Promise<void>;
}

/** Messages of the thread protocol (session-worker.ts is the other side). */
export type RunnerInit = { build: ModelBuilder } | { serve: Uint8Array; options: OnnxRunnerOptions };
export type RunnerRequest = { id: number; feeds: FloatTensors };
export type RunnerReply = { id: number; ok: true; outputs: FloatTensors } | { id: number; ok: false; error: string };
/** First message of a thread: the built model (build role), or readiness (serve role). */
export type RunnerStatus = { ok: true; model?: Uint8Array } | { ok: false; error: string };

export async function buildModel(builder: ModelBuilder): Promise<Uint8Array> {
  const exported = ((await import(builder.module)) as Record<string, unknown>)[builder.exportName];
  if (typeof exported !== 'function') throw new Error(`${builder.module} has no function ${builder.exportName}`);
  const bytes: unknown = await (exported as () => unknown)();
  if (!(bytes instanceof Uint8Array)) throw new Error(`${builder.exportName} did not return model bytes`);
  return bytes;
}

/** A session in this thread, for the tests (vitest's TypeScript sources cannot start a worker). */
export async function openSessionRunner(bytes: Uint8Array, options: OnnxRunnerOptions = {}): Promise<OnnxRunner> {
  const session = await createOnnxSession(bytes, options.intraOpNumThreads);
  let close!: () => void;
  const ended = new Promise<void>((resolve) => (close = resolve));
  return {
    ended,
    async run(feeds) {
      const tensors = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor('float32', t.data, t.dims)]));
      const outputs = await session.run(tensors);
      return Object.fromEntries(
        Object.entries(outputs).map(([name, t]) => {
          if (t.type !== 'float32') throw new Error(`output ${name} is ${t.type}, not float32`);
          return [name, { data: t.data as Float32Array, dims: [...t.dims] }];
        }),
      );
    },
    async close() {
      await session.release();
      close();
    },
  };
}

class ThreadRunner implements OnnxRunner {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(outputs: FloatTensors): void; reject(error: Error): void }>();
  private exitError: Error | null = null;
  readonly ended: Promise<void>;

  constructor(private readonly worker: Worker) {
    this.ended = new Promise((resolve) => {
      worker.once('exit', (code) => {
        this.exitError = new Error(`ONNX worker exited with code ${code}`);
        for (const waiter of this.pending.values()) waiter.reject(this.exitError);
        this.pending.clear();
        resolve();
      });
    });
    worker.on('message', (reply: RunnerReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.ok) waiter?.resolve(reply.outputs);
      else waiter?.reject(new Error(reply.error));
    });
    // An idle runner must not keep the process alive; a busy one must (a pending run is work).
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
  }

  run(feeds: FloatTensors): Promise<FloatTensors> {
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, feeds } satisfies RunnerRequest, Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer));
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Starts a thread and waits for its first message (a failure, an error or an early exit rejects). */
function startThread(script: URL, init: RunnerInit, transferList: ArrayBuffer[]): Promise<{ worker: Worker; status: { ok: true; model?: Uint8Array } }> {
  const worker = new Worker(script, { workerData: init, transferList });
  return new Promise((resolve, reject) => {
    // Only our own listeners come off: Worker keeps internal ones (they start its message port).
    const stopWatching = () => {
      worker.off('error', fail);
      worker.off('exit', exitedEarly);
    };
    function fail(error: Error): void {
      stopWatching();
      void worker.terminate();
      reject(error);
    }
    function exitedEarly(code: number): void {
      fail(new Error(`ONNX worker exited with code ${code} while loading`));
    }
    worker.once('error', fail);
    worker.once('exit', exitedEarly);
    worker.once('message', (status: RunnerStatus) => {
      if (!status.ok) return fail(new Error(status.error));
      stopWatching();
      // Later thread errors end it: 'exit' follows and fails what is pending.
      worker.on('error', () => undefined);
      resolve({ worker, status });
    });
  });
}

async function openThreadRunner(script: URL, builder: ModelBuilder, options: OnnxRunnerOptions): Promise<OnnxRunner> {
  const built = await startThread(script, { build: builder }, []);
  await built.worker.terminate();
  const model = built.status.model;
  if (!model) throw new Error(`${builder.exportName} built no model`);
  const served = await startThread(script, { serve: model, options }, [model.buffer as ArrayBuffer]);
  return new ThreadRunner(served.worker);
}

/**
 * A runner on its own thread when the compiled worker script is present (it is after `tsc`),
 * else in this thread (under vitest the sources are TypeScript, which a worker cannot load).
 */
export async function openOnnxRunner(builder: ModelBuilder, options: OnnxRunnerOptions = {}): Promise<OnnxRunner> {
  const script = new URL('./session-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(script))) return openThreadRunner(script, builder, options);
  return openSessionRunner(await buildModel(builder), options);
}
