// Backend selection, once, from config: the embedded SQLite store always holds the catalog and the
// relational repositories (actors, appearances, moderation, stage checkpoints); the text index
// moves to Elasticsearch (VIDSEARCH_STORE=elastic), vectors to Qdrant (VIDSEARCH_VECTORS=qdrant)
// and the job queue to BullMQ on Redis (VIDSEARCH_QUEUE=bullmq).
//
// Why the catalog stays in SQLite: its writes are small, relational and transactional (a
// re-index replaces a video's shots, segments and cues atomically; deleting a video cascades), which
// Elasticsearch does not offer; the data that grows with the library and needs a cluster — text
// and vectors — is what moves. Workers and API processes share the SQLite file on one volume
// (WAL, busy timeout), see docker/compose.yml.
import { Redis } from 'ioredis';
import { ConfigError, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import { BullJobQueue } from './bullmq/job-queue.js';
import { ElasticTextIndex } from './elastic/text-index.js';
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
      log?.info({ index: migration.index, action: migration.action, ...migration.meta }, 'Elasticsearch text index ready');
      store.text = index;
      closers.push(() => index.client.close());
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
