// The storage seams. Services and indexers talk only to these interfaces; backends (embedded
// SQLite, Elasticsearch, Qdrant, BullMQ) implement them and are chosen once, in config.
// Every method is async so a remote backend fits the same shape as the embedded one.
import type {
  CueKind,
  CueRecord,
  IndexVideoRequest,
  JobKind,
  JobRecord,
  JobStatus,
  Page,
  PageArgs,
  SegmentRecord,
  ShotRecord,
  VideoMetadataPatch,
  VideoRecord,
} from '../domain.js';
import type { ActorRepository } from './actors.js';
import type { AdRepository, HighlightRepository, TagRepository } from './ads.js';
import type { AppearanceRepository } from './appearances.js';
import type { IntroRepository } from './intro.js';
import type { ModerationRepository } from './moderation.js';
import type { TechnicalRepository } from './technical.js';
import type { VoiceClusterRepository } from './voice-clusters.js';

export interface VideoFilter {
  series?: string | null;
  status?: VideoRecord['status'] | null;
  /** Case-insensitive substring of the title. */
  titleContains?: string | null;
}

export interface Catalog {
  /** Insert or replace a video row (same id → replaced). */
  putVideo(video: VideoRecord): Promise<void>;
  getVideo(id: string): Promise<VideoRecord | null>;
  /** Same order as `ids`; null where missing (DataLoader contract). */
  getVideos(ids: readonly string[]): Promise<(VideoRecord | null)[]>;
  findVideoByHash(contentHash: string): Promise<VideoRecord | null>;
  listVideos(filter: VideoFilter, page: PageArgs): Promise<Page<VideoRecord>>;
  updateVideo(id: string, patch: VideoMetadataPatch & Partial<Pick<VideoRecord, 'status' | 'error'>>): Promise<VideoRecord | null>;
  /** Deletes the video and everything derived from it (shots, segments, cues, artifacts). */
  deleteVideo(id: string): Promise<boolean>;

  /** Atomically replaces the video's shots and segments (re-index replaces cleanly). */
  replaceStructure(videoId: string, shots: ShotRecord[], segments: SegmentRecord[]): Promise<void>;
  getShots(videoId: string): Promise<ShotRecord[]>;
  getSegment(id: string): Promise<SegmentRecord | null>;
  getSegmentsByIds(ids: readonly string[]): Promise<(SegmentRecord | null)[]>;
  listSegments(videoId: string, page: PageArgs): Promise<Page<SegmentRecord>>;
  /** All segments of a video in time order (for indexers and batch resolvers). */
  getSegmentsOfVideo(videoId: string): Promise<SegmentRecord[]>;
  /** The segment whose [start, end) contains `time`, or the last one when time is at the end. */
  segmentAt(videoId: string, time: number): Promise<SegmentRecord | null>;

  /** Atomically replaces the video's cues of the given sources (e.g. all OCR cues). */
  replaceCues(videoId: string, sources: CueRecord['source'][], cues: CueRecord[]): Promise<void>;
  getCues(videoId: string, kinds?: CueKind[]): Promise<CueRecord[]>;
  /**
   * The video's cues overlapping [from, to] (a cue touching either end counts), in time order:
   * the lines around one moment without reading every line of the video.
   */
  getCuesOverlapping(videoId: string, from: number, to: number): Promise<CueRecord[]>;
  getCuesBySegments(segmentIds: readonly string[]): Promise<CueRecord[][]>;
  getCuesByIds(ids: readonly string[]): Promise<(CueRecord | null)[]>;

  /**
   * Pipeline checkpoints: a stage's JSON output per video, so a resumed job skips finished
   * stages and later stages read earlier results without decoding again.
   */
  putArtifact(videoId: string, stage: string, data: unknown): Promise<void>;
  getArtifact<T>(videoId: string, stage: string): Promise<T | null>;
  deleteArtifacts(videoId: string): Promise<void>;
}

export type TextDocKind = CueKind | 'METADATA';

/** One searchable unit of text: a subtitle/OCR cue, or a segment's metadata line. */
export interface TextDocument {
  /** Deterministic id (the cue id for cues) so re-indexing overwrites. */
  id: string;
  videoId: string;
  segmentId: string;
  cueId: string | null;
  kind: TextDocKind;
  start: number;
  end: number;
  text: string;
  series: string | null;
}

