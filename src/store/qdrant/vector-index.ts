// VectorIndex on Qdrant: one collection per vector kind (prefixed, e.g. `vidsearch_faces`), the
// model id kept in the collection's own metadata, deterministic point ids and filtered HNSW search.
//
// Point ids: Qdrant accepts only unsigned integers or UUIDs, so a point's id is the UUIDv5 of our
// string id (same id → same point, re-runs overwrite) and the original id rides in the payload.
// Cosine collections: Qdrant normalises vectors on write, so the original norm is kept in the
// payload and `get` scales the vector back (exact up to float32 rounding).
// HNSW: m = 16, ef_construct = 128 at build time and hnsw_ef = 128 at query time — recall ≥ 0.99 on
// 512-d face/frame embeddings at the sizes we expect (≤ 10M points per collection); segments below
// Qdrant's full_scan_threshold are searched exactly. Payload indexes on videoId, actorId (keyword)
// and time (float) keep filtered searches on the index instead of a scan.
import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';
import { v5 as uuidv5 } from 'uuid';
import { BadInputError } from '../../errors.js';
import type { VectorCollectionSpec, VectorFilter, VectorHit, VectorIndex, VectorMetric, VectorPayload, VectorPoint, VectorRecord } from '../interfaces.js';

/** Namespace for point ids (UUIDv5 of "vidsearch.vectors" in the URL namespace). */
export const POINT_NAMESPACE = uuidv5('vidsearch.vectors', uuidv5.URL);
/** Payload keys this adapter owns; stripped from what callers see. */
const ID_KEY = '_vs_id';
const NORM_KEY = '_vs_norm';
const UPSERT_BATCH = 256;
/** Points per scroll request when listing. */
const SCROLL_PAGE = 1_000;
export const HNSW_CONFIG = { m: 16, ef_construct: 128 } as const;
export const SEARCH_EF = 128;

const DISTANCE: Record<VectorMetric, Schemas['Distance']> = { cosine: 'Cosine', dot: 'Dot', l2: 'Euclid' };

interface CollectionMetadata {
  modelId: string;
  dim: number;
  metric: VectorMetric;
}

export interface QdrantVectorIndexOptions {
  url: string;
  apiKey?: string | null;
  /** Collection name prefix, so several deployments can share one Qdrant. */
  prefix?: string;
  /** Per-request timeout (ms). */
  timeoutMs?: number;
}

export function pointId(id: string): string {
  return uuidv5(id, POINT_NAMESPACE);
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'status' in err && (err as { status: unknown }).status === 404;
}

function norm(vector: Float32Array): number {
  let sum = 0;
  for (const v of vector) sum += v * v;
  return Math.sqrt(sum);
}

/** Qdrant's filter for ours; null when the filter can match nothing (an empty id list). */
export function qdrantFilter(filter: VectorFilter | undefined): Schemas['Filter'] | undefined | null {
  if (!filter) return undefined;
  const must: Schemas['FieldCondition'][] = [];
  if (filter.videoIds) {
    if (filter.videoIds.length === 0) return null;
    must.push({ key: 'videoId', match: { any: [...filter.videoIds] } });
  }
  if (filter.actorIds) {
    if (filter.actorIds.length === 0) return null;
    must.push({ key: 'actorId', match: { any: [...filter.actorIds] } });
  }
  for (const [key, value] of Object.entries(filter.equals ?? {})) {
    // Qdrant's match compares keywords, integers and booleans; a float needs a closed range.
    must.push(typeof value === 'number' && !Number.isInteger(value) ? { key, range: { gte: value, lte: value } } : { key, match: { value } });
  }
  return must.length ? { must } : undefined;
}

export class QdrantVectorIndex implements VectorIndex {
  readonly client: QdrantClient;
  private readonly prefix: string;
  /** Collection specs seen by this process (the metric decides how scores and vectors come back). */
  private readonly specs = new Map<string, CollectionMetadata>();

  constructor(options: QdrantVectorIndexOptions) {
    this.client = new QdrantClient({
      url: options.url,
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      timeout: options.timeoutMs ?? 30_000,
      checkCompatibility: false,
    });
    this.prefix = options.prefix ?? 'vidsearch_';
  }

  collectionName(name: string): string {
    return `${this.prefix}${name}`;
  }

