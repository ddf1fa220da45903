// Catalog documents on Elasticsearch: what the catalog indices store per record (a record plus the
// generation it was written under, catalog.ts explains generations), the mapping back to domain
// records, document ids and the sort orders that page through them.
import type { CueRecord, SegmentRecord, ShotRecord, VideoRecord } from '../../domain.js';
import { caseFold } from '../embedded/catalog.js';
import type { GenerationSlot } from './catalog-schema.js';
import { asc } from './documents.js';

export type Generations = Partial<Record<GenerationSlot, number>>;

export interface StoredVideo extends VideoRecord {
  titleFolded: string | null;
  /** Absent until the first replace; never written by putVideo (a partial update keeps it). */
  generations?: Generations;
}
export interface StoredShot extends ShotRecord {
  generation: number;
}
export interface StoredSegment extends SegmentRecord {
  generation: number;
}
export interface StoredCue extends CueRecord {
  generation: number;
}
export interface StoredArtifact {
  videoId: string;
  stage: string;
  data: string;
  updatedAt: string;
}



export function toVideo(doc: VideoRecord): VideoRecord {
  return {
    id: doc.id,
    path: doc.path,
    contentHash: doc.contentHash,
    title: doc.title ?? null,
    series: doc.series ?? null,
    season: doc.season ?? null,
    episode: doc.episode ?? null,
    cast: doc.cast?.length ? [...doc.cast] : null,
    durationSec: doc.durationSec,
    fps: doc.fps,
    width: doc.width,
    height: doc.height,
    rotation: doc.rotation,
    startTime: doc.startTime,
    hasAudio: doc.hasAudio,
    status: doc.status,
    error: doc.error ?? null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

export function storedVideo(video: VideoRecord): Omit<StoredVideo, 'generations'> {
  return { ...toVideo(video), titleFolded: video.title === null ? null : caseFold(video.title) };
}

export function toShot(doc: StoredShot): ShotRecord {
  return { id: doc.id, videoId: doc.videoId, index: doc.index, start: doc.start, end: doc.end, keyframeTime: doc.keyframeTime, transition: doc.transition };
}

export function toSegment(doc: StoredSegment): SegmentRecord {
  return { id: doc.id, videoId: doc.videoId, index: doc.index, shotIndex: doc.shotIndex, start: doc.start, end: doc.end, keyframeTime: doc.keyframeTime };
}

export function toCue(doc: StoredCue): CueRecord {
  return {
    id: doc.id,
    videoId: doc.videoId,
    segmentId: doc.segmentId ?? null,
    start: doc.start,
    end: doc.end,
    text: doc.text,
    kind: doc.kind,
    source: doc.source,
    lang: doc.lang ?? null,
  };
}

/** `_id` of a record written under a generation: the same record in two generations are two documents. */
export function generationId(id: string, generation: number): string {
  return `${id}@${generation}`;
}

export function artifactId(videoId: string, stage: string): string {
  return `${encodeURIComponent(videoId)}/${encodeURIComponent(stage)}`;
}

// Unique sort keys, so search_after pages never skip or repeat a document.
export const CUE_ORDER = [asc('start'), asc('id'), asc('generation')];
export const BY_ID_ORDER = [asc('id'), asc('generation')];