export interface TextQuery {
  query: string;
  videoIds?: readonly string[] | null;
  series?: string | null;
  /** Only documents overlapping [from, to] on their video's timeline. */
  from?: number | null;
  to?: number | null;
  kinds?: readonly TextDocKind[] | null;
  limit: number;
  offset: number;
}

export interface TextHit {
  /** The best-matching document of its segment: hits are collapsed to one per segment. */
  doc: TextDocument;
  score: number;
  /** The document text with matched terms wrapped in <em>…</em>. */
  snippet: string;
}

/**
 * Text searches count matching segments exactly up to this many. Past it a count would read the
 * whole posting list of a common word (most of a search's cost at 1M segments) for a number no
 * one pages through, so `total` stops at the bound and `totalIsExact` says so. Set by hand, not
 * fitted: Elasticsearch's default track_total_hits, and 500 pages of 20.
 */
export const TEXT_TOTAL_BOUND = 10_000;

export interface TextSearchResult {
  /** Hits collapsed per segment, best first. */
  hits: TextHit[];
  /** Distinct matching segments when `totalIsExact`; otherwise the bound: more than that many match. */
  total: number;
  totalIsExact: boolean;
}

/** The total a text search reports for `count` distinct matching segments (more than `bound` may be any number above it). */
export function boundedTotal(count: number, bound: number = TEXT_TOTAL_BOUND): { total: number; totalIsExact: boolean } {
  return count > bound ? { total: bound, totalIsExact: false } : { total: count, totalIsExact: true };
}

export interface TextIndex {
  upsert(docs: readonly TextDocument[]): Promise<void>;
  deleteByVideo(videoId: string): Promise<void>;
  /** Replace every document of a video in one step (used after re-index). */
  replaceVideo(videoId: string, docs: readonly TextDocument[]): Promise<void>;
  /** Hits collapsed per segment, best first; `total` counts distinct matching segments up to TEXT_TOTAL_BOUND. */
  search(query: TextQuery): Promise<TextSearchResult>;
}

export type VectorMetric = 'cosine' | 'dot' | 'l2';

export interface VectorCollectionSpec {
  /** One collection per vector kind: 'faces', 'frames', 'voices', … */
  name: string;
  dim: number;
  metric: VectorMetric;
  /** The model that made the vectors; vectors of two models are never compared. */
  modelId: string;
}

export interface VectorPayload {
  videoId?: string;
  actorId?: string;
  time?: number;
  [key: string]: string | number | boolean | null | undefined;
}

export interface VectorPoint {
  /** Deterministic id so re-runs overwrite instead of duplicating. */
  id: string;
  vector: Float32Array;
  payload: VectorPayload;
}

export interface VectorFilter {
  videoIds?: readonly string[];
  actorIds?: readonly string[];
  /** Exact matches on other payload keys. */
  equals?: Record<string, string | number | boolean>;
}

export interface VectorHit {
  id: string;
  /** Higher is more similar: cosine/dot similarity, or negative L2 distance. */
  score: number;
  payload: VectorPayload;
}

export interface VectorIndex {
  /**
   * Creates the collection or checks it. Returns 'created', 'ok', or 'model-changed' when the
   * stored vectors were made by another model (the caller queues re-embedding; old vectors are
   * dropped so two models are never compared).
   */
  ensureCollection(spec: VectorCollectionSpec): Promise<'created' | 'ok' | 'model-changed'>;
  upsert(collection: string, points: readonly VectorPoint[]): Promise<void>;
  search(collection: string, vector: Float32Array, limit: number, filter?: VectorFilter): Promise<VectorHit[]>;
  get(collection: string, ids: readonly string[]): Promise<(VectorPoint | null)[]>;
  delete(collection: string, ids: readonly string[]): Promise<void>;
  /** Removes the video's points from every collection, or only from `collections` when given. */
  deleteByVideo(videoId: string, collections?: readonly string[]): Promise<void>;
  count(collection: string, filter?: VectorFilter): Promise<number>;
  /**
   * Points matching the filter, without their vectors (listing, not ranking), ordered by id; when
   * more than `limit` match, which ones come back is up to the backend.
   */
  scroll(collection: string, filter: VectorFilter | undefined, limit: number): Promise<VectorRecord[]>;
}

export type VectorRecord = Omit<VectorPoint, 'vector'>;

export interface EnqueueRequest {
  kind: JobKind;
  videoId: string | null;
  request: IndexVideoRequest;
  priority?: number;
}

export interface JobProgress {
  stage: string | null;
  progress: number;
  stagesDone?: string[];
}