  async ensureCollection(spec: VectorCollectionSpec): Promise<'created' | 'ok' | 'model-changed'> {
    if (!Number.isInteger(spec.dim) || spec.dim <= 0) throw new BadInputError(`collection ${spec.name}: dim must be a positive integer`);
    const wanted: CollectionMetadata = { modelId: spec.modelId, dim: spec.dim, metric: spec.metric };
    const current = await this.readMetadata(spec.name);
    if (!current) {
      await this.create(spec.name, wanted);
      return 'created';
    }
    if (current.modelId !== spec.modelId) {
      // Vectors of two models are never compared: drop the old ones, the caller re-embeds.
      await this.client.deleteCollection(this.collectionName(spec.name));
      await this.create(spec.name, wanted);
      return 'model-changed';
    }
    if (current.dim !== spec.dim || current.metric !== spec.metric) {
      throw new BadInputError(
        `collection ${spec.name} holds ${current.dim}-d ${current.metric} vectors of model ${current.modelId}, not ${spec.dim}-d ${spec.metric}`,
      );
    }
    this.specs.set(spec.name, current);
    return 'ok';
  }

  async upsert(collection: string, points: readonly VectorPoint[]): Promise<void> {
    const spec = await this.requireSpec(collection);
    for (const point of points) {
      if (point.vector.length !== spec.dim) throw new BadInputError(`point ${point.id}: expected ${spec.dim} dimensions, got ${point.vector.length}`);
    }
    for (let i = 0; i < points.length; i += UPSERT_BATCH) {
      const batch = points.slice(i, i + UPSERT_BATCH).map((point) => ({
        id: pointId(point.id),
        vector: Array.from(point.vector),
        payload: {
          ...definedOnly(point.payload),
          [ID_KEY]: point.id,
          ...(spec.metric === 'cosine' ? { [NORM_KEY]: norm(point.vector) } : {}),
        },
      }));
      await this.client.upsert(this.collectionName(collection), { wait: true, points: batch });
    }
  }

  async search(collection: string, vector: Float32Array, limit: number, filter?: VectorFilter): Promise<VectorHit[]> {
    const where = qdrantFilter(filter);
    if (limit <= 0 || where === null) return [];
    const spec = await this.knownSpec(collection);
    if (!spec) return [];
    if (vector.length !== spec.dim) throw new BadInputError(`query vector: expected ${spec.dim} dimensions, got ${vector.length}`);
    const response = await this.client.query(this.collectionName(collection), {
      query: Array.from(vector),
      limit,
      ...(where ? { filter: where } : {}),
      params: { hnsw_ef: Math.max(SEARCH_EF, limit) },
      with_payload: true,
    });
    return response.points.map((point) => {
      const { id, payload } = ownPayload(point.payload);
      // Qdrant reports the Euclidean distance itself; our contract is "higher is more similar".
      return { id, score: spec.metric === 'l2' ? -point.score : point.score, payload };
    });
  }

  async get(collection: string, ids: readonly string[]): Promise<(VectorPoint | null)[]> {
    if (ids.length === 0) return [];
    const spec = await this.knownSpec(collection);
    if (!spec) return ids.map(() => null);
    const records = await this.client.retrieve(this.collectionName(collection), {
      ids: ids.map(pointId),
      with_payload: true,
      with_vector: true,
    });
    const byId = new Map<string, VectorPoint>();
    for (const record of records) {
      const { id, payload, scale } = ownPayload(record.payload);
      const raw = record.vector;
      if (!Array.isArray(raw) || raw.some((v) => typeof v !== 'number')) continue;
      const vector = Float32Array.from(raw as number[], (v) => v * scale);
      byId.set(id, { id, vector, payload });
    }
    return ids.map((id) => byId.get(id) ?? null);
  }

