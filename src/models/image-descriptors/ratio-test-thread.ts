// A second thread for ORB matching: OrbMatcher hands it half of the query's rows while it
// matches the other half, so a geometric check takes about half the wall time on two cores
// (the brute-force Hamming search is most of a match: ~2–3 ms of 500 × 500 descriptors).
// One thread per process, started on first use and unref'd (it never keeps the process up).
// Under vitest the sources are TypeScript, which a worker cannot load: no compiled script, no
// thread, and matching stays in the calling thread with the same results.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ratioTestMatches, type LocalFeatures, type RatioTestOffload, type RatioTestResult } from './local-features.js';

export interface RatioTestRequest {
  id: number;
  query: LocalFeatures;
  frame: LocalFeatures;
  rows: readonly [number, number];
}

export type RatioTestReply = ({ ok: true } & RatioTestResult & { id: number }) | { id: number; ok: false; error: string };

interface Pending {
  resolve(result: RatioTestResult): void;
  reject(error: Error): void;
}

class RatioTestThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** Set when the thread failed: later requests run in the calling thread. */
  private broken = false;

  constructor(private readonly worker: Worker) {
    worker.on('message', (reply: RatioTestReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.settle(reply.id);
      if (reply.ok) waiting.resolve({ from: reply.from, to: reply.to });
      else waiting.reject(new Error(reply.error));
    });
    const fail = (error: Error): void => {
      this.broken = true;
      for (const [id, waiting] of this.pending) {
        this.settle(id);
        waiting.reject(error);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`ratio-test thread exited with code ${code}`)));
    // After the listeners: attaching a 'message' listener refs the thread again.
    worker.unref();
  }

  /** The thread holds the process up only while a request waits on it (else a CLI awaiting it would exit). */
  private track(id: number, waiting: Pending): void {
    if (this.pending.size === 0) this.worker.ref();
    this.pending.set(id, waiting);
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }

  /** Ends the thread; later requests run in the calling thread. */
  close(): Promise<number> {
    this.broken = true;
    return this.worker.terminate();
  }

  match: RatioTestOffload = async (query, frame, rows) => {
    if (this.broken) return ratioTestMatches(query, frame, rows);
    const id = this.nextId++;
    try {
      return await new Promise<RatioTestResult>((resolve, reject) => {
        this.track(id, { resolve, reject });
        this.worker.postMessage({ id, query, frame, rows } satisfies RatioTestRequest);
      });
    } catch {
      // A dead thread costs the speed-up, never the answer.
      return ratioTestMatches(query, frame, rows);
    }
  };
}

/** A thread running the compiled worker script at `script`. */
export function startRatioTestThread(script: URL): { match: RatioTestOffload; close(): Promise<number> } {
  const thread = new RatioTestThread(new Worker(script));
  return { match: thread.match, close: () => thread.close() };
}

let shared: RatioTestOffload | null | undefined;

/** The process's ratio-test thread, or null where no compiled worker script exists (tests on sources). */
export function ratioTestThread(): RatioTestOffload | null {
  if (shared === undefined) {
    const script = new URL('./ratio-test-worker.js', import.meta.url);
    shared = existsSync(fileURLToPath(script)) ? startRatioTestThread(script).match : null;
  }
  return shared;
}