export interface JobQueue {
  enqueue(req: EnqueueRequest): Promise<JobRecord>;
  get(id: string): Promise<JobRecord | null>;
  getMany(ids: readonly string[]): Promise<(JobRecord | null)[]>;
  list(status: JobStatus | null, page: PageArgs): Promise<Page<JobRecord>>;
  /** The active (QUEUED or RUNNING) job for a video, if any. */
  activeForVideo(videoId: string): Promise<JobRecord | null>;
  /**
   * Claims the next job for a worker: highest priority first, then the NEWEST queued job
   * (finish the latest video rather than spread work thin; see the Sohu seed article).
   */
  claim(workerId: string): Promise<JobRecord | null>;
  progress(id: string, progress: JobProgress): Promise<void>;
  heartbeat(id: string, workerId: string): Promise<void>;
  setVideo(id: string, videoId: string): Promise<void>;
  complete(id: string): Promise<void>;
  fail(id: string, error: string): Promise<void>;
  /** RUNNING → QUEUED keeping stagesDone (graceful shutdown hands the job to the next worker). */
  requeue(id: string): Promise<void>;
  /** QUEUED → CANCELLED at once; RUNNING → CANCELLED, and the worker stops at its next stage. */
  cancel(id: string): Promise<JobRecord | null>;
  /** RUNNING jobs whose heartbeat is older than `staleMs` go back to QUEUED (crash resume). */
  requeueStale(staleMs: number): Promise<number>;
  /** Cancels the oldest QUEUED jobs beyond `maxBacklog`; returns how many. */
  dropOldestBeyond(maxBacklog: number): Promise<number>;
  countByStatus(): Promise<Record<JobStatus, number>>;
}

/** What image search needs to verify a match at one sampled frame, stored when the video is indexed. */
export interface FrameEvidence {
  /** Media time of the sampled frame (seconds). */
  time: number;
  /** The frame as sampled for indexing, encoded (JPEG). */
  picture: Uint8Array;
  /** Packed local features of the picture. */
  features: Uint8Array;
  /** The frame nearly repeats the last one the vector index holds (a still stretch). */
  repeat: boolean;
  /**
   * Grey levels of the frame at a small width, for image search's time localisation (no JPEG to
   * decode per query); absent for frames indexed before thumbnails were stored.
   */
  thumbnail?: FrameThumbnail | null;
}

/** A frame's grey levels, one byte per pixel, row-major (`grey.length` = width × height). */
export interface FrameThumbnail {
  width: number;
  height: number;
  grey: Uint8Array;
}

export interface FrameEvidenceRepository {
  /** Adds (or overwrites, same time) frames of a video; `model` names the picture size and feature extractor. */
  add(videoId: string, model: string, frames: readonly FrameEvidence[]): Promise<void>;
  /**
   * The video's frames made by `model` with from ≤ time ≤ to in time order, led by the last
   * frame that is no repeat when the range opens on repeats (empty for older indexes).
   */
  window(videoId: string, model: string, from: number, to: number): Promise<FrameEvidence[]>;
  deleteVideo(videoId: string): Promise<void>;
}

/** Everything a service or indexer may touch, chosen once at start-up. */
export interface Store {
  catalog: Catalog;
  text: TextIndex;
  vectors: VectorIndex;
  jobs: JobQueue;
  /** Named people and their face-template metadata (vectors: collection 'actor_faces'). */
  actors: ActorRepository;
  /** Face tracks, faces, unknown-face clusters and appearance spans (vectors: collection 'faces'). */
  appearances: AppearanceRepository;
  /** The voices diarisation grouped per video, with their turns and embeddings. */
  voiceClusters: VoiceClusterRepository;
  /** Keyword lists and the flags found in stored cues. */
  moderation: ModerationRepository;
  /** The contextual-ads inventory. */
  ads: AdRepository;
  /** Object/scene/mood tags per segment (objects and scenes stages). */
  tags: TagRepository;
  /** Highlight signals per segment, editors' feedback and the learnt weights. */
  highlights: HighlightRepository;
  /** Technical cues, per-shot visual quality and visual-moderation flags. */
  technical: TechnicalRepository;
  /** Episode fingerprints and intro/outro skip markers. */
  intro: IntroRepository;
  /** Per-frame pictures and local features that image search verifies matches with. */
  frameEvidence: FrameEvidenceRepository;
  /** Schema version the store is at after migrating forward on open. */
  readonly schemaVersion: number;
  close(): Promise<void>;
}
