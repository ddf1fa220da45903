// The composition root: opens the configured store, resolves media tools and builds services.
// Backends are chosen here once and passed down (no global singletons), so tests and
// `vidsearch eval` can run on a fresh temporary store.
import type { Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { resolveMediaTools, type MediaTools } from './media/tools.js';
import { createServices, type Services } from './services/index.js';
import { openEmbeddedStore } from './store/embedded/index.js';
import type { Store } from './store/interfaces.js';

export interface App {
  config: Config;
  store: Store;
  media: MediaTools;
  log: Logger;
  services: Services;
  close(): Promise<void>;
}

export async function createApp(config: Config, log: Logger = createLogger()): Promise<App> {
  const store = await openEmbeddedStore(config.dataDir);
  const media = resolveMediaTools(config);
  const services = createServices({ store, media, config, log });
  return {
    config,
    store,
    media,
    log,
    services,
    async close() {
      await store.close();
    },
  };
}
