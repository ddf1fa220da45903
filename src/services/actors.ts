// Actors: enrolment from face pictures (and, through a hook, voice samples), editing, deletion of
// every biometric template, and open-set identification of a face embedding. How a picture becomes
// face templates is in actor-pictures.ts.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { BadInputError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { FaceModels } from '../models/faces/index.js';
import { decodeImage, DEFAULT_MAX_IMAGE_PIXELS } from '../models/image.js';
import type { ActorScore } from '../indexers/face-identity.js';
import type { DetectedFace, RawImage } from '../models/types.js';
import { ACTOR_FACES_COLLECTION, type ActorRecord, type ActorRepository } from '../store/actors.js';
import type { Store } from '../store/interfaces.js';
import { alignedCropFace, prepareFace, UnusablePicture, type PreparedFace, type SourceImage } from './actor-pictures.js';
import { resolveMediaPath } from './media-path.js';
import { pageFromStore, type Connection } from './pagination.js';

/**
 * Lowest cosine similarity (best template of an actor) accepted as that actor.
 * Calibrated on ../shared/data/faces.json with the shipped embedder (faceplugin-feature512):
 * over all 61 pictures of its 13 people, the 1690 different-person pairs reach at most 0.42
 * (99.9th percentile 0.405) and 139 of the 140 same-person pairs lie above 0.45; at query level
 * (best of an actor's templates) the dev queries score 0.65–0.88 for enrolled people and
 * 0.17–0.37 for strangers. 0.45 sits just above every stranger pair seen, leaving the widest
 * room for harder same-person pictures. Re-calibrate when the embedder changes.
 */
export const FACE_MATCH_THRESHOLD = 0.45;
/** Width of the similarity band over which confidence goes from ~0.12 to ~0.88 around the threshold. */
const CONFIDENCE_SPREAD = 0.05;
export const MAX_ENROL_IMAGES = 50;
/** Actors scoreFace lists per face: the runner-up and a few more for the margin and the mean. */
const SCORED_ACTORS = 8;
/** Template hits fetched per listed actor (actors have several templates each). */
const TEMPLATE_HITS_PER_ACTOR = 6;
export const MAX_NAME_LENGTH = 200;
export const MAX_ALIASES = 20;

export interface ImageUpload {
  /** The client's file name, used in error messages. */
  filename: string;
  data: Buffer;
}

export interface FaceImagesInput {
  images?: readonly ImageUpload[] | null;
  imagesBase64?: readonly string[] | null;
  /** Server paths; each must resolve inside config.mediaRoots. */
  imagePaths?: readonly string[] | null;
}

export interface VoiceSamplesInput {
  voices?: readonly ImageUpload[] | null;
  voicePaths?: readonly string[] | null;
}

export interface EnrollActorInput extends FaceImagesInput, VoiceSamplesInput {
  name: string;
  aliases?: readonly string[] | null;
}

export interface UpdateActorInput {
  name?: string | null;
  aliases?: readonly string[] | null;
}

/**
 * Voice enrolment, implemented by the voice side. `prepare` validates and embeds every sample
 * BEFORE anything is stored (throwing BAD_USER_INPUT naming the bad file), and returns the
 * step that stores the templates once the actor exists. deleteForActor removes an actor's voice
 * templates; countForActors reports them per actor.
 */
export interface ActorVoiceHook {
  prepare(samples: VoiceSamplesInput, mediaRoots: readonly string[]): Promise<{ count: number; commit(actorId: string): Promise<void> }>;
  deleteForActor(actorId: string): Promise<void>;
}

export interface FaceMatch {
  actorId: string;
  /** Cosine similarity to the actor's closest template. */
  similarity: number;
  /** 0..1, 0.5 at the acceptance threshold. */
  confidence: number;
}

export interface AddFacesResult {
  added: number;
  skipped: { source: string; reason: string }[];
}

