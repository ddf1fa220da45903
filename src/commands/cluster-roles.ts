// The processes `vidsearch serve --workers N` forks (the primary is serve-cluster.ts): HTTP
// workers, the image-search process, the indexing process, and the short-lived process that
// opens the store once so schema migrations run before any other opens it. Imported only in
// those processes: the primary never loads the store, the app or the models.
import { AggregatorRegistry } from 'prom-client';
import { createApp } from '../app.js';
import type { Config } from '../config.js';
import { watchAdmission } from '../http/admission.js';
import { answerPrimaryCalls, callPrimary } from '../http/cluster-ipc.js';
import { joinCluster } from '../http/cluster-member.js';
import { admittedImageSearch, asServerBusy, imageProcessAdmission } from '../http/image-admission.js';
import type { Logger } from '../logger.js';
import { forwardedMetrics, metricsRegistry } from '../observability/metrics.js';
import { resolveMediaTools } from '../media/tools.js';
import { startServer } from '../server.js';
import { imageSearchHandlers, remoteImageSearch } from '../services/image-search/remote.js';
import { createLocalImageSearch } from '../services/index.js';
import { openStore } from '../store/open.js';
import {
  IMAGE_CALL_WORKER_MARGIN_MS,
  imageCallTimeoutMs,
  INDEX_ENV,
  MIGRATE_ROLE,
  ROLE_ENV,
  SIZE_ENV,
  type ClusterServeOptions,
  type ImagesReadyMessage,
  type ListeningMessage,
} from './cluster-protocol.js';
import { onShutdown } from './shutdown.js';
import { workerCommand } from './worker.js';

/** Runs the part the primary forked this process for (its ROLE_ENV). */
export async function runClusterRole(config: Config, log: Logger, opts: ClusterServeOptions): Promise<void> {
  if (process.env[ROLE_ENV] === MIGRATE_ROLE) {
    await (await openStore(config, log)).close();
    process.exit(0);
  }
  // Answers the primary's metric requests with this process's registry (and, in the jobs
  // process, the metrics forwarded from its indexing children).
  AggregatorRegistry.setRegistries([metricsRegistry, forwardedMetrics]);
  new AggregatorRegistry();
  // The primary is gone (killed): nobody hands this worker connections any more; stop cleanly.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  if (process.env[ROLE_ENV] === 'jobs') return workerCommand(config, log);
  if (process.env[ROLE_ENV] === 'images') return runImageSearchProcess(config, log);
  return runHttpWorker(config, log, opts, { index: Number(process.env[INDEX_ENV]), size: Number(process.env[SIZE_ENV]) });
}

/** Answers the HTTP workers' image searches (passed on by the primary) until SIGTERM. */
async function runImageSearchProcess(config: Config, log: Logger): Promise<void> {
  const store = await openStore(config, log);
  const admission = imageProcessAdmission(config.admission);
  watchAdmission(admission);
  const service = createLocalImageSearch({ store, log, media: resolveMediaTools(config), config });
  answerPrimaryCalls(imageSearchHandlers(admittedImageSearch(service, admission)));
  // Ready once the CNN and the frame matrices are loaded (at 1M frames ~40–70 s): a first query
  // would otherwise wait that long inside its call. The primary holds calls until then, and
  // /readyz says `imageSearch: "loading"` meanwhile.
  const started = performance.now();
  await service.warmUp();
  log.info({ ms: Math.round(performance.now() - started) }, 'image search loaded');
  process.send?.({ vidsearchImagesReady: true } satisfies ImagesReadyMessage);
  await onShutdown(log, () => store.close());
}

async function runHttpWorker(config: Config, log: Logger, opts: ClusterServeOptions, share: { index: number; size: number }): Promise<void> {
  const imageSearch = remoteImageSearch((method, args) =>
    callPrimary(method, args, imageCallTimeoutMs(config) + IMAGE_CALL_WORKER_MARGIN_MS).catch((err: unknown) => {
      throw asServerBusy(err);
    }),
  );
  const app = await createApp(config, { log, imageSearch });
  const server = await startServer(app, { port: opts.port ?? config.port, host: config.host, cluster: joinCluster(share, config.limits.rateBurst) });
  process.send?.({ vidsearchListening: server.url } satisfies ListeningMessage);
  await onShutdown(log, async () => {
    await server.close();
    await app.close();
  });
}
