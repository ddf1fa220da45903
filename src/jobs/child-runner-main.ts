// The child side of child-runner.ts: runs queued indexing jobs until the queue is empty, answers
// the parent's metric requests, hands its jobs back when told to stop, and exits (taking every
// model it loaded with it).
import 'reflect-metadata';
import { createApp } from '../app.js';
import { errorMessage } from '../errors.js';
import { createLogger } from '../logger.js';
import { isIndexingMetric, metricsRegistry, type MetricsSnapshot } from '../observability/metrics.js';
import type { FromIndexingChild, ToIndexingChild } from './child-runner.js';
import type { JobRunner } from './runner.js';

let runner: JobRunner | null = null;
let stopRequested = false;

function send(message: FromIndexingChild): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, () => resolve());
  });
}

async function indexingMetrics(): Promise<MetricsSnapshot> {
  return (await metricsRegistry.getMetricsAsJSON()).filter(isIndexingMetric);
}

/** Running jobs go back to the queue (the runner aborts them between steps) and the drain ends. */
function requestStop(): void {
  stopRequested = true;
  void runner?.stop();
}

async function drain(task: Extract<ToIndexingChild, { kind: 'run' }>): Promise<void> {
  const app = await createApp(task.config, {
    log: createLogger(task.logLevel),
    runnerEvents: { onProgress: (job) => void send({ kind: 'job', job }) },
  });
  runner = app.runner;
  try {
    if (stopRequested) await app.runner.stop();
    await app.runner.runUntilIdle();
  } finally {
    await app.close();
  }
  await send({ kind: 'drained', metrics: await indexingMetrics() });
}

// The parent is gone without telling us to stop (it was killed): die with it, as an in-process
// worker would have. The jobs' heartbeats go stale and the next server life resumes them.
process.once('disconnect', () => process.exit(1));
// Ctrl-C reaches the whole process group: stop like the parent does, not halfway through a write.
process.on('SIGINT', requestStop);
process.on('SIGTERM', requestStop);
process.on('message', (message: ToIndexingChild) => {
  if (message.kind === 'metrics') {
    void indexingMetrics().then((metrics) => send({ kind: 'metrics', id: message.id, metrics }));
  } else if (message.kind === 'stop') {
    requestStop();
  } else {
    // Exits either way: model runtimes (WASM, worker threads) may still hold the event loop.
    drain(message)
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        process.stderr.write(`vidsearch: the indexing process failed: ${errorMessage(err)}\n`);
        process.exit(1);
      });
  }
});
