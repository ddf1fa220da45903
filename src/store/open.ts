// Backend selection, once, from config.
//   VIDSEARCH_STORE=elastic   the catalog (videos, shots, segments, cues, stage checkpoints), the
//                             text index and every other repository on Store (actors, appearances
//                             and face clusters, voice clusters, moderation, ads/tags/highlights, technical cues,
//                             intro fingerprints and markers, frame evidence) on Elasticsearch;
//   VIDSEARCH_VECTORS=qdrant  vectors on Qdrant;
//   VIDSEARCH_QUEUE=bullmq    the job queue on BullMQ (Redis).
// The embedded SQLite file is opened only for what is still set to `embedded`. With all three
// remote, API and worker processes keep no state of their own: any number of them, on any
// machine, share the servers (media files still have to be readable where workers run).
// Each remote backend's modules (and their clients: @elastic/elasticsearch, BullMQ and ioredis,
// Qdrant) are imported only when configured: held by every process, they cost ~50 MB of RSS each
// in a server that uses none of them.
import type { Redis } from 'ioredis';
import { ConfigError, type Config } from '../config.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { openEmbeddedStore } from './embedded/index.js';
import type { Store } from './interfaces.js';
import { moveLegacyVoiceClusters } from './legacy-voice-clusters.js';

type BackendConfig = Pick<
  Config,
  'dataDir' | 'store' | 'vectors' | 'queue' | 'elasticsearchUrl' | 'elasticsearchApiKey' | 'qdrantUrl' | 'qdrantApiKey' | 'redisUrl'
> & { indexing: Pick<Config['indexing'], 'staleJobMs'> };

function required(value: string | null, name: string, why: string): string {
  if (!value) throw new ConfigError(`${name} must be set when ${why}`);
  return value;
}

export async function redisConnection(url: string): Promise<Redis> {
  const { Redis } = await import('ioredis');
  // BullMQ workers block on Redis: ioredis must retry forever rather than fail a command.
  return new Redis(url, { maxRetriesPerRequest: null });
}

/** Whether any part of the store stays in the embedded SQLite file. */
export function usesEmbeddedFile(config: Pick<Config, 'store' | 'vectors' | 'queue'>): boolean {
  return config.store === 'embedded' || config.vectors === 'embedded' || config.queue === 'embedded';
}

/** Everything on Store but vectors and jobs, on Elasticsearch. */
async function openElastic(config: BackendConfig, log: Logger | undefined, closers: (() => Promise<void>)[]): Promise<Omit<Store, 'vectors' | 'jobs' | 'close'>> {
  const [{ ElasticTextIndex }, { ElasticCatalog }, { CATALOG_SCHEMA_VERSION }, { migrationSummary }, { openPresenceRepositories }, { openAdsRepositories }, { openMediaRepositories }] =
    await Promise.all([
      import('./elastic/text-index.js'),
      import('./elastic/catalog.js'),
      import('./elastic/catalog-schema.js'),
      import('./elastic/documents.js'),
      import('./elastic/presence.js'),
      import('./elastic/ads.js'),
      import('./elastic/media.js'),
    ]);
  const { index, migration } = await ElasticTextIndex.open({
    url: required(config.elasticsearchUrl, 'ELASTICSEARCH_URL', 'VIDSEARCH_STORE=elastic'),
    apiKey: config.elasticsearchApiKey,
  });
  const client = index.client;
  closers.push(() => client.close());
  log?.info({ index: migration.index, action: migration.action, ...migration.meta }, 'Elasticsearch text index ready');
  const catalog = await ElasticCatalog.open(client);
  log?.info(migrationSummary(catalog.migration), 'Elasticsearch catalog ready');
  return {
    schemaVersion: CATALOG_SCHEMA_VERSION,
    catalog: catalog.catalog,
    text: index,
    ...(await openPresenceRepositories(client, { log })),
    ...(await openAdsRepositories(client, { log })),
    ...(await openMediaRepositories(client, { catalog: catalog.catalog, log })),
  };
}

/**
 * Voice clusters an older version kept as vector points move to their repository. A backend that
 * cannot be reached now is no reason to refuse to start: the points stay, and the next start moves them.
 */
async function moveLegacyData(store: Store, log: Logger | undefined): Promise<void> {
  try {
    const moved = await moveLegacyVoiceClusters(store.vectors, store.voiceClusters);
    if (moved > 0) log?.info({ voiceClusters: moved }, 'voice clusters moved out of the vector index');
  } catch (err) {
    log?.warn({ err: errorMessage(err) }, 'voice clusters of an older version could not be moved out of the vector index yet; retried at the next start');
  }
}

export async function openStore(config: BackendConfig, log?: Logger): Promise<Store> {
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const embedded = usesEmbeddedFile(config) ? await openEmbeddedStore(config.dataDir) : null;
    if (embedded) closers.push(() => embedded.close());
    const remote = config.store === 'elastic' ? await openElastic(config, log, closers) : null;
    const vectors =
      config.vectors === 'qdrant'
        ? new (await import('./qdrant/vector-index.js')).QdrantVectorIndex({ url: required(config.qdrantUrl, 'QDRANT_URL', 'VIDSEARCH_VECTORS=qdrant'), apiKey: config.qdrantApiKey })
        : embedded!.vectors;
    let jobs = embedded?.jobs;
    if (config.queue === 'bullmq') {
      const redis = await redisConnection(required(config.redisUrl, 'REDIS_URL', 'VIDSEARCH_QUEUE=bullmq'));
      const { BullJobQueue } = await import('./bullmq/job-queue.js');
      // The lock outlives several missed heartbeats; staleness itself is decided by requeueStale.
      const queue = new BullJobQueue({ connection: redis, lockMs: Math.max(60_000, config.indexing.staleJobMs * 4) });
      jobs = queue;
      closers.push(async () => {
        await queue.close();
        await redis.quit();
      });
    }
    // Later keys win: the embedded store's own close is replaced.
    const store: Store = {
      ...(remote ?? embedded!),
      vectors,
      jobs: jobs!,
      close,
    };
    await moveLegacyData(store, log);
    return store;
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
