// How the appearance records are stored in their Elasticsearch indices (presence-schema.ts):
// vectors and thumbnails as base64, each document tagged with its generation (appearances.ts
// explains the scheme), and the conversions both ways.
import type { AppearanceSpanRecord, FaceClusterRecord, FaceRecord, FaceTrackRecord } from '../appearances.js';
import { blobToVector, vectorToBlob } from '../embedded/vector-blob.js';
import { base64Of, bytesOf, compareKeywords } from './documents.js';

export type StoredTrack = Omit<FaceTrackRecord, 'embedding'> & { embedding: string; generation: number };
export type StoredFace = Omit<FaceRecord, 'thumbnail'> & { thumbnail: string | null; generation: number };
export type StoredCluster = Omit<FaceClusterRecord, 'vectorSum'> & { vectorSum: string };
export type StoredSpan = AppearanceSpanRecord & { generation: number };

const base64 = (bytes: Buffer | null): string | null => (bytes ? base64Of(bytes) : null);
const fromBase64 = (text: string | null | undefined): Buffer | null => (text == null ? null : bytesOf(text));
const vectorToBase64 = (vector: Float32Array): string => base64Of(vectorToBlob(vector));
const vectorFromBase64 = (text: string): Float32Array => blobToVector(bytesOf(text));

export function toTrack(d: StoredTrack): FaceTrackRecord {
  return {
    id: d.id,
    videoId: d.videoId,
    shotIndex: d.shotIndex,
    start: d.start,
    end: d.end,
    faceCount: d.faceCount,
    actorId: d.actorId ?? null,
    clusterId: d.clusterId ?? null,
    similarity: d.similarity ?? null,
    confidence: d.confidence,
    bestFaceId: d.bestFaceId,
    embedding: vectorFromBase64(d.embedding),
    modelId: d.modelId,
  };
}

export function storedTrack(t: FaceTrackRecord, generation: number): StoredTrack {
  return { ...t, embedding: vectorToBase64(t.embedding), generation };
}

export function toFace(d: StoredFace): FaceRecord {
  return {
    id: d.id,
    videoId: d.videoId,
    trackId: d.trackId,
    time: d.time,
    box: { x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height },
    detectionScore: d.detectionScore,
    quality: d.quality,
    thumbnail: fromBase64(d.thumbnail),
  };
}

export function storedFace(f: FaceRecord, generation: number): StoredFace {
  return { ...f, box: { x: f.box.x, y: f.box.y, width: f.box.width, height: f.box.height }, thumbnail: base64(f.thumbnail), generation };
}

export function toCluster(d: StoredCluster): FaceClusterRecord {
  return {
    id: d.id,
    actorId: d.actorId ?? null,
    size: d.size,
    vectorSum: vectorFromBase64(d.vectorSum),
    modelId: d.modelId,
    bestFaceId: d.bestFaceId ?? null,
    bestFaceQuality: d.bestFaceQuality,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export function storedCluster(c: FaceClusterRecord): StoredCluster {
  return { ...c, vectorSum: vectorToBase64(c.vectorSum) };
}

export function toSpan(d: StoredSpan): AppearanceSpanRecord {
  return {
    id: d.id,
    videoId: d.videoId,
    actorId: d.actorId,
    start: d.start,
    end: d.end,
    confidence: d.confidence,
    evidence: d.evidence,
    sourceIds: [...d.sourceIds],
    bestFaceId: d.bestFaceId ?? null,
  };
}

/** `_id` of a record written under a generation: the same record in two generations are two documents. */
export function generationId(id: string, generation: number): string {
  return `${id}@${generation}`;
}

/** Terms per query, well under Elasticsearch's index.max_terms_count (65,536). */
const MAX_TERMS = 10_000;

export function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_TERMS) out.push(items.slice(i, i + MAX_TERMS));
  return out;
}

/** Span sort key compared with an actor-listing cursor: (video, start, id). */
export function spanAfter(span: AppearanceSpanRecord, cursor: { v: string; s: number; i: string }): boolean {
  return compareKeywords(span.videoId, cursor.v) > 0 || (span.videoId === cursor.v && (span.start > cursor.s || (span.start === cursor.s && compareKeywords(span.id, cursor.i) > 0)));
}