export interface ActorService {
  enrollActor(input: EnrollActorInput): Promise<ActorRecord>;
  /** Adds usable pictures one at a time; unusable ones are skipped and reported, not fatal. */
  addFaces(actorId: string, input: FaceImagesInput): Promise<AddFacesResult>;
  updateActor(id: string, input: UpdateActorInput): Promise<ActorRecord>;
  /** Deletes the actor with every face and voice template. */
  deleteActor(id: string): Promise<void>;
  getActor(id: string): Promise<ActorRecord | null>;
  getActors(ids: readonly string[]): Promise<(ActorRecord | null)[]>;
  listActors(query: string | null | undefined, first?: number | null, after?: string | null): Promise<Connection<ActorRecord>>;
  faceCounts(actorIds: readonly string[]): Promise<number[]>;
  /** The actor's first face template's thumbnail (JPEG), or null. */
  thumbnail(actorId: string): Promise<Buffer | null>;
  /** Open-set identification: the best actor above FACE_MATCH_THRESHOLD, else null (unknown). */
  identifyFace(embedding: Float32Array): Promise<FaceMatch | null>;
  /**
   * The actors closest to a face (each scored by its best template), best first, at most
   * `limit`; actors not listed score no higher than the last one listed. For track-level
   * identity (src/indexers/face-identity.ts), which decides with its own thresholds. `among`
   * (a video's cast) limits the candidates to those actors: closed-set scoring.
   */
  scoreFace(embedding: Float32Array, limit?: number, among?: readonly string[] | null): Promise<ActorScore[]>;
  /** Detects faces (largest first) and embeds the largest, for callers holding a picture. */
  embedLargestFace(image: RawImage): Promise<{ face: DetectedFace; embedding: Float32Array } | null>;
}

export interface ActorServiceDeps {
  store: Store & { actors: ActorRepository };
  config: Pick<Config, 'mediaRoots'>;
  log: Logger;
  models: () => Promise<FaceModels>;
  voices?: ActorVoiceHook;
  maxImagePixels?: number;
}


export function confidenceFromSimilarity(similarity: number): number {
  return 1 / (1 + Math.exp(-(similarity - FACE_MATCH_THRESHOLD) / CONFIDENCE_SPREAD));
}

function cleanName(name: unknown): string {
  if (typeof name !== 'string' || !name.trim()) throw new BadInputError('name must not be empty', { field: 'name' });
  const trimmed = name.trim();
  if (trimmed.length > MAX_NAME_LENGTH) throw new BadInputError(`name is longer than ${MAX_NAME_LENGTH} characters`, { field: 'name' });
  return trimmed;
}

function cleanAliases(aliases: readonly string[] | null | undefined): string[] {
  const unique = [...new Set((aliases ?? []).map((a) => (typeof a === 'string' ? a.trim() : '')).filter(Boolean))];
  if (unique.length > MAX_ALIASES) throw new BadInputError(`at most ${MAX_ALIASES} aliases`, { field: 'aliases' });
  if (unique.some((a) => a.length > MAX_NAME_LENGTH)) throw new BadInputError(`an alias is longer than ${MAX_NAME_LENGTH} characters`, { field: 'aliases' });
  return unique;
}

function decodeBase64(value: string, label: string): Buffer {
  // Accept data URLs as browsers produce them.
  const payload = value.replace(/^data:[^;,]*;base64,/, '').replace(/\s+/g, '');
  if (!payload || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(payload)) throw new BadInputError(`${label} is not base64`, { file: label });
  return Buffer.from(payload, 'base64');
}

