// Body of an ONNX runner thread (runner.ts): builds the model named in workerData, opens its
// session, reports ready (or why not), then answers run requests one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { buildModel, openSessionRunner, type RunnerInit, type RunnerReply, type RunnerRequest, type RunnerStatus } from './runner.js';

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const port = parentPort!;
const init = workerData as RunnerInit;

try {
  const runner = await openSessionRunner(await buildModel(init.builder), init.options);
  port.on('message', (request: RunnerRequest) => {
    runner.run(request.feeds).then(
      (outputs) => port.postMessage({ id: request.id, ok: true, outputs } satisfies RunnerReply, Object.values(outputs).map((t) => t.data.buffer as ArrayBuffer)),
      (error: unknown) => port.postMessage({ id: request.id, ok: false, error: errorText(error) } satisfies RunnerReply),
    );
  });
  port.postMessage({ ready: true } satisfies RunnerStatus);
} catch (error) {
  port.postMessage({ ready: false, error: errorText(error) } satisfies RunnerStatus);
}
