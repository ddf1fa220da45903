// The catalog's indices in Elasticsearch: videos, shots, segments, cues and stage artifacts, each a
// versioned index behind its alias (`<prefix>-videos` → `<prefix>-videos-v<N>`, schema.ts), with
// strict explicit mappings: ids are keywords, times doubles, and what is only ever read back
// (cue text, error messages, artifact JSON) is kept in _source without being indexed.
//
// Generations: shots, segments and cues carry the `generation` they were written under; the video
// document holds the current generation per replaceable set (`generations.structure` for shots and
// segments, `generations.<SOURCE>` for cues of that source). See catalog.ts.
import type { Client } from '@elastic/elasticsearch';
import type { CueSource } from '../../domain.js';
import { DOUBLE, INTEGER, KEYWORD, LONG, migrateIndexFamily, STORED_ONLY, type IndexFamily, type Mapping } from './documents.js';
import { indexNames, type IndexNames, type VersionedIndexResult } from './schema.js';

/** 2: videos carry `cast` (actor ids); opening a v1 deployment copies every catalog index forward. */
export const CATALOG_SCHEMA_VERSION = 2;

export const CUE_SOURCES: readonly CueSource[] = ['SIDECAR', 'EMBEDDED', 'OCR'];

/** The sets a replace swaps in one generation flip. */
export type GenerationSlot = 'structure' | CueSource;

export type CatalogIndex = 'videos' | 'shots' | 'segments' | 'cues' | 'artifacts';
export const CATALOG_INDICES: readonly CatalogIndex[] = ['videos', 'shots', 'segments', 'cues', 'artifacts'];

export function catalogIndexNames(prefix: string): Record<CatalogIndex, IndexNames> {
  return Object.fromEntries(CATALOG_INDICES.map((name) => [name, indexNames(prefix, name)])) as Record<CatalogIndex, IndexNames>;
}

const PROPERTIES: Record<CatalogIndex, Record<string, Mapping>> = {
  videos: {
    id: KEYWORD,
    path: KEYWORD,
    contentHash: KEYWORD,
    title: STORED_ONLY,
    // NFKC + lower-cased title: titleContains is a wildcard query on it (exact substring semantics).
    titleFolded: { type: 'wildcard' },
    series: KEYWORD,
    season: INTEGER,
    episode: INTEGER,
    // Actor ids (an array of keywords; absent or null = no cast).
    cast: KEYWORD,
    durationSec: DOUBLE,
    fps: DOUBLE,
    width: INTEGER,
    height: INTEGER,
    rotation: INTEGER,
    startTime: DOUBLE,
    hasAudio: { type: 'boolean' },
    status: KEYWORD,
    error: STORED_ONLY,
    // ISO-8601 strings sorted as keywords: the same order (and cursors) as the embedded catalog.
    createdAt: KEYWORD,
    updatedAt: KEYWORD,
    // Generations are millisecond clock readings (catalog.ts), beyond the integer range.
    generations: { type: 'object', properties: Object.fromEntries((['structure', ...CUE_SOURCES] as const).map((slot) => [slot, LONG])) },
  },
  shots: {
    id: KEYWORD,
    videoId: KEYWORD,
    generation: LONG,
    index: INTEGER,
    start: DOUBLE,
    end: DOUBLE,
    keyframeTime: DOUBLE,
    transition: KEYWORD,
  },
  segments: {
    id: KEYWORD,
    videoId: KEYWORD,
    generation: LONG,
    index: INTEGER,
    shotIndex: INTEGER,
    start: DOUBLE,
    end: DOUBLE,
    keyframeTime: DOUBLE,
  },
  cues: {
    id: KEYWORD,
    videoId: KEYWORD,
    generation: LONG,
    segmentId: KEYWORD,
    start: DOUBLE,
    end: DOUBLE,
    text: STORED_ONLY,
    kind: KEYWORD,
    source: KEYWORD,
    lang: KEYWORD,
  },
  artifacts: {
    videoId: KEYWORD,
    stage: KEYWORD,
    // The stage's JSON output as a string: its shape differs per stage and is never queried.
    data: STORED_ONLY,
    updatedAt: KEYWORD,
  },
};

export type CatalogMigration = Record<CatalogIndex, VersionedIndexResult>;

const CATALOG_FAMILY: IndexFamily<CatalogIndex> = { version: CATALOG_SCHEMA_VERSION, properties: PROPERTIES };

/** Brings every catalog index to CATALOG_SCHEMA_VERSION (create, or copy forward and swap the alias). */
export async function migrateCatalogIndices(client: Client, prefix: string): Promise<CatalogMigration> {
  return (await migrateIndexFamily(client, prefix, CATALOG_FAMILY)).results;
}
