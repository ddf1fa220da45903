// Voice clusters: the voices diarisation grouped inside one video (store/voice-clusters.ts), and
// editors naming them. VOICE appearance spans of a video are always rebuilt from its clusters'
// turns, so naming a cluster updates past appearances without a re-index.
import { randomUUID } from 'node:crypto';
import { BadInputError, NotFoundError } from '../errors.js';
import { voiceSpans } from '../indexers/voice-spans.js';
import type { ActorRecord, ActorRepository } from '../store/actors.js';
import type { AppearanceRepository } from '../store/appearances.js';
import type { VoiceClusterRecord, VoiceClusterRepository } from '../store/voice-clusters.js';
import { pageFromStore, type Connection } from './pagination.js';

/** An editor's decision is certain. */
const EDITOR_CONFIDENCE = 1;
const MAX_NAME_LENGTH = 200;
export const MAX_SAMPLE_TURNS = 20;

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
  clusters: VoiceClusterRepository;
  appearances: Pick<AppearanceRepository, 'replaceSpans'>;
  actors: Pick<ActorRepository, 'getActor' | 'createActor'>;
  templates: VoiceTemplates;
  /** The speaker embedder in use: a cluster's voice becomes a template only when the same model made it. */
  voiceModel(): Promise<{ modelId: string }>;
}

/** The video's VOICE spans from every turn its clusters gave to an actor. */
async function rebuildVoiceSpans(clusters: VoiceClusterRepository, appearances: Pick<AppearanceRepository, 'replaceSpans'>, videoId: string): Promise<void> {
  const turns = (await clusters.listOfVideo(videoId)).flatMap((c) => c.turns);
  await appearances.replaceSpans(videoId, 'VOICE', voiceSpans({ id: videoId }, turns));
}

/**
 * The clusters with everything given to `fromId` given to `toId` instead (merging actors), or with
 * null made unknown again (deleting the actor: the turns lose their confidence and own match too).
 */
export function reassignClusters(clusters: readonly VoiceClusterRecord[], fromId: string, toId: string | null, now: string): VoiceClusterRecord[] {
  return clusters.map((c) => {
    const own = c.actorId === fromId;
    return {
      ...c,
      actorId: own ? toId : c.actorId,
      origin: own && toId === null ? null : c.origin,
      turns: c.turns.map((t) => (t.actorId !== fromId ? t : toId === null ? { ...t, actorId: null, confidence: 0, ownMatch: false } : { ...t, actorId: toId })),
      updatedAt: now,
    };
  });
}

export function createVoiceClusterService(deps: VoiceClusterServiceDeps): VoiceClusterService {
  const store = deps.clusters;

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
      pageFromStore((page) => store.list({ named }, page), first, after),

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
      const vector = await store.getVector(cluster.id);
      const model = await deps.voiceModel();
      const templateAdded =
        vector !== null && cluster.modelId === model.modelId
          ? (await deps.templates.addTemplateVectors(actor.id, [{ vector, source: `voice cluster ${cluster.id}`, speechSec: cluster.speechSec, modelId: cluster.modelId }])) > 0
          : false;
      return { cluster: named, actor, turnsNamed, templateAdded };
    },

    async moveActor(sourceId, targetId) {
      const touched = await store.listOfActor(sourceId);
      await store.update(reassignClusters(touched, sourceId, targetId, new Date().toISOString()));
      for (const videoId of new Set(touched.map((c) => c.videoId))) await rebuildVoiceSpans(store, deps.appearances, videoId);
      await deps.templates.moveTemplates(sourceId, targetId);
    },

    purgeUnknownVoices: (before) => store.purgeUnknown(before),
  };
}
