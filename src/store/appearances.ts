// The presence seam: face tracks and faces found in videos, clusters of unknown faces across the
// library, and appearance spans per (video, actor) that onlyWatch answers from. Face embeddings
// live in the vector index (collection FACES_COLLECTION, payload videoId/trackId/time); these
// records keep what a vector index should not: boxes, tracks, clusters, spans and thumbnails.
import type { Page, PageArgs } from '../domain.js';
import type { Box } from '../models/types.js';

export const FACES_COLLECTION = 'faces';

/** Where an appearance span's evidence came from. The voices stage writes VOICE spans. */
export type SpanEvidence = 'FACE' | 'VOICE';

export interface FaceRecord {
  /** Also the id of the face's vector in FACES_COLLECTION. */
  id: string;
  videoId: string;
  trackId: string;
  time: number;
  /** Box in the sampled frame's pixels, scaled back to the video's own size. */
  box: Box;
  detectionScore: number;
  /** 0..1 from size, sharpness and pose; picks the faces a track's identity is decided from. */
  quality: number;
  /** Small JPEG of the aligned face for the best faces of a track; null for the others. */
  thumbnail: Buffer | null;
}

export interface FaceTrackRecord {
  id: string;
  videoId: string;
  shotIndex: number;
  /** Time covered: first sample − h .. last sample + h (h = half the sampling interval), clipped to the shot. */
  start: number;
  end: number;
  faceCount: number;
  /** The enrolled actor this track was identified as (or named/moved to by an editor), else null. */
  actorId: string | null;
  /** The unknown-face cluster this track joined; kept after naming so the cluster still lists it. */
  clusterId: string | null;
  /**
   * The track's own aggregated similarity to the actor at identification; null when unknown, when
   * an editor decided (confidence 1) and when the name was propagated from a linked track of the
   * same video (confidence < 1; see trackIdentitySource).
   */
  similarity: number | null;
  /** 0..1; 0.5 at the identification (or propagation link) threshold; 1 for an editor's decision. */
  confidence: number;
  bestFaceId: string;
  /** Mean of the best faces' embeddings (L2-normalised): what identification and clustering used. */
  embedding: Float32Array;
  modelId: string;
}

/** An editor's decision on a track is stored with this confidence (and no similarity). */
export const EDITOR_TRACK_CONFIDENCE = 1;

/** Where a track's name came from: its own faces, a linked track of the video, an editor, or nowhere. */
export function trackIdentitySource(track: Pick<FaceTrackRecord, 'actorId' | 'similarity' | 'confidence'>): 'MATCH' | 'PROPAGATED' | 'EDITOR' | null {
  if (track.confidence >= EDITOR_TRACK_CONFIDENCE) return 'EDITOR';
  if (!track.actorId) return null;
  return track.similarity === null ? 'PROPAGATED' : 'MATCH';
}

