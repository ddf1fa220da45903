// Plain data records shared by the store, services, indexers and resolvers.
// Times are seconds on the media timeline (frame PTS minus the file's start_time).

export type VideoStatus = 'PENDING' | 'INDEXING' | 'READY' | 'FAILED';

export interface VideoRecord {
  id: string;
  /** Absolute, symlink-resolved path inside one of the media roots. */
  path: string;
  /** sha256 of the file contents: the same file indexed twice is one video. */
  contentHash: string;
  title: string | null;
  series: string | null;
  season: number | null;
  episode: number | null;
  /**
   * The actors the caller says appear in the video (a drama's cast list), or null/absent for none:
   * with a cast, face identification is closed-set over it (src/indexers/face-identity.ts).
   */
  cast?: readonly string[] | null;
  durationSec: number;
  fps: number;
  width: number;
  height: number;
  /** Display rotation in degrees (0, 90, 180, 270) from the stream's side data. */
  rotation: number;
  /** ffprobe format.start_time; media times are PTS minus this. */
  startTime: number;
  hasAudio: boolean;
  status: VideoStatus;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface VideoMetadataPatch {
  title?: string | null;
  series?: string | null;
  season?: number | null;
  episode?: number | null;
  /** Actor ids; null or an empty list clears the cast (open-set identification). */
  cast?: readonly string[] | null;
}

export interface ShotRecord {
  id: string;
  videoId: string;
  index: number;
  start: number;
  end: number;
  /** Time of the frame chosen to represent the shot (not black, sharp). */
  keyframeTime: number;
  /** How the shot began: a hard cut, a gradual transition, or the start of the video. */
  transition: 'START' | 'CUT' | 'FADE';
}

export interface SegmentRecord {
  id: string;
  videoId: string;
  /** Order of the segment within its video, from 0. */
  index: number;
  shotIndex: number;
  start: number;
  end: number;
  keyframeTime: number;
}

export type CueKind = 'SUBTITLE' | 'ON_SCREEN_TEXT';
export type CueSource = 'SIDECAR' | 'EMBEDDED' | 'OCR';

export interface CueRecord {
  id: string;
  videoId: string;
  /** The segment the cue starts in (a cue crossing a segment boundary belongs to where it starts). */
  segmentId: string | null;
  start: number;
  end: number;
  text: string;
  kind: CueKind;
  source: CueSource;
  /** BCP-47-ish language tag when known (from the file name or stream tags). */
  lang: string | null;
}

export type JobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export type JobKind = 'INDEX_VIDEO';

export interface IndexVideoRequest {
  path: string;
  title?: string | null;
  series?: string | null;
  season?: number | null;
  episode?: number | null;
  cast?: readonly string[] | null;
}

export interface JobRecord {
  id: string;
  kind: JobKind;
  videoId: string | null;
  request: IndexVideoRequest;
  status: JobStatus;
  priority: number;
  /** 0..1 over the whole pipeline. */
  progress: number;
  /** The stage running now (or last run). */
  stage: string | null;
  /** Stages whose output is checkpointed: a resumed job skips them. */
  stagesDone: string[];
  error: string | null;
  attempts: number;
  workerId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  heartbeatAt: string | null;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor of the last item, to pass as `after`. */
  endCursor: string | null;
  hasNextPage: boolean;
  totalCount: number;
}

export interface PageArgs {
  first: number;
  after?: string | null;
}
