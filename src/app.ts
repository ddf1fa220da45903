// The composition root: opens the configured store, resolves media tools and builds services.
// Backends are chosen here once and passed down (no global singletons), so tests and
// `vidsearch eval` can run on a fresh temporary store.
import type { Config } from './config.js';
import type { IndexVideoRequest, VideoRecord } from './domain.js';
import { AppError } from './errors.js';
import { JobRunner, type JobRunnerEvents } from './jobs/runner.js';
import { createLogger, type Logger } from './logger.js';
import { resolveMediaTools, type MediaTools } from './media/tools.js';
import { createServices, type Services } from './services/index.js';
import type { ImageSearcher } from './services/image-search/index.js';
import { openStore } from './store/open.js';
import type { Store } from './store/interfaces.js';

export interface App {
  config: Config;
  store: Store;
  media: MediaTools;
  log: Logger;
  services: Services;
  runner: JobRunner;
  /**
   * Index one file now, in this process, through the same path as the `indexVideo` mutation and
   * a worker (used by `vidsearch index`, eval and the demo). Throws when the job fails.
   */
  indexNow(request: IndexVideoRequest): Promise<VideoRecord>;
  close(): Promise<void>;
}

export interface CreateAppOptions {
  log?: Logger;
  runnerEvents?: JobRunnerEvents;
  /** Image searches answered by another process (see ServiceDeps.imageSearch). */
  imageSearch?: ImageSearcher;
}

export async function createApp(config: Config, options: CreateAppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger();
  const store = await openStore(config, log);
  const media = resolveMediaTools(config);
  const services = createServices({ store, media, config, log, ...(options.imageSearch ? { imageSearch: options.imageSearch } : {}) });
  const runner = new JobRunner({ store, media, config, log }, options.runnerEvents);

  async function indexNow(request: IndexVideoRequest): Promise<VideoRecord> {
    const job = await services.indexing.indexVideo(request);
    await runner.runUntilIdle();
    const finished = await store.jobs.get(job.id);
    if (finished?.status !== 'SUCCEEDED') {
      throw new AppError('INTERNAL_SERVER_ERROR', `indexing ${request.path} ${finished?.status ?? 'vanished'}: ${finished?.error ?? ''}`);
    }
    const video = finished.videoId ? await store.catalog.getVideo(finished.videoId) : null;
    if (!video) throw new AppError('INTERNAL_SERVER_ERROR', `indexing ${request.path} left no video`);
    return video;
  }

  return {
    config,
    store,
    media,
    log,
    services,
    runner,
    indexNow,
    async close() {
      await runner.stop();
      await store.close();
    },
  };
}
