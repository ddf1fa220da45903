// The actors seam: named people, their aliases, and metadata of their face templates. The face
// vectors themselves live in the vector index (collection ACTOR_FACES_COLLECTION, payload
// actorId, point id = template id); this repository keeps what a vector index should not:
// where each template came from and a small thumbnail of the face.
import type { Page, PageArgs } from '../domain.js';

export const ACTOR_FACES_COLLECTION = 'actor_faces';

export interface ActorRecord {
  id: string;
  name: string;
  aliases: string[];
  createdAt: string;
  updatedAt: string;
}

export interface ActorPatch {
  name?: string;
  aliases?: string[];
}

export interface FaceTemplateRecord {
  /** Also the id of the template's vector in ACTOR_FACES_COLLECTION. */
  id: string;
  actorId: string;
  /** The embedder that made the vector. */
  modelId: string;
  /** Where the face came from: a file path, "upload #1", "base64 #2", a cluster id… */
  source: string;
  /** Small JPEG of the aligned face, for editors; null when none was kept. */
  thumbnail: Buffer | null;
  createdAt: string;
}

export interface ActorRepository {
  /** Inserts the actor and its templates in one transaction (enrolment is all-or-nothing). */
  createActor(actor: ActorRecord, templates: readonly FaceTemplateRecord[]): Promise<void>;
  getActor(id: string): Promise<ActorRecord | null>;
  /** Same order as `ids`; null where missing (DataLoader contract). */
  getActors(ids: readonly string[]): Promise<(ActorRecord | null)[]>;
  updateActor(id: string, patch: ActorPatch): Promise<ActorRecord | null>;
  /** Deletes the actor and its template rows; returns the deleted template ids (to drop their vectors). */
  deleteActor(id: string): Promise<string[] | null>;
  /**
   * Actors ordered by name then id; `query` matches a case-insensitive substring of the name or
   * of any alias.
   */
  listActors(query: string | null, page: PageArgs): Promise<Page<ActorRecord>>;

  addFaceTemplates(templates: readonly FaceTemplateRecord[]): Promise<void>;
  deleteFaceTemplates(ids: readonly string[]): Promise<void>;
  listFaceTemplates(actorId: string): Promise<FaceTemplateRecord[]>;
  getFaceTemplate(id: string): Promise<FaceTemplateRecord | null>;
  /** Template counts per actor, same order as `actorIds`. */
  countFaceTemplates(actorIds: readonly string[]): Promise<number[]>;
  /** Every template row (for re-embedding after a model change); ordered by actor then id. */
  allFaceTemplates(): Promise<FaceTemplateRecord[]>;
}
