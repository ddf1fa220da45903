// Voice clusters: the voices diarisation grouped inside one video, kept so editors can name the
// unknown ones. A cluster is one point of the vector index (its mean speaker embedding) whose
// payload holds the video, the speech turns with the actor each turn was given, and the face
// track it was linked to (active speaker). VOICE appearance spans of a video are always rebuilt
// from its clusters' turns, so naming a cluster updates past appearances without a re-index.
import { randomUUID } from 'node:crypto';
import { BadInputError, NotFoundError } from '../errors.js';
import { voiceSpans, type AttributedTurn } from '../indexers/voice-spans.js';
import type { ActorRecord, ActorRepository } from '../store/actors.js';
import type { AppearanceRepository } from '../store/appearances.js';
import type { VectorIndex, VectorPayload } from '../store/interfaces.js';
import { pageFromStore, type Connection } from './pagination.js';

export const VOICE_CLUSTERS_COLLECTION = 'voice_clusters';
/** An editor's decision is certain. */
const EDITOR_CONFIDENCE = 1;
const MAX_NAME_LENGTH = 200;
export const MAX_SAMPLE_TURNS = 20;

/** How a cluster got its actor: its voice matched a template, the face on screen, or an editor. */
export type VoiceClusterOrigin = 'VOICE' | 'FACE' | 'EDITOR';

export interface VoiceTurnRecord extends AttributedTurn {
  /** Set when the turn matched an enrolled voice on its own (kept when the cluster is renamed). */
  ownMatch: boolean;
}

export interface VoiceClusterRecord {
  /** Also the id of the cluster's vector in VOICE_CLUSTERS_COLLECTION. */
  id: string;
  videoId: string;
  actorId: string | null;
  origin: VoiceClusterOrigin | null;
  /** The face track alone on screen for most of this voice's speech (active speaker). */
  linkedTrackId: string | null;
  /** Share of the speech during which that track was the only face on screen. */
  linkedShare: number;
  /** The linked track's best face (a picture for editors). */
  linkedFaceId: string | null;
  turns: VoiceTurnRecord[];
  speechSec: number;
  modelId: string;
  createdAt: string;
  updatedAt: string;
}

export interface VoiceClusterWithVector {
  record: VoiceClusterRecord;
  vector: Float32Array;
}

/** The voice-cluster records on top of the vector index (payload values are scalars: turns go as JSON). */
export class VoiceClusterStore {
  constructor(private readonly vectors: VectorIndex) {}

  /** Replaces the video's clusters (a re-index gives new ones). */
  async replaceVideo(videoId: string, clusters: readonly VoiceClusterWithVector[], modelId: string): Promise<void> {
    const old = await this.list({ videoId });
    if (old.length) await this.vectors.delete(VOICE_CLUSTERS_COLLECTION, old.map((c) => c.id));
    if (clusters.length === 0) return;
    await this.vectors.ensureCollection({ name: VOICE_CLUSTERS_COLLECTION, dim: clusters[0]!.vector.length, metric: 'cosine', modelId });
    await this.put(clusters);
  }

  async put(clusters: readonly VoiceClusterWithVector[]): Promise<void> {
    // Nothing to write (e.g. an actor with no voice clusters): the collection may not exist yet.
    if (clusters.length === 0) return;
    await this.vectors.upsert(VOICE_CLUSTERS_COLLECTION, clusters.map(({ record, vector }) => ({ id: record.id, vector, payload: toPayload(record) })));
  }

  /** Updates records keeping their vectors. */
  async update(records: readonly VoiceClusterRecord[]): Promise<void> {
    const points = await this.vectors.get(VOICE_CLUSTERS_COLLECTION, records.map((r) => r.id));
    await this.put(records.flatMap((record, i) => (points[i] ? [{ record, vector: points[i]!.vector }] : [])));
  }

  async get(id: string): Promise<VoiceClusterRecord | null> {
    const [point] = await this.vectors.get(VOICE_CLUSTERS_COLLECTION, [id]);
    return point ? fromPayload(point.id, point.payload) : null;
  }

  /** Every cluster matching the filter, newest first (then id). */
  async list(filter: { videoId?: string; actorId?: string; named?: boolean }): Promise<VoiceClusterRecord[]> {
    const total = await this.vectors.count(VOICE_CLUSTERS_COLLECTION);
    if (total === 0) return [];
    const records = await this.vectors.scroll(
      VOICE_CLUSTERS_COLLECTION,
      {
        ...(filter.videoId ? { videoIds: [filter.videoId] } : {}),
        ...(filter.actorId ? { actorIds: [filter.actorId] } : {}),
        ...(filter.named !== undefined ? { equals: { named: filter.named } } : {}),
      },
      total,
    );
    return records.map((r) => fromPayload(r.id, r.payload)).sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }

