// VoiceClusterRepository on Elasticsearch, with the embedded repository's contract
// (test/store/conformance-voice-clusters.ts). Index: VOICE_CLUSTERS_FAMILY (presence-schema.ts).
//
// One document per cluster under its own id. Listings are searches, so every write waits for a
// refresh ('wait_for') and deletions refresh; get and getVector read by id (real-time). Listings
// leave the embedding out of _source.
//
// What is not atomic here, unlike SQLite's transactions: replaceVideo writes the new clusters
// first (a re-index reuses the ids of the clusters it replaces, so most are overwritten in place),
// then deletes the video's clusters that are not among them; a reader in between sees the new
// clusters together with old ones that are about to go, never a video without clusters. update
// is one bulk request of partial updates: each cluster is updated whole or not at all.
import type { Client, estypes } from '@elastic/elasticsearch';
import type { Page, PageArgs } from '../../domain.js';
import { decodeCursor, encodeCursor } from '../embedded/cursor.js';
import { blobToVector, vectorToBlob } from '../embedded/vector-blob.js';
import { actorsOfCluster, type VoiceClusterFilter, type VoiceClusterRecord, type VoiceClusterRepository, type VoiceClusterWithVector } from '../voice-clusters.js';
import { bulkIndex } from './bulk.js';
import { DEFAULT_BACKOFF, type ElasticRepositoryOptions } from './client.js';
import { asc, base64Of, bytesOf, desc, ElasticDocuments, filterQuery, migrateIndexFamily, missing, term, type Query } from './documents.js';
import { VOICE_CLUSTERS_FAMILY } from './presence-schema.js';
import type { VersionedIndexResult } from './schema.js';

type StoredVoiceCluster = VoiceClusterRecord & { actorIds: string[]; vector: string };

/** Listings carry records, not embeddings. */
const WITHOUT_VECTOR: estypes.SearchSourceConfig = { excludes: ['vector'] };

function toRecord(d: StoredVoiceCluster): VoiceClusterRecord {
  return {
    id: d.id,
    videoId: d.videoId,
    actorId: d.actorId ?? null,
    origin: d.origin ?? null,
    linkedTrackId: d.linkedTrackId ?? null,
    linkedShare: d.linkedShare,
    linkedFaceId: d.linkedFaceId ?? null,
    turns: d.turns.map((t) => ({ id: t.id, start: t.start, end: t.end, actorId: t.actorId ?? null, confidence: t.confidence, ownMatch: t.ownMatch })),
    speechSec: d.speechSec,
    modelId: d.modelId,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/** The fields update writes (what editors and actor merges change). */
function editable(r: VoiceClusterRecord): Pick<StoredVoiceCluster, 'actorId' | 'actorIds' | 'origin' | 'turns' | 'updatedAt'> {
  return { actorId: r.actorId, actorIds: actorsOfCluster(r), origin: r.origin, turns: r.turns, updatedAt: r.updatedAt };
}

export class ElasticVoiceClusterRepository implements VoiceClusterRepository {
  constructor(
    private readonly documents: ElasticDocuments,
    private readonly index: string,
  ) {}

  /** Migrates the voice-cluster index forward, then opens the repository on it. */
  static async open(
    client: Client,
    options: ElasticRepositoryOptions = {},
  ): Promise<{ repository: ElasticVoiceClusterRepository; migration: Record<'voice-clusters', VersionedIndexResult> }> {
    const { aliases, results } = await migrateIndexFamily(client, options.prefix ?? 'vidsearch', VOICE_CLUSTERS_FAMILY);
    return { repository: new ElasticVoiceClusterRepository(new ElasticDocuments(client, options.backoff ?? DEFAULT_BACKOFF), aliases['voice-clusters']), migration: results };
  }

  private search(query: Query): Promise<VoiceClusterRecord[]> {
    return this.documents.searchAll<StoredVoiceCluster>(this.index, query, [asc('id')], WITHOUT_VECTOR).then((docs) => docs.map(toRecord));
  }

  async replaceVideo(videoId: string, clusters: readonly VoiceClusterWithVector[]): Promise<void> {
    if (clusters.some((c) => c.record.videoId !== videoId)) throw new Error(`replaceVideo(${videoId}) got a cluster of another video`);
    const documents = clusters.map(({ record, vector }) => {
      const source: StoredVoiceCluster = { ...record, actorIds: actorsOfCluster(record), vector: base64Of(vectorToBlob(vector)) };
      return { index: this.index, id: record.id, source };
    });
    await bulkIndex(this.documents.client, documents, 'wait_for', this.documents.backoff);
    const kept: Query[] = clusters.length ? [{ ids: { values: clusters.map((c) => c.record.id) } }] : [];
    await this.documents.deleteWhere(this.index, { bool: { filter: [term('videoId', videoId)], must_not: kept } }, { refresh: true });
  }

  async get(id: string): Promise<VoiceClusterRecord | null> {
    const doc = await this.documents.getOne<StoredVoiceCluster>(this.index, id);
    return doc ? toRecord(doc) : null;
  }

  async getVector(id: string): Promise<Float32Array | null> {
    const doc = await this.documents.getOne<StoredVoiceCluster>(this.index, id);
    return doc ? blobToVector(bytesOf(doc.vector)) : null;
  }

  listOfVideo(videoId: string): Promise<VoiceClusterRecord[]> {
    return this.search(filterQuery(term('videoId', videoId)));
  }

  listOfActor(actorId: string): Promise<VoiceClusterRecord[]> {
    return this.search(filterQuery(term('actorIds', actorId)));
  }

  async list(filter: VoiceClusterFilter, page: PageArgs): Promise<Page<VoiceClusterRecord>> {
    const filters: Query[] = filter.named === true ? [{ exists: { field: 'actorId' } }] : filter.named === false ? [missing('actorId')] : [];
    // The embedded cursor's key: (createdAt, id) of the last cluster, newest first.
    const after = page.after ? decodeCursor(page.after, { createdAt: 'string', id: 'string' }) : null;
    return this.documents.searchPage<StoredVoiceCluster, VoiceClusterRecord>({
      index: this.index,
      query: filterQuery(...filters),
      sort: [desc('createdAt'), desc('id')],
      page,
      after: after ? [after.createdAt, after.id] : null,
      toItem: toRecord,
      cursorOf: (cluster) => encodeCursor({ createdAt: cluster.createdAt, id: cluster.id }),
      params: { _source: WITHOUT_VECTOR },
    });
  }

  async update(records: readonly VoiceClusterRecord[]): Promise<void> {
    if (records.length === 0) return;
    const operations = records.flatMap((r) => [{ update: { _index: this.index, _id: r.id } }, { doc: editable(r) }]);
    const response = await this.documents.call(() => this.documents.client.bulk({ operations, refresh: 'wait_for' }));
    // A cluster deleted meanwhile answers 404 (document_missing_exception): skipped, not recreated.
    const failed = response.items.flatMap((item) => (item.update?.error && item.update.status !== 404 ? [`${item.update._id}: ${item.update.error.reason ?? item.update.error.type}`] : []));
    if (failed.length) throw new Error(`Elasticsearch refused ${failed.length} voice-cluster updates: ${failed.slice(0, 3).join('; ')}`);
  }

  purgeUnknown(before: string): Promise<number> {
    return this.documents.deleteWhere(this.index, filterQuery(missing('actorIds'), { range: { updatedAt: { lt: before } } }), { refresh: true });
  }

  async deleteVideo(videoId: string): Promise<void> {
    await this.documents.deleteWhere(this.index, filterQuery(term('videoId', videoId)), { refresh: true });
  }
}
