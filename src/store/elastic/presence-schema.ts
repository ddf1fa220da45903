// The presence indices in Elasticsearch: actors (one document per actor, its face templates
// inside) and the appearance family (face tracks, faces, unknown-face clusters, appearance spans
// and one state document per video holding its current generations). Versioned indices behind
// `<prefix>-<name>` aliases with strict mappings (documents.ts); what is only read back (vectors,
// thumbnails, boxes, aliases) is kept in _source without being indexed.
import type { Client } from '@elastic/elasticsearch';
import { BINARY, DOUBLE, INTEGER, KEYWORD, LONG, migrateIndexFamily, OPAQUE, STORED_ONLY, type IndexFamily, type Mapping } from './documents.js';
import type { VersionedIndexResult } from './schema.js';

export const PRESENCE_SCHEMA_VERSION = 1;

export type ActorIndex = 'actors';
export type AppearanceIndex = 'face-tracks' | 'faces' | 'face-clusters' | 'appearance-spans' | 'appearance-videos';

/** The sets a replace swaps with one generation flip: tracks with their faces, and spans per evidence. */
export type PresenceSlot = 'faces' | 'FACE' | 'VOICE';
export const PRESENCE_SLOTS: readonly PresenceSlot[] = ['faces', 'FACE', 'VOICE'];

export const ACTORS_FAMILY: IndexFamily<ActorIndex> = {
  version: PRESENCE_SCHEMA_VERSION,
  properties: {
    actors: {
      id: KEYWORD,
      name: STORED_ONLY,
      // ASCII-lower-cased name: sorts like SQLite's `name COLLATE NOCASE` (the embedded order).
      nameKey: KEYWORD,
      aliases: STORED_ONLY,
      // Name and aliases case-folded: listActors' substring match is a wildcard query on them.
      namesFolded: { type: 'wildcard' },
      createdAt: KEYWORD,
      updatedAt: KEYWORD,
      // getFaceTemplate and deleteFaceTemplates find the owning actor by template id.
      templateIds: KEYWORD,
      // Kept whole (thumbnails as base64): read with the actor, never searched.
      templates: OPAQUE,
    },
  },
};

const GENERATION: Mapping = LONG;

export const APPEARANCES_FAMILY: IndexFamily<AppearanceIndex> = {
  version: PRESENCE_SCHEMA_VERSION,
  properties: {
    'face-tracks': {
      id: KEYWORD,
      videoId: KEYWORD,
      generation: GENERATION,
      shotIndex: INTEGER,
      start: DOUBLE,
      end: DOUBLE,
      faceCount: INTEGER,
      actorId: KEYWORD,
      clusterId: KEYWORD,
      similarity: DOUBLE,
      confidence: DOUBLE,
      bestFaceId: KEYWORD,
      // Float32 little-endian bytes: read back for clustering, never searched.
      embedding: BINARY,
      modelId: KEYWORD,
    },
    faces: {
      id: KEYWORD,
      videoId: KEYWORD,
      trackId: KEYWORD,
      generation: GENERATION,
      time: DOUBLE,
      box: OPAQUE,
      detectionScore: DOUBLE,
      quality: DOUBLE,
      thumbnail: BINARY,
    },
    'face-clusters': {
      id: KEYWORD,
      actorId: KEYWORD,
      size: INTEGER,
      vectorSum: BINARY,
      modelId: KEYWORD,
      bestFaceId: KEYWORD,
      bestFaceQuality: DOUBLE,
      // ISO-8601 strings as keywords: the embedded order, cursors and `updatedAt < before`.
      createdAt: KEYWORD,
      updatedAt: KEYWORD,
    },
    'appearance-spans': {
      id: KEYWORD,
      videoId: KEYWORD,
      actorId: KEYWORD,
      generation: GENERATION,
      start: DOUBLE,
      end: DOUBLE,
      confidence: DOUBLE,
      evidence: KEYWORD,
      sourceIds: STORED_ONLY,
      bestFaceId: KEYWORD,
    },
    'appearance-videos': {
      videoId: KEYWORD,
      // Millisecond clock readings (beyond the integer range), one per replaceable set.
      generations: { type: 'object', properties: Object.fromEntries(PRESENCE_SLOTS.map((slot) => [slot, GENERATION])) },
    },
  },
};

/**
 * One document per voice cluster (`_id` = cluster id). `actorIds` lists every actor the cluster
 * names, its own and its turns' (listOfActor; none = nobody is known in it); the turns and the
 * embedding are only read back.
 */
export const VOICE_CLUSTERS_FAMILY: IndexFamily<'voice-clusters'> = {
  version: PRESENCE_SCHEMA_VERSION,
  properties: {
    'voice-clusters': {
      id: KEYWORD,
      videoId: KEYWORD,
      actorId: KEYWORD,
      actorIds: KEYWORD,
      origin: KEYWORD,
      linkedTrackId: KEYWORD,
      linkedShare: DOUBLE,
      linkedFaceId: KEYWORD,
      turns: OPAQUE,
      speechSec: DOUBLE,
      modelId: KEYWORD,
      // Float32 little-endian bytes.
      vector: BINARY,
      createdAt: KEYWORD,
      updatedAt: KEYWORD,
    },
  },
};

export async function migrateActorIndices(client: Client, prefix: string): Promise<{ aliases: Record<ActorIndex, string>; results: Record<ActorIndex, VersionedIndexResult> }> {
  return migrateIndexFamily(client, prefix, ACTORS_FAMILY);
}

export async function migrateAppearanceIndices(
  client: Client,
  prefix: string,
): Promise<{ aliases: Record<AppearanceIndex, string>; results: Record<AppearanceIndex, VersionedIndexResult> }> {
  return migrateIndexFamily(client, prefix, APPEARANCES_FAMILY);
}
