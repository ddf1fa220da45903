import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { onShutdown } from './shutdown.js';

export async function serveCommand(
  config: Config,
  log: Logger,
  opts: { port?: number; worker: boolean },
): Promise<void> {
  if (config.workers > 1) {
    const { serveCluster } = await import('./serve-cluster.js');
    return serveCluster(config, log, { ...opts, onServing: () => warnWithoutKeys(config, log) });
  }
  // Imported here, not at the top: the primary of several workers (above) never loads the app.
  const [{ createApp }, { startServer }, { ChildProcessJobRunner }] = await Promise.all([import('../app.js'), import('../server.js'), import('../jobs/child-runner.js')]);
  const app = await createApp(config, { log });
  // Jobs run in a child process that exits when the queue is empty: the models they load leave with it.
  const indexing = opts.worker ? new ChildProcessJobRunner(app) : null;
  await indexing?.start();
  const server = await startServer(app, { port: opts.port ?? config.port, host: config.host });
  warnWithoutKeys(config, log);
  log.info({ url: server.url }, 'vidsearch is serving GraphQL');
  process.stderr.write(`vidsearch: GraphQL at ${server.url}/graphql\n`);
  await onShutdown(log, async () => {
    await server.close();
    await indexing?.stop();
    await app.close();
  });
}

function warnWithoutKeys(config: Config, log: Logger): void {
  if (config.apiKeys.size === 0) {
    log.warn({ host: config.host }, 'no VIDSEARCH_API_KEYS configured: listening on localhost only, every caller is an editor');
  }
}