export interface FaceClusterRecord {
  id: string;
  /** Set once an editor named the cluster. */
  actorId: string | null;
  /** Tracks in the cluster. */
  size: number;
  /** Sum of member tracks' embeddings: the centroid is its direction, and members can leave. */
  vectorSum: Float32Array;
  modelId: string;
  /** The highest-quality face among the members (the cluster's cover picture). */
  bestFaceId: string | null;
  bestFaceQuality: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * Members leave their cluster (in place): their embeddings are subtracted so the centroid stays
 * honest, and the cover picture goes when it was one of `goneFaces`. Both backends' deleteVideo.
 */
export function removeClusterMembers(cluster: FaceClusterRecord, members: readonly FaceTrackRecord[], goneFaces: ReadonlySet<string>): void {
  for (const track of members) {
    for (let i = 0; i < cluster.vectorSum.length; i++) cluster.vectorSum[i]! -= track.embedding[i] ?? 0;
  }
  cluster.size -= members.length;
  if (cluster.bestFaceId && goneFaces.has(cluster.bestFaceId)) {
    cluster.bestFaceId = null;
    cluster.bestFaceQuality = 0;
  }
  cluster.updatedAt = new Date().toISOString();
}

export interface AppearanceSpanRecord {
  id: string;
  videoId: string;
  actorId: string;
  start: number;
  end: number;
  confidence: number;
  evidence: SpanEvidence;
  /** Face tracks (FACE) or speech turns (VOICE) behind the span. */
  sourceIds: string[];
  /** The best face shown in the span, for a thumbnail; null for voice spans. */
  bestFaceId: string | null;
}

export interface FaceIndexResult {
  tracks: readonly FaceTrackRecord[];
  faces: readonly FaceRecord[];
  /** The video's FACE spans (its VOICE spans are left alone). */
  spans: readonly AppearanceSpanRecord[];
  /** Clusters created or changed by this video (new sums, sizes); size 0 → deleted. */
  clusters: readonly FaceClusterRecord[];
}

export interface ClusterFilter {
  /** true: only named clusters; false: only unnamed ones; null/undefined: all. */
  named?: boolean | null;
}

export interface AppearanceRepository {
  /**
   * Replaces the video's tracks, faces and FACE spans and applies the cluster changes, in one
   * transaction (a re-index never leaves half of the old and half of the new).
   */
  replaceVideoFaces(videoId: string, result: FaceIndexResult): Promise<void>;
  getTracksOfVideo(videoId: string): Promise<FaceTrackRecord[]>;
  getTracksOfCluster(clusterId: string): Promise<FaceTrackRecord[]>;
  getTracksOfActor(actorId: string): Promise<FaceTrackRecord[]>;
  /** Same order as `ids`; null where missing. */
  getTracks(ids: readonly string[]): Promise<(FaceTrackRecord | null)[]>;
  /** Sets actor, confidence and similarity of tracks (editor decisions). */
  assignTracks(trackIds: readonly string[], actorId: string | null, confidence: number): Promise<void>;

  /** Same order as `ids`; null where missing. */
  getFaces(ids: readonly string[]): Promise<(FaceRecord | null)[]>;
  /** Faces of the tracks, best quality first within each track. */
  getFacesOfTracks(trackIds: readonly string[]): Promise<FaceRecord[]>;

  getCluster(id: string): Promise<FaceClusterRecord | null>;
  /** Newest first (then id). */
  listClusters(filter: ClusterFilter, page: PageArgs): Promise<Page<FaceClusterRecord>>;
  /** Every unnamed cluster of the model: the candidates a new unknown track may join. */
  openClusters(modelId: string): Promise<FaceClusterRecord[]>;
  putClusters(clusters: readonly FaceClusterRecord[]): Promise<void>;
  /**
   * Forgets strangers: unnamed clusters not updated since `before` are deleted with their unknown
   * tracks and faces (biometric data). Returns what went, so callers drop the face vectors.
   */
  purgeUnknownFaces(before: string): Promise<{ clusterIds: string[]; faceIds: string[] }>;

  /** Replaces the video's spans of one evidence kind (the voices stage passes VOICE). */
  replaceSpans(videoId: string, evidence: SpanEvidence, spans: readonly AppearanceSpanRecord[]): Promise<void>;
  /** Replaces the FACE spans of several videos at once (after an editor re-assigned tracks). */
  replaceFaceSpansOfVideos(spansByVideo: ReadonlyMap<string, readonly AppearanceSpanRecord[]>): Promise<void>;
  /** Spans of the actors in one video with confidence ≥ minConfidence, by start time. */
  getSpans(videoId: string, actorIds: readonly string[], minConfidence: number): Promise<AppearanceSpanRecord[]>;
  /**
   * Every span of a video (any actor), by actor then start; with `window`, only those overlapping
   * [from, to] (touching counts): who is present around one moment.
   */
  getSpansOfVideo(videoId: string, window?: { from: number; to: number }): Promise<AppearanceSpanRecord[]>;
  /** An actor's spans across the library, ordered by video then start. */
  listSpansOfActor(actorId: string, page: PageArgs): Promise<Page<AppearanceSpanRecord>>;
  /**
   * Everything of `sourceId` becomes `targetId`'s: tracks (keeping their confidence), named
   * clusters and VOICE spans. FACE spans are derived from tracks: callers rebuild them.
   */
  reassignActor(sourceId: string, targetId: string): Promise<void>;
  /** Forgets an actor's appearances: its tracks become unknown, its spans go. */
  forgetActor(actorId: string): Promise<void>;

  /** Removes everything derived from the video here; returns its face ids (to drop their vectors). */
  deleteVideo(videoId: string): Promise<string[]>;
}
