// `vidsearch migrate --to elastic,qdrant`: copies what an embedded store holds into the remote
// backends, so an existing library moves to the scale-out setup without re-indexing media.
// `elastic` copies the catalog (videos, shots, segments, cues, stage checkpoints) into the
// Elasticsearch catalog, rebuilds the text documents from it (the same builder the "text" stage
// uses), then copies every other repository (migrate-presence.ts, migrate-ads.ts,
// migrate-media.ts); vectors are read from the embedded SQLite file as stored, with their
// collection's model id. Safe to re-run: a video whose segments are already in Elasticsearch is
// skipped (segments are written last, so a video cut off half-way is copied again), and the
// repository copies keep what the target already holds, so a re-run after the switch never
// overwrites newer Elasticsearch data with stale SQLite rows; text and vectors have deterministic
// ids. The SQLite file is left as it was.
import path from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError, type Config } from '../config.js';
import { buildTextDocuments } from '../indexers/text.js';
import type { Logger } from '../logger.js';
import { openAdsRepositories } from '../store/elastic/ads.js';
import { ElasticCatalog } from '../store/elastic/catalog.js';
import { openMediaRepositories } from '../store/elastic/media.js';
import { openPresenceRepositories } from '../store/elastic/presence.js';
import { CUE_SOURCES } from '../store/elastic/catalog-schema.js';
import { ElasticTextIndex } from '../store/elastic/text-index.js';
import { DATABASE_FILE } from '../store/embedded/db.js';
import { openEmbeddedStore } from '../store/embedded/index.js';
import type { Catalog, VectorMetric, VectorPoint, VectorPayload } from '../store/interfaces.js';
import { moveLegacyVoiceClusters } from '../store/legacy-voice-clusters.js';
import { QdrantVectorIndex } from '../store/qdrant/vector-index.js';
import { copyAds, type AdsCopy } from './migrate-ads.js';
import { copyMedia, type MediaCopy } from './migrate-media.js';
import { copyPresence, type PresenceCopy } from './migrate-presence.js';

export type MigrationTarget = 'elastic' | 'qdrant';
const TARGETS: readonly MigrationTarget[] = ['elastic', 'qdrant'];
const VIDEO_PAGE = 100;
const VECTOR_BATCH = 512;

export function parseTargets(raw: string): MigrationTarget[] {
  const targets = raw.split(',').map((t) => t.trim()).filter(Boolean);
  const unknown = targets.filter((t) => !(TARGETS as readonly string[]).includes(t));
  if (targets.length === 0 || unknown.length) throw new ConfigError(`--to takes ${TARGETS.join(', ')} (comma-separated), got "${raw}"`);
  return [...new Set(targets)] as MigrationTarget[];
}

export interface CatalogCopy {
  videos: number;
  /** Videos already in the target (with their segments): left as they are. */
  skipped: number;
  shots: number;
  segments: number;
  cues: number;
  artifacts: number;
}

export interface MigrationSummary {
  catalog?: CatalogCopy;
  presence?: PresenceCopy;
  ads?: AdsCopy;
  media?: MediaCopy;
  videos?: number;
  textDocuments?: number;
  collections?: Record<string, number>;
}

interface ArtifactRow {
  stage: string;
  data: string;
}

/** Copies every video not yet in the target with its cues, stage checkpoints and structure. */
export async function copyCatalog(source: Catalog, dataDir: string, target: Catalog, log: Logger): Promise<CatalogCopy> {
  // Checkpoints straight from the embedded file: Catalog reads one stage at a time by name and has
  // no call listing a video's stages.
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  const copied: CatalogCopy = { videos: 0, skipped: 0, shots: 0, segments: 0, cues: 0, artifacts: 0 };
  try {
    const artifactsOf = db.prepare('SELECT stage, data FROM artifacts WHERE video_id = ? ORDER BY stage');
    for (let after: string | null = null; ; ) {
      const page = await source.listVideos({}, { first: VIDEO_PAGE, after });
      for (const video of page.items) {
        if ((await target.getVideo(video.id)) && (await target.listSegments(video.id, { first: 1 })).totalCount > 0) {
          copied.skipped += 1;
          continue;
        }
        const [shots, segments, cues] = await Promise.all([source.getShots(video.id), source.getSegmentsOfVideo(video.id), source.getCues(video.id)]);
        const artifacts = artifactsOf.all(video.id) as ArtifactRow[];
        await target.putVideo(video);
        await target.replaceCues(video.id, [...CUE_SOURCES], cues);
        for (const artifact of artifacts) await target.putArtifact(video.id, artifact.stage, JSON.parse(artifact.data) as unknown);
        // Last: the segments mark the video as copied.
        await target.replaceStructure(video.id, shots, segments);
        copied.videos += 1;
        copied.shots += shots.length;
        copied.segments += segments.length;
        copied.cues += cues.length;
        copied.artifacts += artifacts.length;
      }
      log.info({ ...copied }, 'catalog copied');
      if (!page.hasNextPage) return copied;
      after = page.endCursor;
    }
  } finally {
    db.close();
  }
}

