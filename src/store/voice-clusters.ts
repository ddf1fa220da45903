// The voice-cluster seam: the voices diarisation grouped inside one video, kept so editors can
// name the unknown ones. Each cluster holds its speech turns with the actor each turn was given,
// the face track it was linked to (active speaker) and its mean speaker embedding (read only when
// the cluster's voice becomes a template, so listings leave it out).
import type { Page, PageArgs } from '../domain.js';

/** How a cluster got its actor: its voice matched a template, the face on screen, or an editor. */
export type VoiceClusterOrigin = 'VOICE' | 'FACE' | 'EDITOR';

/** A stretch of one voice's speech and who it was attributed to. */
export interface VoiceTurnRecord {
  id: string;
  start: number;
  end: number;
  actorId: string | null;
  confidence: number;
  /** Set when the turn matched an enrolled voice on its own (kept when the cluster is renamed). */
  ownMatch: boolean;
}

export interface VoiceClusterRecord {
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
  /** The speaker model that made the cluster's embedding. */
  modelId: string;
  createdAt: string;
  updatedAt: string;
}

export interface VoiceClusterWithVector {
  record: VoiceClusterRecord;
  /** The mean speaker embedding of the cluster's turns. */
  vector: Float32Array;
}

export interface VoiceClusterFilter {
  /** true: clusters with an actor; false: clusters without one; null/undefined: all. */
  named?: boolean | null;
}

export interface VoiceClusterRepository {
  /** Replaces the video's clusters with these (a re-index gives new ones; none → the video has none). */
  replaceVideo(videoId: string, clusters: readonly VoiceClusterWithVector[]): Promise<void>;
  get(id: string): Promise<VoiceClusterRecord | null>;
  /** The cluster's embedding (made by its record's modelId), or null when there is no such cluster. */
  getVector(id: string): Promise<Float32Array | null>;
  /** The video's clusters by id. */
  listOfVideo(videoId: string): Promise<VoiceClusterRecord[]>;
  /** Clusters given to the actor, as the cluster's actor or in any of its turns, by id. */
  listOfActor(actorId: string): Promise<VoiceClusterRecord[]>;
  /** A page of clusters, newest first (then id, descending). */
  list(filter: VoiceClusterFilter, page: PageArgs): Promise<Page<VoiceClusterRecord>>;
  /**
   * Writes the records' actor, origin, turns and updatedAt over the stored clusters (embedding,
   * video, model and creation stay); a record whose cluster is gone (the video was re-indexed or
   * deleted meanwhile) is skipped, never written back.
   */
  update(records: readonly VoiceClusterRecord[]): Promise<void>;
  /** Deletes the clusters nobody is known in (no actor, no turn given to one) last updated before `before`; returns how many went. */
  purgeUnknown(before: string): Promise<number>;
  deleteVideo(videoId: string): Promise<void>;
}

/** Every actor a cluster names: its own and its turns', without repeats (what listOfActor finds it by). */
export function actorsOfCluster(record: Pick<VoiceClusterRecord, 'actorId' | 'turns'>): string[] {
  const ids = new Set<string>();
  if (record.actorId !== null) ids.add(record.actorId);
  for (const turn of record.turns) if (turn.actorId !== null) ids.add(turn.actorId);
  return [...ids];
}
