// VoiceClusterRepository on the embedded SQLite database. Turns are a JSON column (always read
// and written whole with their cluster); the actors a cluster names (its own and its turns') are
// also rows of voice_cluster_actors, so merging or deleting an actor finds its clusters by index
// and "nobody is known in it" is the absence of such rows. Listings leave the embedding BLOB out.
import type { Database } from 'better-sqlite3';
import type { Page, PageArgs } from '../../domain.js';
import { actorsOfCluster, type VoiceClusterFilter, type VoiceClusterOrigin, type VoiceClusterRecord, type VoiceClusterRepository, type VoiceClusterWithVector, type VoiceTurnRecord } from '../voice-clusters.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { IN_JSON_LIST, jsonList } from './db.js';
import { blobToVector, vectorToBlob } from './vector-blob.js';

/** Appended to the embedded store's migration list. */
export const VOICE_CLUSTERS_MIGRATION_SQL = `
CREATE TABLE voice_clusters (
  id TEXT PRIMARY KEY,
  video_id TEXT NOT NULL,
  actor_id TEXT,
  origin TEXT,
  linked_track_id TEXT,
  linked_share REAL NOT NULL,
  linked_face_id TEXT,
  turns TEXT NOT NULL,
  speech_sec REAL NOT NULL,
  model_id TEXT NOT NULL,
  vector BLOB NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX voice_clusters_by_video ON voice_clusters (video_id, id);
CREATE INDEX voice_clusters_by_created ON voice_clusters (created_at DESC, id DESC);
CREATE TABLE voice_cluster_actors (
  actor_id TEXT NOT NULL,
  cluster_id TEXT NOT NULL,
  PRIMARY KEY (actor_id, cluster_id)
);
CREATE INDEX voice_cluster_actors_by_cluster ON voice_cluster_actors (cluster_id);
`;

/** Every column but the embedding. */
const RECORD_COLUMNS = 'id, video_id, actor_id, origin, linked_track_id, linked_share, linked_face_id, turns, speech_sec, model_id, created_at, updated_at';

interface ClusterRow {
  id: string;
  video_id: string;
  actor_id: string | null;
  origin: string | null;
  linked_track_id: string | null;
  linked_share: number;
  linked_face_id: string | null;
  turns: string;
  speech_sec: number;
  model_id: string;
  created_at: string;
  updated_at: string;
}

