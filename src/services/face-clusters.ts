// Editors' face work: browse the clusters of unknown faces, name a cluster (its tracks become the
// actor's appearances at once, and its best faces become templates so later videos recognise the
// person), merge two actors, and move wrongly named faces to the right actor.
import { randomUUID } from 'node:crypto';
import { BadInputError, NotFoundError } from '../errors.js';
import { faceSpansFromTracks } from '../indexers/face-tracking.js';
import { ACTOR_FACES_COLLECTION, type ActorRecord, type ActorRepository, type FaceTemplateRecord } from '../store/actors.js';
import { EDITOR_TRACK_CONFIDENCE, FACES_COLLECTION, type AppearanceRepository, type FaceClusterRecord, type FaceRecord } from '../store/appearances.js';
import type { VectorIndex } from '../store/interfaces.js';
import { pageFromStore, type Connection } from './pagination.js';
import { pickCoveringTemplates } from './template-coverage.js';
import type { VoiceClusterService } from './voice-clusters.js';

/** At most this many faces of a named cluster or of moved tracks become the actor's templates. */
export const TEMPLATES_FROM_CONFIRMED = 5;
export const MAX_SAMPLE_FACES = 20;
export const MAX_MOVED_FACES = 500;
const MAX_NAME_LENGTH = 200;
/** An editor's decision is certain. */

export interface NameClusterInput {
  actorId?: string | null;
  newActorName?: string | null;
}

export interface NameClusterResult {
  cluster: FaceClusterRecord;
  actor: ActorRecord;
  tracksNamed: number;
  templatesAdded: number;
  videosUpdated: number;
}

export interface MoveFacesResult {
  actor: ActorRecord;
  /** Tracks move as a whole: a track is one person by construction. */
  tracksMoved: number;
  /** Faces of the moved tracks learnt as the actor's templates (template-coverage.ts). */
  templatesAdded: number;
  videosUpdated: number;
}

export interface FaceClusterService {
  /** Unnamed clusters by default (named: true → named ones, null → all); newest first. */
  faceClusters(first?: number | null, after?: string | null, named?: boolean | null): Promise<Connection<FaceClusterRecord>>;
  getCluster(id: string): Promise<FaceClusterRecord | null>;
  /** The cluster's best faces (each track's best face, best quality first). */
  sampleFaces(clusterId: string, limit: number): Promise<FaceRecord[]>;
  getFaces(ids: readonly string[]): Promise<(FaceRecord | null)[]>;
  nameFaceCluster(clusterId: string, input: NameClusterInput): Promise<NameClusterResult>;
  /** Moves everything of `sourceId` (appearances, templates, clusters) to `targetId`, then deletes the source. */
  mergeActors(sourceId: string, targetId: string): Promise<ActorRecord>;
  moveFaces(faceIds: readonly string[], toActorId: string): Promise<MoveFacesResult>;
  /** Deletes unnamed face (and unknown voice) clusters untouched for `olderThanDays`, with their faces and vectors; returns how many clusters went. */
  purgeUnknownFaces(olderThanDays: number): Promise<number>;
}

export interface FaceClusterServiceDeps {
  appearances: AppearanceRepository;
  actors: ActorRepository;
  vectors: VectorIndex;
  /** The face embedder in use: templates of another model would never match. */
  currentFaceModelId(): Promise<string>;
  /** The voice side of merging actors and forgetting strangers (voice clusters, voice templates). */
  voiceClusters?: Pick<VoiceClusterService, 'moveActor' | 'purgeUnknownVoices'>;
}

