import { createApp } from '../app.js';
import type { Config } from '../config.js';
import { ChildProcessJobRunner } from '../jobs/child-runner.js';
import type { Logger } from '../logger.js';
import { onShutdown } from './shutdown.js';

/**
 * Runs indexing jobs until SIGINT/SIGTERM (`vidsearch worker`, and the jobs process of a serve
 * cluster), each burst of queued jobs in a child process that exits when the queue is empty: an
 * idle worker does not hold the models of its last job.
 */
export async function workerCommand(config: Config, log: Logger): Promise<void> {
  const app = await createApp(config, { log });
  const indexing = new ChildProcessJobRunner(app);
  await indexing.start();
  log.info({ concurrency: config.indexing.concurrency }, 'worker started');
  await onShutdown(log, async () => {
    await indexing.stop();
    await app.close();
  });
}
