// Body of one OCR worker thread: its own engine (and so its own ONNX sessions, loaded on first use
// and kept), answering detect/recognize requests from pool.ts.
import { parentPort } from 'node:worker_threads';
import { ModelIntegrityError } from '../runtime.js';
import { OcrEngine } from './engine.js';
import type { WorkerReply, WorkerRequest } from './pool.js';

const engine = new OcrEngine();

parentPort?.on('message', (request: WorkerRequest) => {
  const work = request.kind === 'detect' ? engine.detect(request.image, request.options) : engine.recognize(request.crops);
  work.then(
    (result) => parentPort!.postMessage({ id: request.id, ok: true, result } satisfies WorkerReply),
    (error: unknown) =>
      parentPort!.postMessage({
        id: request.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        integrity: error instanceof ModelIntegrityError,
      } satisfies WorkerReply),
  );
});
