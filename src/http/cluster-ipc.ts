// Calls between the processes of a cluster over node:cluster's IPC channel: a serving worker calls
// the primary (src/commands/serve-cluster.ts: the shared rate-limit buckets, the workers'
// aggregated /metrics, the cluster's state for /readyz, image searches it passes on), and the
// primary calls a worker (the image-search process). Messages are tagged so they never mix with
// prom-client's own cluster messages on the same channel; a typed error (AppError) crosses with
// its code, so a refused picture stays BAD_USER_INPUT however many processes it passed.
import cluster, { type Worker } from 'node:cluster';
import { AppError, errorMessage, type ErrorCode } from '../errors.js';

/** The primary answers within this, or the call fails (a primary that is gone or stuck). */
const CALL_TIMEOUT_MS = 10_000;

interface CallMessage {
  vidsearchCall: number;
  method: string;
  args: unknown;
}

interface ReplyMessage {
  vidsearchReply: number;
  result?: unknown;
  error?: string;
  /** An AppError's code and extensions, when the error was one. */
  code?: ErrorCode;
  extensions?: Record<string, unknown>;
}

type Outcome = Omit<ReplyMessage, 'vidsearchReply'>;

/** The reply body of a handler's result or failure. */
function settle(run: () => unknown): Promise<Outcome> {
  return Promise.resolve()
    .then(run)
    .then(
      (result): Outcome => ({ result }),
      (err: unknown): Outcome => (err instanceof AppError ? { error: err.message, code: err.code, extensions: err.extensions } : { error: errorMessage(err) }),
    );
}

/** The error a failed reply stands for: the same AppError class of code, or a plain Error. */
function replyError(reply: ReplyMessage): Error {
  return reply.code ? new AppError(reply.code, reply.error ?? '', reply.extensions ?? {}) : new Error(reply.error);
}

function isCall(message: unknown): message is CallMessage {
  return typeof message === 'object' && message !== null && typeof (message as CallMessage).vidsearchCall === 'number';
}

function isReply(message: unknown): message is ReplyMessage {
  return typeof message === 'object' && message !== null && typeof (message as ReplyMessage).vidsearchReply === 'number';
}

export type PrimaryHandlers = Record<string, (args: unknown, worker: Worker) => unknown>;

/** In the primary: answers every worker's calls with `handlers` (a handler may return a promise). */
export function answerWorkerCalls(handlers: PrimaryHandlers): void {
  cluster.on('message', (worker, message: unknown) => {
    if (!isCall(message)) return;
    const handler = handlers[message.method];
    void settle(() => {
      if (!handler) throw new Error(`the cluster primary has no method ${message.method}`);
      return handler(message.args, worker);
    }).then((body) => {
      if (worker.isConnected()) worker.send({ vidsearchReply: message.vidsearchCall, ...body });
    });
  });
}

export type WorkerHandlers = Record<string, (args: unknown) => unknown>;

/** In a worker: answers the primary's calls (callWorker) with `handlers`. */
export function answerPrimaryCalls(handlers: WorkerHandlers): void {
  process.on('message', (message: unknown) => {
    if (!isCall(message)) return;
    const handler = handlers[message.method];
    void settle(() => {
      if (!handler) throw new Error(`this worker has no method ${message.method}`);
      return handler(message.args);
    }).then((body) => {
      if (process.connected) process.send?.({ vidsearchReply: message.vidsearchCall, ...body });
    });
  });
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const pending = new Map<number, Pending>();
let nextCall = 1;
let listening = false;

function listenForReplies(): void {
  if (listening) return;
  listening = true;
  process.on('message', (message: unknown) => {
    if (!isReply(message)) return;
    const call = pending.get(message.vidsearchReply);
    if (!call) return;
    pending.delete(message.vidsearchReply);
    clearTimeout(call.timer);
    if (message.error !== undefined) call.reject(replyError(message));
    else call.resolve(message.result);
  });
}

/** In a worker: calls the primary's `method`; rejects when the primary does not answer within `timeoutMs`. */
export function callPrimary<T>(method: string, args: unknown = null, timeoutMs = CALL_TIMEOUT_MS): Promise<T> {
  listenForReplies();
  return new Promise<T>((resolve, reject) => {
    if (!process.send || !process.connected) {
      reject(new Error('not connected to a cluster primary'));
      return;
    }
    const id = nextCall++;
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error(`the cluster primary did not answer ${method} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    // An unanswered call must not keep a worker that is shutting down alive.
    timer.unref();
    pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
    process.send({ vidsearchCall: id, method, args } satisfies CallMessage, undefined, undefined, (err: Error | null) => {
      if (!err) return;
      pending.delete(id);
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Calls the primary made to workers and not yet answered, per worker. */
const workerPending = new Map<Worker, Map<number, Pending>>();
let listeningToWorkers = false;

function listenForWorkerReplies(): void {
  if (listeningToWorkers) return;
  listeningToWorkers = true;
  cluster.on('message', (worker, message: unknown) => {
    if (!isReply(message)) return;
    const calls = workerPending.get(worker);
    const call = calls?.get(message.vidsearchReply);
    if (!call) return;
    calls!.delete(message.vidsearchReply);
    clearTimeout(call.timer);
    if (message.error !== undefined) call.reject(replyError(message));
    else call.resolve(message.result);
  });
  // A worker that dies answers nothing more: its callers learn at once, not at their timeout.
  cluster.on('exit', (worker) => {
    const calls = workerPending.get(worker);
    workerPending.delete(worker);
    for (const call of calls?.values() ?? []) {
      clearTimeout(call.timer);
      call.reject(new AppError('INTERNAL_SERVER_ERROR', `the process answering this stopped (pid ${worker.process.pid}); try again`));
    }
  });
}

/** In the primary: calls a worker's `method` (answerPrimaryCalls); rejects when it dies or does not answer within `timeoutMs`. */
export function callWorker<T>(worker: Worker, method: string, args: unknown, timeoutMs: number): Promise<T> {
  listenForWorkerReplies();
  return new Promise<T>((resolve, reject) => {
    const id = nextCall++;
    let calls = workerPending.get(worker);
    if (!calls) workerPending.set(worker, (calls = new Map()));
    const timer = setTimeout(() => {
      calls.delete(id);
      reject(new Error(`worker ${worker.process.pid} did not answer ${method} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    timer.unref();
    calls.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
    worker.send({ vidsearchCall: id, method, args } satisfies CallMessage, undefined, (err: Error | null) => {
      if (!err) return;
      calls.delete(id);
      clearTimeout(timer);
      reject(err);
    });
  });
}
