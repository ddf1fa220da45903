// Backend selection, once, from config. VIDSEARCH_STORE=elastic puts the catalog (videos, shots,
// segments, cues, stage checkpoints) and the text index on Elasticsearch; VIDSEARCH_VECTORS=qdrant
// moves vectors to Qdrant and VIDSEARCH_QUEUE=bullmq the job queue to BullMQ on Redis.
//
// What still lives in the embedded SQLite file: the job queue and vectors unless moved as above,
// and, whatever the settings, every other repository on Store (actors, appearances and face
// clusters, moderation, ads/tags/highlights, technical cues, intro fingerprints and markers). Their
// writes are multi-row transactions and joins over small tables that no backend here replaces one
// for one, and no issue asks to move them yet. Two of them read the `videos` table (intro groups
// episodes by series with a join; deleting a video row clears its ads data by trigger), so with the
// Elasticsearch catalog the video rows are mirrored there (elastic/video-row-mirror.ts).
// Consequence: API and worker processes still share one SQLite file on one volume (WAL, busy
// timeout), see docker/compose.yml; workers on other hosts need that volume too.
import { Redis } from 'ioredis';
import { ConfigError, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import { BullJobQueue } from './bullmq/job-queue.js';
import { ElasticCatalog } from './elastic/catalog.js';
import { ElasticTextIndex } from './elastic/text-index.js';
import { VideoRowMirror } from './elastic/video-row-mirror.js';
import { openEmbeddedStore } from './embedded/index.js';
import type { Store } from './interfaces.js';
import { QdrantVectorIndex } from './qdrant/vector-index.js';

type BackendConfig = Pick<
  Config,
  'dataDir' | 'store' | 'vectors' | 'queue' | 'elasticsearchUrl' | 'elasticsearchApiKey' | 'qdrantUrl' | 'qdrantApiKey' | 'redisUrl'
> & { indexing: Pick<Config['indexing'], 'staleJobMs'> };

function required(value: string | null, name: string, why: string): string {
  if (!value) throw new ConfigError(`${name} must be set when ${why}`);
  return value;
}

export function redisConnection(url: string): Redis {
  // BullMQ workers block on Redis: ioredis must retry forever rather than fail a command.
  return new Redis(url, { maxRetriesPerRequest: null });
}

export async function openStore(config: BackendConfig, log?: Logger): Promise<Store> {
  const embedded = await openEmbeddedStore(config.dataDir);
  const closers: (() => Promise<void>)[] = [];
  try {
    const store: Store = { ...embedded };
    if (config.store === 'elastic') {
      const { index, migration } = await ElasticTextIndex.open({
        url: required(config.elasticsearchUrl, 'ELASTICSEARCH_URL', 'VIDSEARCH_STORE=elastic'),
        apiKey: config.elasticsearchApiKey,
      });
      closers.push(() => index.client.close());
      log?.info({ index: migration.index, action: migration.action, ...migration.meta }, 'Elasticsearch text index ready');
      const catalog = await ElasticCatalog.open(index.client);
      log?.info(
        Object.fromEntries(Object.entries(catalog.migration).map(([name, result]) => [name, `${result.index} (${result.action})`])),
        'Elasticsearch catalog ready',
      );
      store.text = index;
      store.catalog = new VideoRowMirror(catalog.catalog, embedded.catalog);
    }
    if (config.vectors === 'qdrant') {
      store.vectors = new QdrantVectorIndex({ url: required(config.qdrantUrl, 'QDRANT_URL', 'VIDSEARCH_VECTORS=qdrant'), apiKey: config.qdrantApiKey });
    }
    if (config.queue === 'bullmq') {
      const redis = redisConnection(required(config.redisUrl, 'REDIS_URL', 'VIDSEARCH_QUEUE=bullmq'));
      // The lock outlives several missed heartbeats; staleness itself is decided by requeueStale.
      const jobs = new BullJobQueue({ connection: redis, lockMs: Math.max(60_000, config.indexing.staleJobMs * 4) });
      store.jobs = jobs;
      closers.push(async () => {
        await jobs.close();
        await redis.quit();
      });
    }
    return {
      ...store,
      async close() {
        for (const close of closers.reverse()) await close();
        await embedded.close();
      },
    };
  } catch (err) {
    for (const close of closers) await close().catch(() => undefined);
    await embedded.close();
    throw err;
  }
}
