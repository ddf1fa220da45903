// The child side of index-child.ts: receives one task, indexes it, reports progress and the result
// to the parent, and exits (taking every model it loaded with it).
import 'reflect-metadata';
import { createApp } from '../app.js';
import { AppError, SetupError, userMessage } from '../errors.js';
import { createLogger } from '../logger.js';
import type { IndexChildMessage, IndexChildTask } from './index-child.js';

function send(message: IndexChildMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

async function runTask(task: IndexChildTask): Promise<void> {
  const app = await createApp(task.config, {
    log: createLogger('warn'),
    runnerEvents: { onProgress: (job) => void send({ kind: 'progress', job }) },
  });
  try {
    await send({ kind: 'done', video: await app.indexNow(task.request) });
  } finally {
    await app.close();
  }
}

process.once('message', (task: IndexChildTask) => {
  runTask(task)
    .catch((err: unknown) =>
      send({ kind: 'failed', code: err instanceof AppError ? err.code : null, setup: err instanceof SetupError, message: userMessage(err) }),
    )
    // Model runtimes (WASM, worker threads) may still hold the event loop: the task is over.
    .finally(() => process.exit());
});
