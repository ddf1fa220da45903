// VectorIndex: vectors are durable in SQLite (Float32 BLOBs); search is an exact scan over an
// in-memory matrix per collection, loaded on first use. Writes go to SQLite only; triggers log
// every changed id (vector_changes), and before each read a matrix applies the changes it has not
// seen, so processes sharing the file (API server, worker) stay in step. A large cosine collection
// (the frame descriptors) keeps int8 rows only in memory and rescores its shortlist from SQLite
// (see VectorMatrix).
import { BadInputError } from '../../errors.js';
import type { VectorCollectionSpec, VectorFilter, VectorHit, VectorIndex, VectorMetric, VectorPayload, VectorPoint, VectorRecord } from '../interfaces.js';
import { IN_JSON_LIST, jsonList, StatementCache, type SqliteDatabase } from './db.js';
import { scanThreadCount, scanWorkerScript, ShardedRowCodes } from './sharded-codes.js';
import { VectorMatrix, type RowCodesFactory, type StoredRows } from './vector-matrix.js';

interface CollectionRow {
  name: string;
  dim: number;
  metric: VectorMetric;
  model_id: string;
  generation: number;
}

interface LoadedMatrix {
  matrix: VectorMatrix;
  generation: number;
  /** vector_changes up to this seq are reflected in the matrix. */
  seenSeq: number;
}

/** Change-log rows kept; a process further behind than this reloads its matrices. */
const CHANGES_KEPT = 200_000;
/**
 * A cosine collection this large when loaded keeps int8 rows only: its float rows would hold
 * ≥ 51 MB at 128-d (512 MB at 1M frames), while a rescoring read of a few hundred rows costs
 * ~1 ms, nothing beside an image search. Smaller ones (faces, voices) keep their float rows and
 * rescore without touching SQLite.
 */
export const INT8_ONLY_MIN_ROWS = 100_000;
/**
 * A collection this large when loaded keeps its codes in scan threads (sharded-codes.ts): a scan
 * of 100k 128-d rows is ~2 ms, against ~0.1 ms for the messages, and smaller collections (faces,
 * voices, ads) are not worth a thread each.
 */
export const SHARDED_MIN_ROWS = 100_000;

/** How large matrices split their codes across scan threads (threads ≤ 1 or no script: they do not). */
export interface ScanSharding {
  threads: number;
  script: URL | null;
  minRows: number;
}

function defaultSharding(): ScanSharding {
  return { threads: scanThreadCount(), script: scanWorkerScript(), minRows: SHARDED_MIN_ROWS };
}

/**
 * The change log's first and last seq, read before every search. Two subqueries: SQLite answers a
 * lone min() or max() from the primary key's ends, but both in one SELECT scan the whole log
 * (CHANGES_KEPT rows: ~39 ms per search at 1M frames, against 0.01 ms).
 */
export const CHANGE_LOG_ENDS_SQL = 'SELECT (SELECT min(seq) FROM vector_changes) AS first, (SELECT max(seq) FROM vector_changes) AS last';

interface VectorRow {
  id: string;
  payload: string;
  vector: Buffer;
}

/** A row with its SQLite rowid (where an int8-only matrix's rescoring reads it). */
type StoredRow = VectorRow & { rowid: number };

function toFloat32(blob: Buffer): Float32Array {
  // Copy: the Buffer may be a view into a pooled allocation with an unaligned offset.
  return new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));
}

function toBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

export class EmbeddedVectorIndex implements VectorIndex {
  private readonly matrices = new Map<string, LoadedMatrix>();
  private readonly reads: StatementCache;

