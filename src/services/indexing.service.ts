// indexVideo and the job queue as the API sees it. Everything that can be refused is refused here,
// before a job exists: a path outside the media roots, a missing file, a file ffprobe cannot decode.
import path from 'node:path';
import type { Config } from '../config.js';
import type { IndexVideoRequest, JobRecord, JobStatus, VideoMetadataPatch, VideoRecord } from '../domain.js';
import { BadInputError, NotFoundError, UnsupportedMediaError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/interfaces.js';
import { resolveMediaPath } from './media-path.js';
import { pageFromStore, type Connection } from './pagination.js';
import { checkCast, validateMetadata } from './video.service.js';

/** The probe fields a new video record needs (a subset of media/probe.ts's MediaProbe). */
export interface ProbedMedia {
  durationSec: number;
  fps: number;
  width: number;
  height: number;
  rotation: number;
  startTime: number;
  hasVideo: boolean;
  hasAudio: boolean;
}

/** A video record's fields that come from its probe. */
export function probedVideoFields(probe: ProbedMedia): Pick<VideoRecord, 'durationSec' | 'fps' | 'width' | 'height' | 'rotation' | 'startTime' | 'hasAudio'> {
  const { durationSec, fps, width, height, rotation, startTime, hasAudio } = probe;
  return { durationSec, fps, width, height, rotation, startTime, hasAudio };
}

/** ffprobe and hashing, behind a seam so services are tested without real media. */
export interface MediaInspector {
  /** Throws UnsupportedMediaError when the file cannot be decoded. */
  probe(filePath: string): Promise<ProbedMedia>;
  contentHash(filePath: string): Promise<string>;
}

export interface IndexVideoCommand extends IndexVideoRequest {
  priority?: number | null;
}

export interface IndexingService {
  indexVideo(request: IndexVideoCommand): Promise<JobRecord>;
  job(id: string): Promise<JobRecord | null>;
  jobs(status: JobStatus | null, first?: number | null, after?: string | null): Promise<Connection<JobRecord>>;
  cancelJob(id: string): Promise<JobRecord>;
}

const MAX_PRIORITY = 1000;

export function videoIdForHash(contentHash: string): string {
  return `vid_${contentHash.slice(0, 16)}`;
}

export function createIndexingService(deps: { store: Store; inspector: MediaInspector; config: Config; log: Logger }): IndexingService {
  const { store, inspector, config, log } = deps;
  // Two indexVideo calls for the same file at once must not create two jobs.
  const inFlight = new Map<string, Promise<JobRecord>>();

  /** A new video, or the same content again (maybe moved): fresh probe fields, patched metadata, PENDING. */
  async function putVideoForIndexing(
    existing: VideoRecord | null,
    realPath: string,
    hash: string,
    metadata: VideoMetadataPatch,
    probe: ProbedMedia,
  ): Promise<VideoRecord> {
    const now = new Date().toISOString();
    const probed = probedVideoFields(probe);
    const base: VideoRecord = existing ?? {
      id: videoIdForHash(hash),
      path: realPath,
      contentHash: hash,
      title: path.parse(realPath).name,
      series: null,
      season: null,
      episode: null,
      ...probed,
      status: 'PENDING',
      error: null,
      createdAt: now,
      updatedAt: now,
    };
    const video: VideoRecord = { ...base, ...probed, ...metadata, path: realPath, status: 'PENDING', error: null, updatedAt: now };
    await store.catalog.putVideo(video);
    return video;
  }

  async function enqueueFor(requestedPath: string, realPath: string, metadata: VideoMetadataPatch, priority: number): Promise<JobRecord> {
    const probe = await inspector.probe(realPath);
    if (!probe.hasVideo) throw new UnsupportedMediaError(`${requestedPath} has no video stream`);
    const hash = await inspector.contentHash(realPath);
    const pending = inFlight.get(hash);
    if (pending) return pending;
    const work = (async (): Promise<JobRecord> => {
      const existing = await store.catalog.findVideoByHash(hash);
      const active = existing ? await store.jobs.activeForVideo(existing.id) : null;
      if (existing && active) {
        // Already queued or running: patch the metadata, don't index twice.
        await store.catalog.updateVideo(existing.id, metadata);
        return active;
      }
      const video = await putVideoForIndexing(existing, realPath, hash, metadata, probe);
      const job = await store.jobs.enqueue({
        kind: 'INDEX_VIDEO',
        videoId: video.id,
        request: { path: realPath, title: video.title, series: video.series, season: video.season, episode: video.episode, cast: video.cast ?? null },
        priority,
      });
      const dropped = await store.jobs.dropOldestBeyond(config.indexing.maxBacklog);
      if (dropped > 0) log.warn({ dropped, maxBacklog: config.indexing.maxBacklog }, 'indexing backlog full: cancelled the oldest queued jobs');
      log.info({ jobId: job.id, videoId: video.id, path: realPath }, 'indexing job queued');
      return (await store.jobs.get(job.id)) ?? job;
    })();
    inFlight.set(hash, work);
    try {
      return await work;
    } finally {
      inFlight.delete(hash);
    }
  }

  return {
    async indexVideo(request) {
      const priority = request.priority ?? 0;
      if (!Number.isInteger(priority) || Math.abs(priority) > MAX_PRIORITY) {
        throw new BadInputError(`priority must be a whole number between -${MAX_PRIORITY} and ${MAX_PRIORITY}`, { priority });
      }
      // Fail on bad metadata before the (slow) probe and hash.
      const metadata = validateMetadata({ title: request.title, series: request.series, season: request.season, episode: request.episode, cast: request.cast });
      await checkCast(store.actors, metadata.cast);
      const realPath = await resolveMediaPath(request.path, config.mediaRoots);
      return enqueueFor(request.path, realPath, metadata, priority);
    },
    job: (id) => store.jobs.get(id),
    jobs: (status, first, after) => pageFromStore((page) => store.jobs.list(status, page), first, after),
    async cancelJob(id) {
      const cancelled = await store.jobs.cancel(id);
      if (!cancelled) throw new NotFoundError('job', id);
      return cancelled;
    },
  };
}
