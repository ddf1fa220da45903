// The rows of the appearance tables (APPEARANCES_MIGRATION_SQL in appearances.ts) and the
// records they hold.
import type { AppearanceSpanRecord, FaceClusterRecord, FaceRecord, FaceTrackRecord, SpanEvidence } from '../appearances.js';
import { blobToVector } from './vector-blob.js';

export interface TrackRow {
  id: string;
  video_id: string;
  shot_index: number;
  start: number;
  end: number;
  face_count: number;
  actor_id: string | null;
  cluster_id: string | null;
  similarity: number | null;
  confidence: number;
  best_face_id: string;
  embedding: Buffer;
  model_id: string;
}

export interface FaceRow {
  id: string;
  video_id: string;
  track_id: string;
  time: number;
  box_x: number;
  box_y: number;
  box_width: number;
  box_height: number;
  detection_score: number;
  quality: number;
  thumbnail: Buffer | null;
}

export interface ClusterRow {
  id: string;
  actor_id: string | null;
  size: number;
  vector_sum: Buffer;
  model_id: string;
  best_face_id: string | null;
  best_face_quality: number;
  created_at: string;
  updated_at: string;
}

export interface SpanRow {
  id: string;
  video_id: string;
  actor_id: string;
  start: number;
  end: number;
  confidence: number;
  evidence: SpanEvidence;
  source_ids: string;
  best_face_id: string | null;
}

export const toTrack = (r: TrackRow): FaceTrackRecord => ({
  id: r.id,
  videoId: r.video_id,
  shotIndex: r.shot_index,
  start: r.start,
  end: r.end,
  faceCount: r.face_count,
  actorId: r.actor_id,
  clusterId: r.cluster_id,
  similarity: r.similarity,
  confidence: r.confidence,
  bestFaceId: r.best_face_id,
  embedding: blobToVector(r.embedding),
  modelId: r.model_id,
});

export const toFace = (r: FaceRow): FaceRecord => ({
  id: r.id,
  videoId: r.video_id,
  trackId: r.track_id,
  time: r.time,
  box: { x: r.box_x, y: r.box_y, width: r.box_width, height: r.box_height },
  detectionScore: r.detection_score,
  quality: r.quality,
  thumbnail: r.thumbnail,
});

export const toCluster = (r: ClusterRow): FaceClusterRecord => ({
  id: r.id,
  actorId: r.actor_id,
  size: r.size,
  vectorSum: blobToVector(r.vector_sum),
  modelId: r.model_id,
  bestFaceId: r.best_face_id,
  bestFaceQuality: r.best_face_quality,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toSpan = (r: SpanRow): AppearanceSpanRecord => ({
  id: r.id,
  videoId: r.video_id,
  actorId: r.actor_id,
  start: r.start,
  end: r.end,
  confidence: r.confidence,
  evidence: r.evidence,
  sourceIds: JSON.parse(r.source_ids) as string[],
  bestFaceId: r.best_face_id,
});
