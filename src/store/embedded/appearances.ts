// AppearanceRepository on the embedded SQLite database. Face vectors are not here: they live in
// the vector index (collection 'faces'); these tables keep tracks, faces, clusters and spans.
import type { Database } from 'better-sqlite3';
import type { Page, PageArgs } from '../../domain.js';
import { BadInputError } from '../../errors.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { IN_JSON_LIST, jsonList, StatementCache } from './db.js';
import {
  removeClusterMembers,
  type AppearanceRepository,
  type AppearanceSpanRecord,
  type ClusterFilter,
  type FaceClusterRecord,
  type FaceIndexResult,
  type FaceRecord,
  type FaceTrackRecord,
  type SpanEvidence,
} from '../appearances.js';
import { toCluster, toFace, toSpan, toTrack, type ClusterRow, type FaceRow, type SpanRow, type TrackRow } from './appearance-rows.js';
import { vectorToBlob } from './vector-blob.js';

/** Appended to the embedded store's migration list. */
export const APPEARANCES_MIGRATION_SQL = `
CREATE TABLE face_tracks (
  id TEXT PRIMARY KEY,
  video_id TEXT NOT NULL,
  shot_index INTEGER NOT NULL,
  start REAL NOT NULL,
  end REAL NOT NULL,
  face_count INTEGER NOT NULL,
  actor_id TEXT,
  cluster_id TEXT,
  similarity REAL,
  confidence REAL NOT NULL,
  best_face_id TEXT NOT NULL,
  embedding BLOB NOT NULL,
  model_id TEXT NOT NULL
);
CREATE INDEX face_tracks_by_video ON face_tracks (video_id, start);
CREATE INDEX face_tracks_by_cluster ON face_tracks (cluster_id);
CREATE INDEX face_tracks_by_actor ON face_tracks (actor_id);
CREATE TABLE faces (
  id TEXT PRIMARY KEY,
  video_id TEXT NOT NULL,
  track_id TEXT NOT NULL,
  time REAL NOT NULL,
  box_x REAL NOT NULL,
  box_y REAL NOT NULL,
  box_width REAL NOT NULL,
  box_height REAL NOT NULL,
  detection_score REAL NOT NULL,
  quality REAL NOT NULL,
  thumbnail BLOB
);
CREATE INDEX faces_by_track ON faces (track_id, quality DESC);
CREATE INDEX faces_by_video ON faces (video_id);
CREATE TABLE face_clusters (
  id TEXT PRIMARY KEY,
  actor_id TEXT,
  size INTEGER NOT NULL,
  vector_sum BLOB NOT NULL,
  model_id TEXT NOT NULL,
  best_face_id TEXT,
  best_face_quality REAL NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX face_clusters_by_created ON face_clusters (created_at DESC, id DESC);
CREATE INDEX face_clusters_open ON face_clusters (model_id) WHERE actor_id IS NULL;
CREATE TABLE appearance_spans (
  id TEXT PRIMARY KEY,
  video_id TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  start REAL NOT NULL,
  end REAL NOT NULL,
  confidence REAL NOT NULL,
  evidence TEXT NOT NULL CHECK (evidence IN ('FACE', 'VOICE')),
  source_ids TEXT NOT NULL DEFAULT '[]',
  best_face_id TEXT
);
CREATE INDEX appearance_spans_by_video_actor ON appearance_spans (video_id, actor_id, start);
CREATE INDEX appearance_spans_by_actor ON appearance_spans (actor_id, video_id, start);
`;

const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(',');

/** SQLite caps bound parameters; large id lists are queried in chunks. */
const MAX_IDS_PER_QUERY = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_IDS_PER_QUERY) out.push(items.slice(i, i + MAX_IDS_PER_QUERY));
  return out;
}

export class EmbeddedAppearanceRepository implements AppearanceRepository {
  /** The reads every onlyWatch / matchAds query makes. */
  private readonly reads: StatementCache;

  constructor(private readonly db: Database) {
    this.reads = new StatementCache(db);
  }

