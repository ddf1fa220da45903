// The catalog as the API sees it: videos, their segments, shots and cues; metadata edits; deletion
// of a video with everything derived from it (catalog rows, text documents, vectors, faces and
// appearances, moderation flags, cached frames).
import type { CueKind, CueRecord, SegmentRecord, ShotRecord, VideoMetadataPatch, VideoRecord } from '../domain.js';
import { BadInputError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { FaceScorer, SecondOpinionScorer } from '../indexers/face-video-identity.js';
import { FACES_COLLECTION } from '../store/appearances.js';
import type { ActorRepository } from '../store/actors.js';
import type { Store, VideoFilter } from '../store/interfaces.js';
import { reidentifyVideoFaces } from './face-reidentify.js';
import { pageFromArray, pageFromStore, type Connection } from './pagination.js';

export interface VideoService {
  get(id: string): Promise<VideoRecord | null>;
  /** Same order as `ids`, null where missing (for DataLoaders). */
  getMany(ids: readonly string[]): Promise<(VideoRecord | null)[]>;
  list(filter: VideoFilter, first?: number | null, after?: string | null): Promise<Connection<VideoRecord>>;
  update(id: string, patch: VideoMetadataPatch): Promise<VideoRecord>;
  /** Cancels an active job and deletes the video and everything derived from it. */
  delete(id: string): Promise<void>;

  segment(id: string): Promise<SegmentRecord | null>;
  segmentsByIds(ids: readonly string[]): Promise<(SegmentRecord | null)[]>;
  segments(videoId: string, first?: number | null, after?: string | null): Promise<Connection<SegmentRecord>>;
  shots(videoId: string, first?: number | null, after?: string | null): Promise<Connection<ShotRecord>>;
  cues(videoId: string, kinds: readonly CueKind[] | null, first?: number | null, after?: string | null): Promise<Connection<CueRecord>>;
  /** Cues per segment, same order as `segmentIds`. */
  cuesBySegments(segmentIds: readonly string[]): Promise<CueRecord[][]>;
}

/** Files derived from a video outside the store (e.g. cached keyframes), removed with it. */
export interface DerivedFiles {
  purgeVideo(videoId: string): Promise<void>;
}

const MAX_TEXT_FIELD = 500;
const MAX_NUMBER_FIELD = 100_000;
/** A drama's credited cast runs to dozens; a few hundred ids is a list nobody meant. */
export const MAX_CAST = 300;

function textField(name: string, value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string') throw new BadInputError(`${name} must be a string`);
  const trimmed = value.trim();
  if (trimmed.length > MAX_TEXT_FIELD) throw new BadInputError(`${name} is longer than ${MAX_TEXT_FIELD} characters`, { field: name });
  return trimmed === '' ? null : trimmed;
}

function countField(name: string, value: number | null | undefined): number | null | undefined {
  if (value === undefined || value === null) return value;
  if (!Number.isInteger(value) || value < 0 || value > MAX_NUMBER_FIELD) {
    throw new BadInputError(`${name} must be a whole number between 0 and ${MAX_NUMBER_FIELD}`, { field: name, value });
  }
  return value;
}

/** Distinct ids in the caller's order; an empty list is no cast (null). Existence is checked by checkCast. */
function castField(value: readonly string[] | null | undefined): readonly string[] | null | undefined {
  if (value === undefined || value === null) return value;
  if (!Array.isArray(value) || !value.every((id) => typeof id === 'string' && id.trim() !== '')) throw new BadInputError('cast must be a list of actor ids', { field: 'cast' });
  const ids = [...new Set(value.map((id) => id.trim()))];
  if (ids.length > MAX_CAST) throw new BadInputError(`cast lists more than ${MAX_CAST} actors`, { field: 'cast', count: ids.length });
  return ids.length > 0 ? ids : null;
}

/** Refuses a cast naming an actor that is not enrolled (a typo would silently shrink the closed set). */
export async function checkCast(actors: Pick<ActorRepository, 'getActors'>, cast: readonly string[] | null | undefined): Promise<void> {
  if (!cast) return;
  const found = await actors.getActors(cast);
  const missing = cast.filter((_, k) => !found[k]);
  if (missing.length > 0) throw new BadInputError(`cast names actors that are not enrolled: ${missing.join(', ')}`, { field: 'cast', missing });
}

/**
 * Checks and normalises a metadata patch (trimmed text, empty text → null, season/episode ≥ 0).
 * Keys left undefined stay out of the result, so they leave the stored value alone; null clears it.
 */
export function validateMetadata(patch: VideoMetadataPatch): VideoMetadataPatch {
  const checked: VideoMetadataPatch = {
    title: textField('title', patch.title),
    series: textField('series', patch.series),
    season: countField('season', patch.season),
    episode: countField('episode', patch.episode),
    cast: castField(patch.cast),
  };
  return Object.fromEntries(Object.entries(checked).filter(([, value]) => value !== undefined)) as VideoMetadataPatch;
}

export interface VideoServiceDeps {
  store: Store;
  derivedFiles: DerivedFiles;
  log: Logger;
  /** Scores a stored face against the enrolled actors (a cast change re-identifies the video's tracks). */
  scoreFace: FaceScorer;
  /** Asked about small unknown tracks at that re-identification, as the faces stage asks it. */
  secondOpinion?: SecondOpinionScorer | null;
}

/** Same cast (as a set), null and [] both meaning none. */
function sameCast(a: readonly string[] | null | undefined, b: readonly string[] | null | undefined): boolean {
  const x = new Set(a ?? []);
  const y = new Set(b ?? []);
  return x.size === y.size && [...x].every((id) => y.has(id));
}

export function createVideoService(deps: VideoServiceDeps): VideoService {
  const { store, derivedFiles, log } = deps;
  const { catalog } = store;

  async function requireVideo(id: string): Promise<VideoRecord> {
    const video = await catalog.getVideo(id);
    if (!video) throw new NotFoundError('video', id);
    return video;
  }

  return {
    get: (id) => catalog.getVideo(id),
    getMany: (ids) => catalog.getVideos(ids),
    list: (filter, first, after) => pageFromStore((page) => catalog.listVideos(filter, page), first, after),

    async update(id, patch) {
      const checked = validateMetadata(patch);
      const before = await requireVideo(id);
      await checkCast(store.actors, checked.cast);
      const updated = await catalog.updateVideo(id, checked);
      if (!updated) throw new NotFoundError('video', id);
      // A new cast changes who the video's tracks can be: judge the stored tracks again now
      // (closed set over the new cast, open set when cleared) rather than at the next indexing.
      if (checked.cast !== undefined && !sameCast(before.cast, updated.cast)) {
        const result = await reidentifyVideoFaces(store, updated, deps.scoreFace, { secondOpinion: deps.secondOpinion ?? null });
        log.info({ videoId: id, ...result }, 'cast changed: face tracks re-identified');
      }
      return updated;
    },

    async delete(id) {
      await requireVideo(id);
      const active = await store.jobs.activeForVideo(id);
      if (active) await store.jobs.cancel(active.id);
      // Search documents, vectors and faces first: a failure half-way must not leave hits
      // pointing at a video the catalog no longer has.
      await store.text.deleteByVideo(id);
      const faceIds = await store.appearances.deleteVideo(id);
      if (faceIds.length > 0) await store.vectors.delete(FACES_COLLECTION, faceIds);
      await store.vectors.deleteByVideo(id);
      await store.voiceClusters.deleteVideo(id);
      await store.moderation.deleteVideo(id);
      await store.technical.deleteVideo(id);
      await store.intro.deleteVideo(id);
      await store.tags.deleteVideo(id);
      await store.highlights.deleteVideo(id);
      await store.frameEvidence.deleteVideo(id);
      await catalog.deleteVideo(id);
      await derivedFiles.purgeVideo(id);
      log.info({ videoId: id, cancelledJob: active?.id ?? null }, 'video deleted');
    },

    segment: (id) => catalog.getSegment(id),
    segmentsByIds: (ids) => catalog.getSegmentsByIds(ids),
    segments: (videoId, first, after) => pageFromStore((page) => catalog.listSegments(videoId, page), first, after),
    async shots(videoId, first, after) {
      return pageFromArray(await catalog.getShots(videoId), first, after);
    },
    async cues(videoId, kinds, first, after) {
      return pageFromArray(await catalog.getCues(videoId, kinds?.length ? [...kinds] : undefined), first, after);
    },
    cuesBySegments: (segmentIds) => catalog.getCuesBySegments(segmentIds),
  };
}
