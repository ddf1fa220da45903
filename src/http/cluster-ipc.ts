// Calls from a serving worker process to the cluster primary over node:cluster's IPC channel,
// answered by the primary (src/commands/serve-cluster.ts): the shared rate-limit buckets, the
// workers' aggregated /metrics and the cluster's state for /readyz. Messages are tagged so they
// never mix with prom-client's own cluster messages on the same channel.
import cluster, { type Worker } from 'node:cluster';
import { errorMessage } from '../errors.js';

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
    const reply = (body: Omit<ReplyMessage, 'vidsearchReply'>): void => {
      if (worker.isConnected()) worker.send({ vidsearchReply: message.vidsearchCall, ...body });
    };
    const handler = handlers[message.method];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`the cluster primary has no method ${message.method}`);
        return handler(message.args, worker);
      })
      .then(
        (result) => reply({ result }),
        (err: unknown) => reply({ error: errorMessage(err) }),
      );
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
    if (message.error !== undefined) call.reject(new Error(message.error));
    else call.resolve(message.result);
  });
}

/** In a worker: calls the primary's `method`; rejects when the primary does not answer. */
export function callPrimary<T>(method: string, args: unknown = null): Promise<T> {
  listenForReplies();
  return new Promise<T>((resolve, reject) => {
    if (!process.send || !process.connected) {
      reject(new Error('not connected to a cluster primary'));
      return;
    }
    const id = nextCall++;
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error(`the cluster primary did not answer ${method} within ${CALL_TIMEOUT_MS / 1000} s`));
    }, CALL_TIMEOUT_MS);
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
