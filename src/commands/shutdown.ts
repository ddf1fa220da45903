// One place that turns SIGINT/SIGTERM into an orderly close (finish the request, hand running
// jobs back to the queue, close the store) instead of a hard exit.
import type { Logger } from '../logger.js';

export function onShutdown(log: Logger, close: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const handler = (signal: NodeJS.Signals): void => {
      if (closing) return;
      closing = true;
      log.info({ signal }, 'shutting down');
      close()
        .catch((err: unknown) => log.error({ err }, 'error during shutdown'))
        .finally(() => resolve());
    };
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  });
}
