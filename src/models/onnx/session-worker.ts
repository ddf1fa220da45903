// Body of an ONNX runner thread (runner.ts), in one of two roles: build the model named in
// workerData and hand its bytes back (the thread is then ended, and the builder's memory with
// it), or open a session on given bytes, report ready, and answer run requests one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { buildModel, openSessionRunner, type RunnerInit, type RunnerReply, type RunnerRequest, type RunnerStatus } from './runner.js';

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const port = parentPort!;
const init = workerData as RunnerInit;

try {
  if ('build' in init) {
    const model = await buildModel(init.build);
    port.postMessage({ ok: true, model } satisfies RunnerStatus, [model.buffer as ArrayBuffer]);
  } else {
    const runner = await openSessionRunner(init.serve, init.options);
    port.on('message', (request: RunnerRequest) => {
      runner.run(request.feeds).then(
        (outputs) => port.postMessage({ id: request.id, ok: true, outputs } satisfies RunnerReply, Object.values(outputs).map((t) => t.data.buffer as ArrayBuffer)),
        (error: unknown) => port.postMessage({ id: request.id, ok: false, error: errorText(error) } satisfies RunnerReply),
      );
    });
    port.postMessage({ ok: true } satisfies RunnerStatus);
  }
} catch (error) {
  port.postMessage({ ok: false, error: errorText(error) } satisfies RunnerStatus);
}