  /**
   * @param int8OnlyMinRows collections at least this large when loaded keep int8 rows only (cosine).
   * @param sharding when large collections scan in threads.
   */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly int8OnlyMinRows = INT8_ONLY_MIN_ROWS,
    private readonly sharding: ScanSharding = defaultSharding(),
  ) {
    this.reads = new StatementCache(db);
  }

  /**
   * A collection's vectors as stored, by id, for the rescoring of an int8-only matrix: read by
   * rowid (the matrix keeps each row's; ~3x faster than by key at 1M frames, where the rows lie
   * scattered over a multi-GB file); a row whose rowid no longer holds it (a VACUUM renumbers
   * rowids) is read by key.
   */
  private storedRows(collection: string): StoredRows {
    return (wanted) => {
      const located = wanted.filter((row) => row.locator !== undefined);
      const rows = this.reads
        .get(`SELECT id, collection, vector FROM vectors WHERE rowid IN ${IN_JSON_LIST}`)
        .all(jsonList(located.map((row) => row.locator!))) as (Pick<VectorRow, 'id' | 'vector'> & { collection: string })[];
      const out = new Map(rows.filter((row) => row.collection === collection).map((row) => [row.id, toFloat32(row.vector)]));
      const missing = wanted.filter((row) => !out.has(row.id)).map((row) => row.id);
      if (missing.length === 0) return out;
      const byKey = this.reads
        .get(`SELECT id, vector FROM vectors WHERE collection = ? AND id IN ${IN_JSON_LIST}`)
        .all(collection, jsonList(missing)) as Pick<VectorRow, 'id' | 'vector'>[];
      for (const row of byKey) out.set(row.id, toFloat32(row.vector));
      return out;
    };
  }

  async ensureCollection(spec: VectorCollectionSpec): Promise<'created' | 'ok' | 'model-changed'> {
    if (!Number.isInteger(spec.dim) || spec.dim <= 0) throw new BadInputError(`collection ${spec.name}: dim must be a positive integer`);
    return this.db.transaction(() => {
      const current = this.collection(spec.name);
      if (!current) {
        this.db
          .prepare('INSERT INTO vector_collections (name, dim, metric, model_id, created_at) VALUES (?, ?, ?, ?, ?)')
          .run(spec.name, spec.dim, spec.metric, spec.modelId, new Date().toISOString());
        return 'created' as const;
      }
      if (current.model_id !== spec.modelId) {
        // Vectors of two models are never compared: the old ones go, the caller re-embeds.
        this.db.prepare('DELETE FROM vectors WHERE collection = ?').run(spec.name);
        this.db
          .prepare('UPDATE vector_collections SET dim = ?, metric = ?, model_id = ?, generation = generation + 1 WHERE name = ?')
          .run(spec.dim, spec.metric, spec.modelId, spec.name);
        return 'model-changed' as const;
      }
      if (current.dim !== spec.dim || current.metric !== spec.metric) {
        throw new BadInputError(
          `collection ${spec.name} holds ${current.dim}-d ${current.metric} vectors of model ${current.model_id}, not ${spec.dim}-d ${spec.metric}`,
        );
      }
      return 'ok' as const;
    })();
  }

  async upsert(collection: string, points: readonly VectorPoint[]): Promise<void> {
    const spec = this.requireCollection(collection);
    for (const point of points) this.checkDim(spec, point.vector, `point ${point.id}`);
    const write = this.db.prepare(
      `INSERT INTO vectors (collection, id, video_id, payload, vector) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (collection, id) DO UPDATE SET video_id = excluded.video_id, payload = excluded.payload, vector = excluded.vector`,
    );
    this.db.transaction(() => {
      for (const p of points) write.run(collection, p.id, p.payload.videoId ?? null, JSON.stringify(p.payload), toBlob(p.vector));
      this.pruneChanges();
    })();
  }

  async search(collection: string, vector: Float32Array, limit: number, filter?: VectorFilter): Promise<VectorHit[]> {
    const spec = this.collection(collection);
    if (!spec || limit <= 0) return [];
    this.checkDim(spec, vector, 'query vector');
    return await this.matrix(collection)!.search(vector, limit, filter);
  }

  async get(collection: string, ids: readonly string[]): Promise<(VectorPoint | null)[]> {
    if (ids.length === 0) return [];
    const rows = this.db
      .prepare(`SELECT id, payload, vector FROM vectors WHERE collection = ? AND id IN ${IN_JSON_LIST}`)
      .all(collection, jsonList(ids)) as VectorRow[];
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => {
      const row = byId.get(id);
      return row ? { id, vector: toFloat32(row.vector), payload: JSON.parse(row.payload) as VectorPayload } : null;
    });
  }

  async delete(collection: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM vectors WHERE collection = ? AND id IN ${IN_JSON_LIST}`).run(collection, jsonList(ids));
      this.pruneChanges();
    })();
  }

  async deleteByVideo(videoId: string, collections?: readonly string[]): Promise<void> {
    this.db.transaction(() => {
      if (collections) {
        const remove = this.db.prepare('DELETE FROM vectors WHERE video_id = ? AND collection = ?');
        for (const collection of collections) remove.run(videoId, collection);
      } else {
        this.db.prepare('DELETE FROM vectors WHERE video_id = ?').run(videoId);
      }
      this.pruneChanges();
    })();
  }

  async count(collection: string, filter?: VectorFilter): Promise<number> {
    const spec = this.collection(collection);
    if (!spec) return 0;
    if (!filter) return (this.db.prepare('SELECT count(*) AS n FROM vectors WHERE collection = ?').get(collection) as { n: number }).n;
    return this.matrix(collection)!.count(filter);
  }

  async scroll(collection: string, filter: VectorFilter | undefined, limit: number): Promise<VectorRecord[]> {
    return this.matrix(collection)?.scroll(filter, limit) ?? [];
  }

  /** Ends the scan threads of the matrices loaded. */
  async close(): Promise<void> {
    await Promise.all([...this.matrices.values()].map((loaded) => loaded.matrix.close()));
    this.matrices.clear();
  }

  /** Where a matrix of `rows` rows keeps its codes: split across scan threads when large. */
  private codesFor(rows: number): RowCodesFactory | undefined {
    const { threads, script, minRows } = this.sharding;
    if (threads <= 1 || !script || rows < minRows) return undefined;
    return (dim, capacity) => new ShardedRowCodes(dim, capacity, threads, script);
  }

  private collection(name: string): CollectionRow | null {
    return (this.db.prepare('SELECT name, dim, metric, model_id, generation FROM vector_collections WHERE name = ?').get(name) as CollectionRow | undefined) ?? null;
  }

  private requireCollection(name: string): CollectionRow {
    const spec = this.collection(name);
    if (!spec) throw new Error(`vector collection ${name} does not exist: call ensureCollection first`);
    return spec;
  }

  private checkDim(spec: CollectionRow, vector: Float32Array, what: string): void {
    if (vector.length !== spec.dim) throw new BadInputError(`${what} has ${vector.length} dimensions; collection ${spec.name} holds ${spec.dim}`);
  }

  private pruneChanges(): void {
    this.db.prepare('DELETE FROM vector_changes WHERE seq <= (SELECT max(seq) FROM vector_changes) - ?').run(CHANGES_KEPT);
  }

  /** The collection's matrix, brought up to date with SQLite in one read snapshot; null when no collection. */
  private matrix(name: string): VectorMatrix | null {
    return this.db.transaction(() => {
      const spec = this.collection(name);
      if (!spec) return null;
      const log = this.db.prepare(CHANGE_LOG_ENDS_SQL).get() as { first: number | null; last: number | null };
      const lastSeq = log.last ?? 0;
      const loaded = this.matrices.get(name);
      const pruned = loaded !== undefined && log.first !== null && log.first > loaded.seenSeq + 1;
      // A matrix whose scan thread died lost its codes: loaded again, with new threads.
      if (!loaded || loaded.generation !== spec.generation || pruned || loaded.matrix.lost) {
        void loaded?.matrix.close();
        // Sized for the rows there are: growing by doubling would hold the old and the new arrays
        // at once (at 1M frames ~1.5x the matrix in peak RSS, in every serving process).
        const { n } = this.db.prepare('SELECT count(*) AS n FROM vectors WHERE collection = ?').get(name) as { n: number };
        const stored = n >= this.int8OnlyMinRows ? this.storedRows(name) : null;
        const matrix = new VectorMatrix(spec.dim, spec.metric, Math.max(1024, n), true, stored, this.codesFor(n));
        const rows = this.db.prepare('SELECT rowid, id, payload, vector FROM vectors WHERE collection = ?').iterate(name) as IterableIterator<StoredRow>;
        for (const row of rows) matrix.set(row.id, toFloat32(row.vector), JSON.parse(row.payload) as VectorPayload, row.rowid);
        this.matrices.set(name, { matrix, generation: spec.generation, seenSeq: lastSeq });
        return matrix;
      }
      if (lastSeq > loaded.seenSeq) {
        const changed = this.db
          .prepare('SELECT DISTINCT id FROM vector_changes WHERE collection = ? AND seq > ? AND seq <= ?')
          .all(name, loaded.seenSeq, lastSeq) as { id: string }[];
        const ids = changed.map((c) => c.id);
        const rows = this.db
          .prepare(`SELECT rowid, id, payload, vector FROM vectors WHERE collection = ? AND id IN ${IN_JSON_LIST}`)
          .all(name, jsonList(ids)) as StoredRow[];
        const current = new Map(rows.map((row) => [row.id, row]));
        for (const id of ids) {
          const row = current.get(id);
          if (row) loaded.matrix.set(id, toFloat32(row.vector), JSON.parse(row.payload) as VectorPayload, row.rowid);
          else loaded.matrix.remove(id);
        }
        loaded.seenSeq = lastSeq;
      }
      return loaded.matrix;
    })();
  }
}