function toRecord(row: ClusterRow): VoiceClusterRecord {
  return {
    id: row.id,
    videoId: row.video_id,
    actorId: row.actor_id,
    origin: row.origin as VoiceClusterOrigin | null,
    linkedTrackId: row.linked_track_id,
    linkedShare: row.linked_share,
    linkedFaceId: row.linked_face_id,
    turns: JSON.parse(row.turns) as VoiceTurnRecord[],
    speechSec: row.speech_sec,
    modelId: row.model_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class EmbeddedVoiceClusterRepository implements VoiceClusterRepository {
  constructor(private readonly db: Database) {}

  private writeActors(record: VoiceClusterRecord): void {
    this.db.prepare('DELETE FROM voice_cluster_actors WHERE cluster_id = ?').run(record.id);
    const insert = this.db.prepare('INSERT INTO voice_cluster_actors (actor_id, cluster_id) VALUES (?, ?)');
    for (const actorId of actorsOfCluster(record)) insert.run(actorId, record.id);
  }

  private deleteClusters(ids: readonly string[]): void {
    this.db.prepare(`DELETE FROM voice_cluster_actors WHERE cluster_id IN ${IN_JSON_LIST}`).run(jsonList(ids));
    this.db.prepare(`DELETE FROM voice_clusters WHERE id IN ${IN_JSON_LIST}`).run(jsonList(ids));
  }

  private idsOfVideo(videoId: string): string[] {
    return (this.db.prepare('SELECT id FROM voice_clusters WHERE video_id = ?').all(videoId) as { id: string }[]).map((r) => r.id);
  }

  async replaceVideo(videoId: string, clusters: readonly VoiceClusterWithVector[]): Promise<void> {
    if (clusters.some((c) => c.record.videoId !== videoId)) throw new Error(`replaceVideo(${videoId}) got a cluster of another video`);
    const insert = this.db.prepare(
      `INSERT INTO voice_clusters (id, video_id, actor_id, origin, linked_track_id, linked_share, linked_face_id, turns, speech_sec, model_id, vector, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      this.deleteClusters(this.idsOfVideo(videoId));
      for (const { record: r, vector } of clusters) {
        insert.run(r.id, r.videoId, r.actorId, r.origin, r.linkedTrackId, r.linkedShare, r.linkedFaceId, JSON.stringify(r.turns), r.speechSec, r.modelId, vectorToBlob(vector), r.createdAt, r.updatedAt);
        this.writeActors(r);
      }
    })();
  }

  async get(id: string): Promise<VoiceClusterRecord | null> {
    const row = this.db.prepare(`SELECT ${RECORD_COLUMNS} FROM voice_clusters WHERE id = ?`).get(id) as ClusterRow | undefined;
    return row ? toRecord(row) : null;
  }

  async getVector(id: string): Promise<Float32Array | null> {
    const row = this.db.prepare('SELECT vector FROM voice_clusters WHERE id = ?').get(id) as { vector: Buffer } | undefined;
    return row ? blobToVector(row.vector) : null;
  }

  async listOfVideo(videoId: string): Promise<VoiceClusterRecord[]> {
    return (this.db.prepare(`SELECT ${RECORD_COLUMNS} FROM voice_clusters WHERE video_id = ? ORDER BY id`).all(videoId) as ClusterRow[]).map(toRecord);
  }

  async listOfActor(actorId: string): Promise<VoiceClusterRecord[]> {
    const rows = this.db
      .prepare(`SELECT ${RECORD_COLUMNS} FROM voice_clusters WHERE id IN (SELECT cluster_id FROM voice_cluster_actors WHERE actor_id = ?) ORDER BY id`)
      .all(actorId) as ClusterRow[];
    return rows.map(toRecord);
  }

  async list(filter: VoiceClusterFilter, page: PageArgs): Promise<Page<VoiceClusterRecord>> {
    const where = filter.named === true ? 'actor_id IS NOT NULL' : filter.named === false ? 'actor_id IS NULL' : '1 = 1';
    const totalCount = (this.db.prepare(`SELECT count(*) AS n FROM voice_clusters WHERE ${where}`).get() as { n: number }).n;
    const after = page.after ? decodeCursor(page.after, { createdAt: 'string', id: 'string' }) : null;
    const afterSql = after ? 'AND (created_at < ? OR (created_at = ? AND id < ?))' : '';
    const params = after ? [after.createdAt, after.createdAt, after.id] : [];
    const rows = this.db
      .prepare(`SELECT ${RECORD_COLUMNS} FROM voice_clusters WHERE ${where} ${afterSql} ORDER BY created_at DESC, id DESC LIMIT ?`)
      .all(...params, page.first + 1) as ClusterRow[];
    const items = rows.slice(0, page.first).map(toRecord);
    const last = items.at(-1);
    return { items, endCursor: last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : (page.after ?? null), hasNextPage: rows.length > page.first, totalCount };
  }

  async update(records: readonly VoiceClusterRecord[]): Promise<void> {
    const update = this.db.prepare('UPDATE voice_clusters SET actor_id = ?, origin = ?, turns = ?, updated_at = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const r of records) {
        if (update.run(r.actorId, r.origin, JSON.stringify(r.turns), r.updatedAt, r.id).changes > 0) this.writeActors(r);
      }
    })();
  }

  async purgeUnknown(before: string): Promise<number> {
    return this.db.transaction(() => {
      const ids = (
        this.db
          .prepare('SELECT id FROM voice_clusters c WHERE updated_at < ? AND NOT EXISTS (SELECT 1 FROM voice_cluster_actors a WHERE a.cluster_id = c.id) ORDER BY id')
          .all(before) as { id: string }[]
      ).map((r) => r.id);
      this.deleteClusters(ids);
      return ids.length;
    })();
  }

  async deleteVideo(videoId: string): Promise<void> {
    this.db.transaction(() => this.deleteClusters(this.idsOfVideo(videoId)))();
  }
}