async function copyText(catalog: Catalog, target: ElasticTextIndex, log: Logger): Promise<{ videos: number; textDocuments: number }> {
  let videos = 0;
  let textDocuments = 0;
  let after: string | null = null;
  for (;;) {
    const page = await catalog.listVideos({}, { first: VIDEO_PAGE, after });
    for (const video of page.items) {
      const docs = buildTextDocuments(video, await catalog.getSegmentsOfVideo(video.id), await catalog.getCues(video.id));
      await target.replaceVideo(video.id, docs);
      videos += 1;
      textDocuments += docs.length;
    }
    log.info({ videos, textDocuments }, 'text copied');
    if (!page.hasNextPage) return { videos, textDocuments };
    after = page.endCursor;
  }
}

interface CollectionRow {
  name: string;
  dim: number;
  metric: VectorMetric;
  model_id: string;
}

interface VectorRow {
  rowid: number;
  id: string;
  payload: string;
  vector: Buffer;
}

async function copyVectors(dataDir: string, target: QdrantVectorIndex, log: Logger): Promise<Record<string, number>> {
  // Read-only straight from the embedded file: VectorIndex has no "list everything" call, and a
  // one-off export should not grow the interface every backend implements.
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  const copied: Record<string, number> = {};
  try {
    const collections = db.prepare('SELECT name, dim, metric, model_id FROM vector_collections ORDER BY name').all() as CollectionRow[];
    const rows = db.prepare('SELECT rowid, id, payload, vector FROM vectors WHERE collection = ? AND rowid > ? ORDER BY rowid LIMIT ?');
    for (const c of collections) {
      await target.ensureCollection({ name: c.name, dim: c.dim, metric: c.metric, modelId: c.model_id });
      copied[c.name] = 0;
      for (let last = 0; ; ) {
        const batch = rows.all(c.name, last, VECTOR_BATCH) as VectorRow[];
        if (batch.length === 0) break;
        const points: VectorPoint[] = batch.map((row) => ({
          id: row.id,
          vector: new Float32Array(row.vector.buffer.slice(row.vector.byteOffset, row.vector.byteOffset + row.vector.byteLength)),
          payload: JSON.parse(row.payload) as VectorPayload,
        }));
        await target.upsert(c.name, points);
        copied[c.name] += points.length;
        last = batch[batch.length - 1]!.rowid;
      }
      log.info({ collection: c.name, points: copied[c.name] }, 'vectors copied');
    }
  } finally {
    db.close();
  }
  return copied;
}

export async function migrateCommand(config: Config, log: Logger, to: string): Promise<MigrationSummary> {
  const targets = parseTargets(to);
  const summary: MigrationSummary = {};
  if (targets.includes('elastic')) {
    if (!config.elasticsearchUrl) throw new ConfigError('ELASTICSEARCH_URL must be set to migrate to elastic');
    const { index, migration } = await ElasticTextIndex.open({ url: config.elasticsearchUrl, apiKey: config.elasticsearchApiKey });
    log.info({ index: migration.index, action: migration.action }, 'Elasticsearch text index ready');
    const source = await openEmbeddedStore(config.dataDir);
    try {
      // Voice clusters an older version kept as vector points: into the embedded table first, so they are copied.
      await moveLegacyVoiceClusters(source.vectors, source.voiceClusters);
      const { catalog } = await ElasticCatalog.open(index.client);
      summary.catalog = await copyCatalog(source.catalog, config.dataDir, catalog, log);
      Object.assign(summary, await copyText(source.catalog, index, log));
      summary.presence = await copyPresence(source, config.dataDir, await openPresenceRepositories(index.client, { log }), log);
      summary.ads = await copyAds(source, config.dataDir, await openAdsRepositories(index.client, { log }), log);
      summary.media = await copyMedia(source, config.dataDir, await openMediaRepositories(index.client, { catalog, log }), log);
    } finally {
      await source.close();
      await index.client.close();
    }
  }
  if (targets.includes('qdrant')) {
    if (!config.qdrantUrl) throw new ConfigError('QDRANT_URL must be set to migrate to qdrant');
    summary.collections = await copyVectors(config.dataDir, new QdrantVectorIndex({ url: config.qdrantUrl, apiKey: config.qdrantApiKey }), log);
  }
  return summary;
}