  async replaceVideoFaces(videoId: string, result: FaceIndexResult): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM faces WHERE video_id = ?').run(videoId);
      this.db.prepare('DELETE FROM face_tracks WHERE video_id = ?').run(videoId);
      this.db.prepare("DELETE FROM appearance_spans WHERE video_id = ? AND evidence = 'FACE'").run(videoId);
      this.insertTracks(result.tracks);
      this.insertFaces(result.faces);
      this.insertSpans(result.spans);
      this.writeClusters(result.clusters);
    })();
  }

  async getTracksOfVideo(videoId: string): Promise<FaceTrackRecord[]> {
    return (this.db.prepare('SELECT * FROM face_tracks WHERE video_id = ? ORDER BY start, id').all(videoId) as TrackRow[]).map(toTrack);
  }

  async getTracksOfCluster(clusterId: string): Promise<FaceTrackRecord[]> {
    return (this.db.prepare('SELECT * FROM face_tracks WHERE cluster_id = ? ORDER BY video_id, start, id').all(clusterId) as TrackRow[]).map(toTrack);
  }

  async getTracksOfActor(actorId: string): Promise<FaceTrackRecord[]> {
    return (this.db.prepare('SELECT * FROM face_tracks WHERE actor_id = ? ORDER BY video_id, start, id').all(actorId) as TrackRow[]).map(toTrack);
  }

  async getTracks(ids: readonly string[]): Promise<(FaceTrackRecord | null)[]> {
    const byId = new Map<string, FaceTrackRecord>();
    for (const part of chunks(ids)) {
      for (const row of this.db.prepare(`SELECT * FROM face_tracks WHERE id IN (${placeholders(part.length)})`).all(...part) as TrackRow[]) {
        byId.set(row.id, toTrack(row));
      }
    }
    return ids.map((id) => byId.get(id) ?? null);
  }

  async assignTracks(trackIds: readonly string[], actorId: string | null, confidence: number): Promise<void> {
    const update = this.db.prepare('UPDATE face_tracks SET actor_id = ?, confidence = ?, similarity = NULL WHERE id = ?');
    this.db.transaction(() => {
      for (const id of trackIds) update.run(actorId, confidence, id);
    })();
  }

  async getFaces(ids: readonly string[]): Promise<(FaceRecord | null)[]> {
    const byId = new Map<string, FaceRecord>();
    for (const part of chunks(ids)) {
      for (const row of this.db.prepare(`SELECT * FROM faces WHERE id IN (${placeholders(part.length)})`).all(...part) as FaceRow[]) {
        byId.set(row.id, toFace(row));
      }
    }
    return ids.map((id) => byId.get(id) ?? null);
  }

  async getFacesOfTracks(trackIds: readonly string[]): Promise<FaceRecord[]> {
    const out: FaceRecord[] = [];
    for (const part of chunks(trackIds)) {
      const rows = this.db
        .prepare(`SELECT * FROM faces WHERE track_id IN (${placeholders(part.length)}) ORDER BY track_id, quality DESC, id`)
        .all(...part) as FaceRow[];
      out.push(...rows.map(toFace));
    }
    return out;
  }

  async getCluster(id: string): Promise<FaceClusterRecord | null> {
    const row = this.db.prepare('SELECT * FROM face_clusters WHERE id = ?').get(id) as ClusterRow | undefined;
    return row ? toCluster(row) : null;
  }

  async listClusters(filter: ClusterFilter, page: PageArgs): Promise<Page<FaceClusterRecord>> {
    const where = filter.named === true ? 'actor_id IS NOT NULL' : filter.named === false ? 'actor_id IS NULL' : '1 = 1';
    const totalCount = (this.db.prepare(`SELECT count(*) AS n FROM face_clusters WHERE ${where}`).get() as { n: number }).n;
    const after = page.after ? decodeCursor(page.after, { createdAt: 'string', id: 'string' }) : null;
    const afterSql = after ? 'AND (created_at < ? OR (created_at = ? AND id < ?))' : '';
    const params = after ? [after.createdAt, after.createdAt, after.id] : [];
    const rows = this.db
      .prepare(`SELECT * FROM face_clusters WHERE ${where} ${afterSql} ORDER BY created_at DESC, id DESC LIMIT ?`)
      .all(...params, page.first + 1) as ClusterRow[];
    const items = rows.slice(0, page.first).map(toCluster);
    const last = items.at(-1);
    return {
      items,
      endCursor: last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : (page.after ?? null),
      hasNextPage: rows.length > page.first,
      totalCount,
    };
  }

  async openClusters(modelId: string): Promise<FaceClusterRecord[]> {
    return (this.db.prepare('SELECT * FROM face_clusters WHERE actor_id IS NULL AND model_id = ? ORDER BY id').all(modelId) as ClusterRow[]).map(toCluster);
  }

  async putClusters(clusters: readonly FaceClusterRecord[]): Promise<void> {
    this.db.transaction(() => this.writeClusters(clusters))();
  }

  async purgeUnknownFaces(before: string): Promise<{ clusterIds: string[]; faceIds: string[] }> {
    return this.db.transaction(() => {
      const clusterIds = (this.db.prepare('SELECT id FROM face_clusters WHERE actor_id IS NULL AND updated_at < ?').all(before) as { id: string }[]).map((r) => r.id);
      const faceIds: string[] = [];
      for (const part of chunks(clusterIds)) {
        const inClusters = `cluster_id IN (${placeholders(part.length)})`;
        const trackIds = (this.db.prepare(`SELECT id FROM face_tracks WHERE ${inClusters} AND actor_id IS NULL`).all(...part) as { id: string }[]).map((r) => r.id);
        for (const tracks of chunks(trackIds)) {
          const inTracks = `track_id IN (${placeholders(tracks.length)})`;
          faceIds.push(...(this.db.prepare(`SELECT id FROM faces WHERE ${inTracks}`).all(...tracks) as { id: string }[]).map((r) => r.id));
          this.db.prepare(`DELETE FROM faces WHERE ${inTracks}`).run(...tracks);
          this.db.prepare(`DELETE FROM face_tracks WHERE id IN (${placeholders(tracks.length)})`).run(...tracks);
        }
        // Members an editor gave to an actor stay, without the cluster.
        this.db.prepare(`UPDATE face_tracks SET cluster_id = NULL WHERE ${inClusters}`).run(...part);
        this.db.prepare(`DELETE FROM face_clusters WHERE id IN (${placeholders(part.length)})`).run(...part);
      }
      return { clusterIds, faceIds };
    })();
  }

  async replaceSpans(videoId: string, evidence: SpanEvidence, spans: readonly AppearanceSpanRecord[]): Promise<void> {
    if (spans.some((s) => s.videoId !== videoId || s.evidence !== evidence)) {
      throw new Error(`replaceSpans(${videoId}, ${evidence}) got a span of another video or evidence`);
    }
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM appearance_spans WHERE video_id = ? AND evidence = ?').run(videoId, evidence);
      this.insertSpans(spans);
    })();
  }

  async replaceFaceSpansOfVideos(spansByVideo: ReadonlyMap<string, readonly AppearanceSpanRecord[]>): Promise<void> {
    this.db.transaction(() => {
      const clear = this.db.prepare("DELETE FROM appearance_spans WHERE video_id = ? AND evidence = 'FACE'");
      for (const [videoId, spans] of spansByVideo) {
        clear.run(videoId);
        this.insertSpans(spans);
      }
    })();
  }

  async getSpans(videoId: string, actorIds: readonly string[], minConfidence: number): Promise<AppearanceSpanRecord[]> {
    if (actorIds.length === 0) return [];
    const rows = this.reads
      .get(`SELECT * FROM appearance_spans WHERE video_id = ? AND actor_id IN ${IN_JSON_LIST} AND confidence >= ? ORDER BY start, id`)
      .all(videoId, jsonList(actorIds), minConfidence) as SpanRow[];
    return rows.map(toSpan);
  }

  async getSpansOfVideo(videoId: string, window?: { from: number; to: number }): Promise<AppearanceSpanRecord[]> {
    // The window filters inside SQLite, so rows outside it are never turned into records.
    const rows = window
      ? this.reads.get('SELECT * FROM appearance_spans WHERE video_id = ? AND start <= ? AND "end" >= ? ORDER BY actor_id, start, id').all(videoId, window.to, window.from)
      : this.reads.get('SELECT * FROM appearance_spans WHERE video_id = ? ORDER BY actor_id, start, id').all(videoId);
    return (rows as SpanRow[]).map(toSpan);
  }

  async listSpansOfActor(actorId: string, page: PageArgs): Promise<Page<AppearanceSpanRecord>> {
    const totalCount = (this.db.prepare('SELECT count(*) AS n FROM appearance_spans WHERE actor_id = ?').get(actorId) as { n: number }).n;
    const offset = page.after ? Number(decodeCursor(page.after, { offset: 'number' }).offset) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw new BadInputError('after is not a valid cursor', { after: page.after });
    const rows = this.db
      .prepare('SELECT * FROM appearance_spans WHERE actor_id = ? ORDER BY video_id, start, id LIMIT ? OFFSET ?')
      .all(actorId, page.first, offset) as SpanRow[];
    const end = offset + rows.length;
    return {
      items: rows.map(toSpan),
      endCursor: rows.length ? encodeCursor({ offset: end }) : (page.after ?? null),
      hasNextPage: end < totalCount,
      totalCount,
    };
  }

  async reassignActor(sourceId: string, targetId: string): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('UPDATE face_tracks SET actor_id = ? WHERE actor_id = ?').run(targetId, sourceId);
      this.db.prepare('UPDATE face_clusters SET actor_id = ? WHERE actor_id = ?').run(targetId, sourceId);
      this.db.prepare("UPDATE appearance_spans SET actor_id = ? WHERE actor_id = ? AND evidence = 'VOICE'").run(targetId, sourceId);
    })();
  }

  async forgetActor(actorId: string): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('UPDATE face_tracks SET actor_id = NULL, similarity = NULL WHERE actor_id = ?').run(actorId);
      this.db.prepare('UPDATE face_clusters SET actor_id = NULL WHERE actor_id = ?').run(actorId);
      this.db.prepare('DELETE FROM appearance_spans WHERE actor_id = ?').run(actorId);
    })();
  }

  async deleteVideo(videoId: string): Promise<string[]> {
    return this.db.transaction(() => {
      const faceIds = (this.db.prepare('SELECT id FROM faces WHERE video_id = ?').all(videoId) as { id: string }[]).map((r) => r.id);
      // Members leave their clusters: subtract their embeddings so centroids stay honest.
      const tracks = (this.db.prepare('SELECT * FROM face_tracks WHERE video_id = ? AND cluster_id IS NOT NULL').all(videoId) as TrackRow[]).map(toTrack);
      const goneFaces = new Set(faceIds);
      const changed = new Map<string, FaceClusterRecord>();
      for (const track of tracks) {
        let cluster = changed.get(track.clusterId!);
        if (!cluster) {
          const row = this.db.prepare('SELECT * FROM face_clusters WHERE id = ?').get(track.clusterId) as ClusterRow | undefined;
          if (!row) continue;
          cluster = toCluster(row);
        }
        removeClusterMembers(cluster, [track], goneFaces);
        changed.set(cluster.id, cluster);
      }
      this.writeClusters([...changed.values()]);
      this.db.prepare('DELETE FROM faces WHERE video_id = ?').run(videoId);
      this.db.prepare('DELETE FROM face_tracks WHERE video_id = ?').run(videoId);
      this.db.prepare('DELETE FROM appearance_spans WHERE video_id = ?').run(videoId);
      return faceIds;
    })();
  }

  private insertTracks(tracks: readonly FaceTrackRecord[]): void {
    const insert = this.db.prepare(
      `INSERT INTO face_tracks (id, video_id, shot_index, start, end, face_count, actor_id, cluster_id, similarity, confidence, best_face_id, embedding, model_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const t of tracks) {
      insert.run(t.id, t.videoId, t.shotIndex, t.start, t.end, t.faceCount, t.actorId, t.clusterId, t.similarity, t.confidence, t.bestFaceId, vectorToBlob(t.embedding), t.modelId);
    }
  }

  private insertFaces(faces: readonly FaceRecord[]): void {
    const insert = this.db.prepare(
      `INSERT INTO faces (id, video_id, track_id, time, box_x, box_y, box_width, box_height, detection_score, quality, thumbnail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const f of faces) {
      insert.run(f.id, f.videoId, f.trackId, f.time, f.box.x, f.box.y, f.box.width, f.box.height, f.detectionScore, f.quality, f.thumbnail);
    }
  }

  private insertSpans(spans: readonly AppearanceSpanRecord[]): void {
    const insert = this.db.prepare(
      `INSERT OR REPLACE INTO appearance_spans (id, video_id, actor_id, start, end, confidence, evidence, source_ids, best_face_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const s of spans) {
      insert.run(s.id, s.videoId, s.actorId, s.start, s.end, s.confidence, s.evidence, JSON.stringify(s.sourceIds), s.bestFaceId);
    }
  }

  /** Upserts clusters; a cluster left with no member is deleted. */
  private writeClusters(clusters: readonly FaceClusterRecord[]): void {
    const upsert = this.db.prepare(
      `INSERT OR REPLACE INTO face_clusters (id, actor_id, size, vector_sum, model_id, best_face_id, best_face_quality, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const remove = this.db.prepare('DELETE FROM face_clusters WHERE id = ?');
    for (const c of clusters) {
      if (c.size <= 0) remove.run(c.id);
      else upsert.run(c.id, c.actorId, c.size, vectorToBlob(c.vectorSum), c.modelId, c.bestFaceId, c.bestFaceQuality, c.createdAt, c.updatedAt);
    }
  }
}