export function createFaceClusterService(deps: FaceClusterServiceDeps): FaceClusterService {
  const { appearances, actors, vectors } = deps;

  async function requireActor(id: string): Promise<ActorRecord> {
    const actor = await actors.getActor(id);
    if (!actor) throw new NotFoundError('actor', id);
    return actor;
  }

  /** FACE spans are derived from tracks: rebuild them for the videos whose tracks changed. */
  async function rebuildFaceSpans(videoIds: Iterable<string>): Promise<number> {
    const spansByVideo = new Map<string, ReturnType<typeof faceSpansFromTracks>>();
    for (const videoId of new Set(videoIds)) spansByVideo.set(videoId, faceSpansFromTracks(videoId, await appearances.getTracksOfVideo(videoId)));
    await appearances.replaceFaceSpansOfVideos(spansByVideo);
    return spansByVideo.size;
  }

  /**
   * The confirmed faces that widen the actor's pose coverage become its templates
   * (template-coverage.ts); faces of another embedder than the one in use are never learnt.
   */
  async function templatesFromFaces(actorId: string, faces: readonly FaceRecord[], source: string): Promise<number> {
    const modelId = await deps.currentFaceModelId();
    const points = await vectors.get(FACES_COLLECTION, faces.map((f) => f.id));
    const candidates = faces.flatMap((face, i) => {
      const point = points[i];
      return point && face.thumbnail ? [{ ...face, thumbnail: face.thumbnail, vector: point.vector }] : [];
    });
    if (candidates.length === 0) return 0;
    const state = await vectors.ensureCollection({ name: ACTOR_FACES_COLLECTION, dim: candidates[0]!.vector.length, metric: 'cosine', modelId });
    if (state === 'model-changed') return 0;
    const current = (await actors.listFaceTemplates(actorId)).filter((t) => t.modelId === modelId);
    const existing = (await vectors.get(ACTOR_FACES_COLLECTION, current.map((t) => t.id))).flatMap((p) => (p ? [p.vector] : []));
    const templates = pickCoveringTemplates(candidates, existing, TEMPLATES_FROM_CONFIRMED).map((face) => ({
      vector: face.vector,
      record: { id: randomUUID(), actorId, modelId, source, thumbnail: face.thumbnail, createdAt: new Date().toISOString() } satisfies FaceTemplateRecord,
    }));
    if (templates.length === 0) return 0;
    await actors.addFaceTemplates(templates.map((t) => t.record));
    await vectors.upsert(ACTOR_FACES_COLLECTION, templates.map((t) => ({ id: t.record.id, vector: t.vector, payload: { actorId } })));
    return templates.length;
  }

  async function actorForNaming(input: NameClusterInput): Promise<ActorRecord> {
    const hasId = typeof input.actorId === 'string' && input.actorId !== '';
    const name = typeof input.newActorName === 'string' ? input.newActorName.trim() : '';
    if (hasId === (name !== '')) throw new BadInputError('give exactly one of actorId or newActorName', { field: hasId ? 'newActorName' : 'actorId' });
    if (hasId) return requireActor(input.actorId!);
    if (name.length > MAX_NAME_LENGTH) throw new BadInputError(`newActorName is longer than ${MAX_NAME_LENGTH} characters`, { field: 'newActorName' });
    const now = new Date().toISOString();
    const actor: ActorRecord = { id: randomUUID(), name, aliases: [], createdAt: now, updatedAt: now };
    await actors.createActor(actor, []);
    return actor;
  }

  return {
    faceClusters: (first, after, named = false) => pageFromStore((page) => appearances.listClusters({ named }, page), first, after),
    getCluster: (id) => appearances.getCluster(id),
    getFaces: (ids) => appearances.getFaces(ids),

    async sampleFaces(clusterId, limit) {
      const tracks = await appearances.getTracksOfCluster(clusterId);
      const best = await appearances.getFaces(tracks.map((t) => t.bestFaceId));
      return best
        .filter((f): f is FaceRecord => f !== null)
        .sort((a, b) => b.quality - a.quality)
        .slice(0, Math.max(0, Math.min(limit, MAX_SAMPLE_FACES)));
    },

    async nameFaceCluster(clusterId, input) {
      const cluster = await appearances.getCluster(clusterId);
      if (!cluster) throw new NotFoundError('face cluster', clusterId);
      const actor = await actorForNaming(input);
      const tracks = (await appearances.getTracksOfCluster(clusterId)).filter((t) => t.actorId === null || t.actorId === cluster.actorId);
      await appearances.assignTracks(tracks.map((t) => t.id), actor.id, EDITOR_TRACK_CONFIDENCE);
      const named: FaceClusterRecord = { ...cluster, actorId: actor.id, updatedAt: new Date().toISOString() };
      await appearances.putClusters([named]);
      const videosUpdated = await rebuildFaceSpans(tracks.map((t) => t.videoId));
      // The cluster's faces teach identification the person (in the views it lacked) for every later video.
      const faces = await appearances.getFacesOfTracks(tracks.map((t) => t.id));
      const templatesAdded = cluster.modelId === (await deps.currentFaceModelId()) ? await templatesFromFaces(actor.id, faces, `cluster ${clusterId}`) : 0;
      return { cluster: named, actor, tracksNamed: tracks.length, templatesAdded, videosUpdated };
    },

    async mergeActors(sourceId, targetId) {
      if (sourceId === targetId) throw new BadInputError('cannot merge an actor into itself', { field: 'targetId' });
      const source = await requireActor(sourceId);
      const target = await requireActor(targetId);
      const videoIds = (await appearances.getTracksOfActor(sourceId)).map((t) => t.videoId);
      await appearances.reassignActor(sourceId, targetId);
      await rebuildFaceSpans(videoIds);
      await deps.voiceClusters?.moveActor(sourceId, targetId);

      // Face templates move with their vectors, so the merged actor is recognised by both sets.
      const templates = await actors.listFaceTemplates(sourceId);
      if (templates.length) {
        const points = await vectors.get(ACTOR_FACES_COLLECTION, templates.map((t) => t.id));
        await actors.deleteFaceTemplates(templates.map((t) => t.id));
        await actors.addFaceTemplates(templates.map((t) => ({ ...t, actorId: targetId })));
        const moved = templates.flatMap((t, i) => (points[i] ? [{ id: t.id, vector: points[i]!.vector, payload: { actorId: targetId } }] : []));
        if (moved.length) await vectors.upsert(ACTOR_FACES_COLLECTION, moved);
      }
      const aliases = [...new Set([...target.aliases, source.name, ...source.aliases])].filter((a) => a !== target.name);
      const merged = (await actors.updateActor(targetId, { aliases })) ?? target;
      await actors.deleteActor(sourceId);
      return merged;
    },

    async moveFaces(faceIds, toActorId) {
      const ids = [...new Set(faceIds)];
      if (ids.length === 0) throw new BadInputError('faceIds must name at least one face', { field: 'faceIds' });
      if (ids.length > MAX_MOVED_FACES) throw new BadInputError(`at most ${MAX_MOVED_FACES} faces per call`, { field: 'faceIds' });
      const actor = await requireActor(toActorId);
      const faces = await appearances.getFaces(ids);
      const missing = ids.find((_, i) => faces[i] === null);
      if (missing) throw new NotFoundError('face', missing);
      const trackIds = [...new Set(faces.map((f) => f!.trackId))];
      const tracks = (await appearances.getTracks(trackIds)).filter((t) => t !== null);
      await appearances.assignTracks(tracks.map((t) => t.id), toActorId, EDITOR_TRACK_CONFIDENCE);
      const videosUpdated = await rebuildFaceSpans(tracks.map((t) => t.videoId));
      // A move corrects identification: the moved tracks show the actor in a view it missed.
      const modelId = await deps.currentFaceModelId();
      const learnable = tracks.filter((t) => t.modelId === modelId).map((t) => t.id);
      const templatesAdded = learnable.length ? await templatesFromFaces(toActorId, await appearances.getFacesOfTracks(learnable), `moved faces (${faces.length})`) : 0;
      return { actor, tracksMoved: tracks.length, templatesAdded, videosUpdated };
    },

    async purgeUnknownFaces(olderThanDays) {
      if (!Number.isFinite(olderThanDays) || olderThanDays < 0) throw new BadInputError('olderThanDays must be a number ≥ 0', { field: 'olderThanDays' });
      const before = new Date(Date.now() - olderThanDays * 86_400_000).toISOString();
      const { clusterIds, faceIds } = await appearances.purgeUnknownFaces(before);
      await vectors.delete(FACES_COLLECTION, faceIds);
      const voiceClusters = (await deps.voiceClusters?.purgeUnknownVoices(before)) ?? 0;
      return clusterIds.length + voiceClusters;
    },
  };
}