export function createActorService(deps: ActorServiceDeps): ActorService {
  const { store, config, log } = deps;
  const actors = store.actors;
  const maxPixels = deps.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  let collectionReady: Promise<void> | null = null;

  function sources(input: FaceImagesInput): SourceImage[] {
    const list: SourceImage[] = [
      ...(input.images ?? []).map((upload, i) => ({ label: upload.filename || `upload #${i + 1}`, load: async () => upload.data })),
      ...(input.imagesBase64 ?? []).map((value, i) => {
        const label = `imagesBase64[${i}]`;
        return { label, load: async () => decodeBase64(value, label) };
      }),
      ...(input.imagePaths ?? []).map((requested) => ({ label: requested, load: () => resolveMediaPath(requested, config.mediaRoots) })),
    ];
    if (list.length > MAX_ENROL_IMAGES) throw new BadInputError(`at most ${MAX_ENROL_IMAGES} pictures per call`, { count: list.length });
    return list;
  }

  /**
   * The vector collection for the current embedder. When the embedder changed since the vectors
   * were written, the index dropped them; the templates are re-embedded from their stored
   * aligned crops, so identification keeps working without the original pictures.
   */
  function ensureCollection(models: FaceModels): Promise<void> {
    collectionReady ??= (async () => {
      const state = await store.vectors.ensureCollection({
        name: ACTOR_FACES_COLLECTION,
        dim: models.embedder.dim,
        metric: 'cosine',
        modelId: models.embedder.modelId,
      });
      if (state === 'model-changed') await reembedTemplates(models);
    })();
    collectionReady.catch(() => {
      collectionReady = null;
    });
    return collectionReady;
  }

  async function reembedTemplates(models: FaceModels): Promise<void> {
    const templates = await actors.allFaceTemplates();
    let done = 0;
    for (const template of templates) {
      if (!template.thumbnail) continue;
      const crop = await decodeImage(template.thumbnail, { label: `template ${template.id}` });
      const vector = await models.embedder.embed(crop, alignedCropFace(crop));
      await store.vectors.upsert(ACTOR_FACES_COLLECTION, [{ id: template.id, vector, payload: { actorId: template.actorId } }]);
      done++;
    }
    if (templates.length) log.info({ done, templates: templates.length, modelId: models.embedder.modelId }, 'actor face templates re-embedded for the new model');
  }
  async function storeVectors(prepared: readonly PreparedFace[]): Promise<void> {
    if (prepared.length === 0) return;
    await store.vectors.upsert(
      ACTOR_FACES_COLLECTION,
      prepared.map((p) => ({ id: p.template.id, vector: p.vector, payload: { actorId: p.template.actorId } })),
    );
  }

  async function requireActor(id: string): Promise<ActorRecord> {
    const actor = await actors.getActor(id);
    if (!actor) throw new NotFoundError('actor', id);
    return actor;
  }

  return {
    async enrollActor(input) {
      const name = cleanName(input.name);
      const aliases = cleanAliases(input.aliases);
      const pictures = sources(input);
      const actorId = randomUUID();
      const hasVoices = (input.voices?.length ?? 0) + (input.voicePaths?.length ?? 0) > 0;
      if (hasVoices && !deps.voices) throw new BadInputError('voice enrolment is not available on this server', { field: 'voices' });

      // Everything is checked and embedded before anything is stored: one bad file, nothing kept.
      const prepared: PreparedFace[] = [];
      if (pictures.length) {
        const models = await deps.models();
        await ensureCollection(models);
        for (const picture of pictures) {
          try {
            prepared.push(...(await prepareFace(models, picture, actorId, maxPixels)));
          } catch (err) {
            if (err instanceof UnusablePicture) throw new BadInputError(`${picture.label}: ${err.message}`, { file: picture.label });
            throw err;
          }
        }
      }
      const voices = hasVoices && deps.voices ? await deps.voices.prepare(input, config.mediaRoots) : null;

      const now = new Date().toISOString();
      const actor: ActorRecord = { id: actorId, name, aliases, createdAt: now, updatedAt: now };
      await actors.createActor(actor, prepared.map((p) => p.template));
      try {
        await storeVectors(prepared);
        await voices?.commit(actorId);
      } catch (err) {
        // Undo the half-stored enrolment so a retry starts clean.
        await store.vectors.delete(ACTOR_FACES_COLLECTION, prepared.map((p) => p.template.id)).catch(() => undefined);
        await deps.voices?.deleteForActor(actorId).catch(() => undefined);
        await actors.deleteActor(actorId);
        throw err;
      }
      log.info({ actorId, faces: prepared.length, voices: voices?.count ?? 0 }, 'actor enrolled');
      return actor;
    },

    async addFaces(actorId, input) {
      await requireActor(actorId);
      const pictures = sources(input);
      const models = await deps.models();
      await ensureCollection(models);
      const result: AddFacesResult = { added: 0, skipped: [] };
      for (const picture of pictures) {
        let prepared: PreparedFace[];
        try {
          prepared = await prepareFace(models, picture, actorId, maxPixels);
        } catch (err) {
          const unusable = err instanceof UnusablePicture || err instanceof BadInputError;
          if (!unusable) throw err;
          result.skipped.push({ source: picture.label, reason: err.message });
          continue;
        }
        await actors.addFaceTemplates(prepared.map((p) => p.template));
        await storeVectors(prepared);
        result.added++;
      }
      return result;
    },

    async updateActor(id, input) {
      await requireActor(id);
      const patch = {
        ...(input.name !== undefined && input.name !== null ? { name: cleanName(input.name) } : {}),
        ...(input.aliases !== undefined && input.aliases !== null ? { aliases: cleanAliases(input.aliases) } : {}),
      };
      const updated = await actors.updateActor(id, patch);
      if (!updated) throw new NotFoundError('actor', id);
      return updated;
    },

    async deleteActor(id) {
      const templateIds = await actors.deleteActor(id);
      if (templateIds === null) throw new NotFoundError('actor', id);
      await store.vectors.delete(ACTOR_FACES_COLLECTION, templateIds);
      await deps.voices?.deleteForActor(id);
      // Their tracks become unknown faces again and their spans go: no timeline names a deleted actor.
      await store.appearances.forgetActor(id);
      log.info({ actorId: id, faces: templateIds.length }, 'actor and biometric templates deleted');
    },

    getActor: (id) => actors.getActor(id),
    getActors: (ids) => actors.getActors(ids),
    listActors: (query, first, after) => pageFromStore((page) => actors.listActors(query?.trim() || null, page), first, after),
    faceCounts: (actorIds) => actors.countFaceTemplates(actorIds),

    async thumbnail(actorId) {
      const templates = await actors.listFaceTemplates(actorId);
      return templates.find((t) => t.thumbnail)?.thumbnail ?? null;
    },

    async identifyFace(embedding) {
      const models = await deps.models();
      if (embedding.length !== models.embedder.dim) {
        throw new BadInputError(`embedding has ${embedding.length} values; the face model makes ${models.embedder.dim}`);
      }
      await ensureCollection(models);
      // An actor scores as its closest template (max over templates), so the single nearest
      // template names the best actor.
      const [best] = await store.vectors.search(ACTOR_FACES_COLLECTION, embedding, 1);
      if (!best || typeof best.payload.actorId !== 'string' || best.score < FACE_MATCH_THRESHOLD) return null;
      return { actorId: best.payload.actorId as string, similarity: best.score, confidence: confidenceFromSimilarity(best.score) };
    },

    async scoreFace(embedding, limit = SCORED_ACTORS, among = null) {
      const models = await deps.models();
      if (embedding.length !== models.embedder.dim) {
        throw new BadInputError(`embedding has ${embedding.length} values; the face model makes ${models.embedder.dim}`);
      }
      await ensureCollection(models);
      const filter = among?.length ? { actorIds: among } : undefined;
      const hits = await store.vectors.search(ACTOR_FACES_COLLECTION, embedding, limit * TEMPLATE_HITS_PER_ACTOR, filter);
      const best = new Map<string, number>();
      for (const hit of hits) {
        const actorId = hit.payload.actorId;
        if (typeof actorId === 'string' && !best.has(actorId)) best.set(actorId, hit.score);
      }
      return [...best].slice(0, limit).map(([actorId, similarity]) => ({ actorId, similarity }));
    },

    async embedLargestFace(image) {
      const models = await deps.models();
      const faces = await models.detector.detect(image);
      const face = faces.reduce<DetectedFace | null>((a, b) => (!a || b.box.width * b.box.height > a.box.width * a.box.height ? b : a), null);
      return face ? { face, embedding: await models.embedder.embed(image, face) } : null;
    },
  };
}
