import { createApp } from '../app.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { onShutdown } from './shutdown.js';

export async function workerCommand(config: Config, log: Logger): Promise<void> {
  const app = await createApp(config, { log });
  await app.runner.start();
  log.info({ workerId: app.runner.workerId, concurrency: config.indexing.concurrency }, 'worker started');
  await onShutdown(log, () => app.close());
}