  async delete(collection: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0 || !(await this.knownSpec(collection))) return;
    await this.client.delete(this.collectionName(collection), { wait: true, points: ids.map(pointId) });
  }

  async deleteByVideo(videoId: string, only?: readonly string[]): Promise<void> {
    const { collections } = await this.client.getCollections();
    const wanted = only ? new Set(only.map((name) => this.collectionName(name))) : null;
    const ours = collections.map((c) => c.name).filter((name) => name.startsWith(this.prefix) && (!wanted || wanted.has(name)));
    for (const name of ours) {
      await this.client.delete(name, { wait: true, filter: { must: [{ key: 'videoId', match: { value: videoId } }] } });
    }
  }

  async count(collection: string, filter?: VectorFilter): Promise<number> {
    const where = qdrantFilter(filter);
    if (where === null || !(await this.knownSpec(collection))) return 0;
    const { count } = await this.client.count(this.collectionName(collection), { exact: true, ...(where ? { filter: where } : {}) });
    return count;
  }

  async scroll(collection: string, filter: VectorFilter | undefined, limit: number): Promise<VectorRecord[]> {
    const where = qdrantFilter(filter);
    if (limit <= 0 || where === null || !(await this.knownSpec(collection))) return [];
    const records: VectorRecord[] = [];
    let offset: Schemas['ExtendedPointId'] | null | undefined;
    do {
      const page = await this.client.scroll(this.collectionName(collection), {
        limit: Math.min(SCROLL_PAGE, limit - records.length),
        with_payload: true,
        with_vector: false,
        ...(where ? { filter: where } : {}),
        ...(offset !== undefined && offset !== null ? { offset } : {}),
      });
      for (const point of page.points) {
        const { id, payload } = ownPayload(point.payload);
        records.push({ id, payload });
      }
      offset = page.next_page_offset as Schemas['ExtendedPointId'] | null | undefined;
    } while (offset !== undefined && offset !== null && records.length < limit);
    // Qdrant pages in the order of its UUIDs; our contract orders by our own ids.
    return records.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private async create(name: string, metadata: CollectionMetadata): Promise<void> {
    const collection = this.collectionName(name);
    try {
      // Through the raw API: the client's createCollection() wrapper drops `metadata`.
      await this.client.api().createCollection({
        collection_name: collection,
        vectors: { size: metadata.dim, distance: DISTANCE[metadata.metric] },
        hnsw_config: { ...HNSW_CONFIG },
        metadata: { vidsearch: { ...metadata } },
      });
    } catch (err) {
      // Another process created it first (two workers starting together): fine if it matches.
      const existing = await this.readMetadata(name);
      if (!existing || existing.modelId !== metadata.modelId) throw err;
    }
    for (const [field, schema] of [['videoId', 'keyword'], ['actorId', 'keyword'], ['time', 'float']] as const) {
      await this.client.createPayloadIndex(collection, { field_name: field, field_schema: schema, wait: true });
    }
    this.specs.set(name, metadata);
  }

  private async readMetadata(name: string): Promise<CollectionMetadata | null> {
    let info: Schemas['CollectionInfo'];
    try {
      info = await this.client.getCollection(this.collectionName(name));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    const stored = (info.config.metadata as { vidsearch?: Partial<CollectionMetadata> } | null | undefined)?.vidsearch;
    if (!stored?.modelId || !stored.dim || !stored.metric) {
      // A collection this adapter did not make (or made before metadata existed): read what it is.
      const vectors = info.config.params.vectors;
      const params = vectors && 'size' in vectors ? (vectors as Schemas['VectorParams']) : null;
      const metric = (Object.keys(DISTANCE) as VectorMetric[]).find((m) => DISTANCE[m] === params?.distance);
      return { modelId: stored?.modelId ?? '', dim: params?.size ?? 0, metric: metric ?? 'cosine' };
    }
    return { modelId: stored.modelId, dim: stored.dim, metric: stored.metric };
  }

  /** The spec of a collection that exists, or null. */
  private async knownSpec(name: string): Promise<CollectionMetadata | null> {
    const cached = this.specs.get(name);
    if (cached) return cached;
    const stored = await this.readMetadata(name);
    if (stored) this.specs.set(name, stored);
    return stored;
  }

  private async requireSpec(name: string): Promise<CollectionMetadata> {
    const spec = await this.knownSpec(name);
    if (!spec) throw new BadInputError(`vector collection ${name} does not exist (ensureCollection first)`);
    return spec;
  }
}

function definedOnly(payload: VectorPayload): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of Object.entries(payload)) if (value !== undefined) out[key] = value;
  return out;
}

/** Splits a stored payload into our id, the caller's payload and the cosine rescale factor. */
function ownPayload(stored: Record<string, unknown> | null | undefined): { id: string; payload: VectorPayload; scale: number } {
  const payload: VectorPayload = {};
  let id = '';
  let scale = 1;
  for (const [key, value] of Object.entries(stored ?? {})) {
    if (key === ID_KEY) id = String(value);
    else if (key === NORM_KEY) scale = typeof value === 'number' ? value : 1;
    else if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) payload[key] = value as string | number | boolean | null;
  }
  return { id, payload, scale };
}
