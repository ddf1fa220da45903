// ORB extraction for the frames stage on a thread of its own. opencv.js runs synchronously on the
// thread that calls it, ~14 ms a 320-px frame, and the frames stage extracts every sampled frame
// (2 a second, repeats included): on the event loop that stalled every other stage reading the
// job's one decode, and the decoder behind them, while it ran (the largest WASM cost on the event
// loop in a CPU profile of the indexing-real bench). On this thread it runs beside them. One thread
// per process, started on first use, unref'd while idle. Without a compiled worker script (vitest
// runs the TypeScript sources) extraction stays in the calling thread; either way the same
// opencv.js build gives the same packed features (test/unit/orb-extract-thread.test.ts).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RawImage } from '../types.js';
import { OrbMatcher, packFeatures } from './local-features.js';

export interface OrbExtractRequest {
  id: number;
  image: RawImage;
}

export type OrbExtractReply = { id: number; ok: true; packed: Uint8Array } | { id: number; ok: false; error: string };

/** Packed ORB features (packFeatures) of one image. */
export type PackedOrbExtractor = (image: RawImage) => Promise<Uint8Array>;

class OrbExtractThread {
  private readonly pending = new Map<number, { resolve(packed: Uint8Array): void; reject(error: Error): void }>();
  private nextId = 0;
  /** Set once the thread failed: later requests run in the calling thread. */
  private broken = false;

  constructor(private readonly worker: Worker) {
    worker.on('message', (reply: OrbExtractReply) => {
      const waiting = this.pending.get(reply.id);
      this.settle(reply.id);
      if (reply.ok) waiting?.resolve(reply.packed);
      else waiting?.reject(new Error(reply.error));
    });
    const fail = (error: Error): void => {
      this.broken = true;
      for (const [id, waiting] of this.pending) {
        this.settle(id);
        waiting.reject(error);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`ORB extraction thread exited with code ${code}`)));
    // After the listeners: attaching a 'message' listener refs the thread again.
    worker.unref();
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }

  async extract(image: RawImage, matcher: OrbMatcher): Promise<Uint8Array> {
    if (this.broken) return packFeatures(await matcher.extract(image));
    const id = this.nextId++;
    try {
      return await new Promise<Uint8Array>((resolve, reject) => {
        if (this.pending.size === 0) this.worker.ref();
        this.pending.set(id, { resolve, reject });
        const { data, width, height, channels } = image;
        this.worker.postMessage({ id, image: { data, width, height, channels } } satisfies OrbExtractRequest);
      });
    } catch {
      // A dead thread costs the overlap, never the features.
      return packFeatures(await matcher.extract(image));
    }
  }
}

let shared: OrbExtractThread | null | undefined;

function extractThread(): OrbExtractThread | null {
  if (shared === undefined) {
    const script = new URL('./orb-extract-worker.js', import.meta.url);
    shared = existsSync(fileURLToPath(script)) ? new OrbExtractThread(new Worker(script)) : null;
  }
  return shared;
}

/** The default OrbMatcher's extraction, packed, on the process's ORB thread when there is one. */
export function packedOrbExtractor(): PackedOrbExtractor {
  const matcher = new OrbMatcher();
  return async (image) => {
    const thread = extractThread();
    return thread ? thread.extract(image, matcher) : packFeatures(await matcher.extract(image));
  };
}