  async delete(ids: readonly string[]): Promise<void> {
    if (ids.length) await this.vectors.delete(VOICE_CLUSTERS_COLLECTION, ids);
  }
}

function toPayload(r: VoiceClusterRecord): VectorPayload {
  return {
    videoId: r.videoId,
    // Omitted while unknown: the vector filter on actorIds then never matches it.
    ...(r.actorId ? { actorId: r.actorId } : {}),
    named: r.actorId !== null,
    origin: r.origin,
    linkedTrackId: r.linkedTrackId,
    linkedShare: r.linkedShare,
    linkedFaceId: r.linkedFaceId,
    turns: JSON.stringify(r.turns),
    speechSec: r.speechSec,
    modelId: r.modelId,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

function fromPayload(id: string, p: VectorPayload): VoiceClusterRecord {
  const str = (key: string): string | null => (typeof p[key] === 'string' ? (p[key] as string) : null);
  const num = (key: string): number => (typeof p[key] === 'number' ? (p[key] as number) : 0);
  return {
    id,
    videoId: str('videoId') ?? '',
    actorId: str('actorId'),
    origin: (str('origin') as VoiceClusterOrigin | null) ?? null,
    linkedTrackId: str('linkedTrackId'),
    linkedShare: num('linkedShare'),
    linkedFaceId: str('linkedFaceId'),
    turns: JSON.parse(str('turns') ?? '[]') as VoiceTurnRecord[],
    speechSec: num('speechSec'),
    modelId: str('modelId') ?? '',
    createdAt: str('createdAt') ?? '',
    updatedAt: str('updatedAt') ?? '',
  };
}

export interface NameVoiceClusterInput {
  actorId?: string | null;
  newActorName?: string | null;
}

export interface NameVoiceClusterResult {
  cluster: VoiceClusterRecord;
  actor: ActorRecord;
  /** Speech turns that became the actor's VOICE appearances. */
  turnsNamed: number;
  /** Whether the cluster's voice became one of the actor's voice templates. */
  templateAdded: boolean;
}

/** What the cluster service needs from the voice service: templates made from cluster voices. */
export interface VoiceTemplates {
  addTemplateVectors(actorId: string, samples: readonly { vector: Float32Array; source: string; speechSec: number; modelId: string }[]): Promise<number>;
  moveTemplates(sourceId: string, targetId: string): Promise<void>;
}

export interface VoiceClusterService {
  /** Unnamed clusters by default (named: true → named ones, null → all); newest first. */
  voiceClusters(first?: number | null, after?: string | null, named?: boolean | null): Promise<Connection<VoiceClusterRecord>>;
  getCluster(id: string): Promise<VoiceClusterRecord | null>;
  /** Names the cluster: its unknown turns become the actor's VOICE spans at once, its voice a template. */
  nameVoiceCluster(clusterId: string, input: NameVoiceClusterInput): Promise<NameVoiceClusterResult>;
  /** mergeActors: clusters, turns and voice templates of `sourceId` become `targetId`'s. */
  moveActor(sourceId: string, targetId: string): Promise<void>;
  /** Deletes clusters that nobody is known in (no actor, no turn identified) untouched since `before`; returns how many went. */
  purgeUnknownVoices(before: string): Promise<number>;
}

export interface VoiceClusterServiceDeps {
  vectors: VectorIndex;
  appearances: Pick<AppearanceRepository, 'replaceSpans'>;
  actors: Pick<ActorRepository, 'getActor' | 'createActor'>;
  templates: VoiceTemplates;
  /** The speaker embedder in use (its vector length and id). */
  voiceModel(): Promise<{ dim: number; modelId: string }>;
}

/** The video's VOICE spans from every turn its clusters gave to an actor. */
export async function rebuildVoiceSpans(clusters: VoiceClusterStore, appearances: Pick<AppearanceRepository, 'replaceSpans'>, videoId: string): Promise<void> {
  const turns = (await clusters.list({ videoId })).flatMap((c) => c.turns);
  await appearances.replaceSpans(videoId, 'VOICE', voiceSpans({ id: videoId }, turns));
}

const isKnown = (c: VoiceClusterRecord): boolean => c.actorId !== null || c.turns.some((t) => t.actorId !== null);

export function createVoiceClusterService(deps: VoiceClusterServiceDeps): VoiceClusterService {
  const store = new VoiceClusterStore(deps.vectors);

  async function actorForNaming(input: NameVoiceClusterInput): Promise<ActorRecord> {
    const hasId = typeof input.actorId === 'string' && input.actorId !== '';
    const name = typeof input.newActorName === 'string' ? input.newActorName.trim() : '';
    if (hasId === (name !== '')) throw new BadInputError('give exactly one of actorId or newActorName', { field: hasId ? 'newActorName' : 'actorId' });
    if (hasId) {
      const actor = await deps.actors.getActor(input.actorId!);
      if (!actor) throw new NotFoundError('actor', input.actorId!);
      return actor;
    }
    if (name.length > MAX_NAME_LENGTH) throw new BadInputError(`newActorName is longer than ${MAX_NAME_LENGTH} characters`, { field: 'newActorName' });
    const now = new Date().toISOString();
    const actor: ActorRecord = { id: randomUUID(), name, aliases: [], createdAt: now, updatedAt: now };
    await deps.actors.createActor(actor, []);
    return actor;
  }

  return {
    voiceClusters: (first, after, named = false) =>
      pageFromStore(async (page) => {
        const all = await store.list(named === null || named === undefined ? {} : { named });
        const offset = page.after ? decodeOffset(page.after) : 0;
        const items = all.slice(offset, offset + page.first);
        const end = offset + items.length;
        return { items, endCursor: items.length ? encodeOffset(end) : (page.after ?? null), hasNextPage: end < all.length, totalCount: all.length };
      }, first, after),

    getCluster: (id) => store.get(id),

    async nameVoiceCluster(clusterId, input) {
      const cluster = await store.get(clusterId);
      if (!cluster) throw new NotFoundError('voice cluster', clusterId);
      const actor = await actorForNaming(input);
      // Like nameFaceCluster: turns that matched another enrolled voice on their own keep it.
      let turnsNamed = 0;
      const turns = cluster.turns.map((t) => {
        if (t.ownMatch && t.actorId !== null && t.actorId !== cluster.actorId) return t;
        turnsNamed++;
        return { ...t, actorId: actor.id, confidence: EDITOR_CONFIDENCE };
      });
      const named: VoiceClusterRecord = { ...cluster, actorId: actor.id, origin: 'EDITOR', turns, updatedAt: new Date().toISOString() };
      await store.update([named]);
      await rebuildVoiceSpans(store, deps.appearances, cluster.videoId);
      // The cluster's voice teaches identification the person for every later video.
      const [point] = await deps.vectors.get(VOICE_CLUSTERS_COLLECTION, [cluster.id]);
      const model = await deps.voiceModel();
      const templateAdded =
        point !== null && point !== undefined && cluster.modelId === model.modelId
          ? (await deps.templates.addTemplateVectors(actor.id, [{ vector: point.vector, source: `voice cluster ${cluster.id}`, speechSec: cluster.speechSec, modelId: cluster.modelId }])) > 0
          : false;
      return { cluster: named, actor, turnsNamed, templateAdded };
    },

    async moveActor(sourceId, targetId) {
      const touched = (await store.list({})).filter((c) => c.actorId === sourceId || c.turns.some((t) => t.actorId === sourceId));
      const now = new Date().toISOString();
      await store.update(
        touched.map((c) => ({
          ...c,
          actorId: c.actorId === sourceId ? targetId : c.actorId,
          turns: c.turns.map((t) => (t.actorId === sourceId ? { ...t, actorId: targetId } : t)),
          updatedAt: now,
        })),
      );
      for (const videoId of new Set(touched.map((c) => c.videoId))) await rebuildVoiceSpans(store, deps.appearances, videoId);
      await deps.templates.moveTemplates(sourceId, targetId);
    },

    async purgeUnknownVoices(before) {
      const stale = (await store.list({ named: false })).filter((c) => !isKnown(c) && c.updatedAt < before);
      await store.delete(stale.map((c) => c.id));
      return stale.length;
    },
  };
}

function encodeOffset(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64url');
}

function decodeOffset(raw: string): number {
  let offset: unknown;
  try {
    offset = (JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { offset?: unknown }).offset;
  } catch {
    offset = null;
  }
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) throw new BadInputError('bad voice cluster cursor', { field: 'after' });
  return offset;
}
