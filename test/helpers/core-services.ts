// The API's core services (videos, indexing, search, media) over any store, with media access
// faked: what the service, resolver and HTTP tests exercise. Services other engineers add are left
// out; these tests never call them.
import path from 'node:path';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import type { Services } from '../../src/services/index.js';
import { createIndexingService, type MediaInspector } from '../../src/services/indexing.service.js';
import { createMediaService, type FrameExtractor } from '../../src/services/media.service.js';
import { createSearchService } from '../../src/services/search.service.js';
import { createVideoService } from '../../src/services/video.service.js';
import type { Store } from '../../src/store/interfaces.js';

export function createCoreServices(deps: { store: Store; config: Config; log: Logger; inspector: MediaInspector; extractFrame: FrameExtractor }): Services {
  const { store, config, log } = deps;
  const media = createMediaService({ store, extractFrame: deps.extractFrame, cacheDir: path.join(config.dataDir, 'cache'), log });
  const core: Pick<Services, 'videos' | 'indexing' | 'search' | 'media'> = {
    videos: createVideoService({ store, derivedFiles: media, log, scoreFace: async () => [] }),
    indexing: createIndexingService({ store, inspector: deps.inspector, config, log }),
    search: createSearchService({ store, log }),
    media,
  };
  return core as Services;
}
