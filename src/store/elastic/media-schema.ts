// Index families of the media-derived repositories on Elasticsearch: technical cues (technical.ts),
// episode fingerprints and skip markers (intro.ts), and per-frame evidence (frame-evidence.ts).
// Strict mappings; what is only read back whole sits in OPAQUE or BINARY fields, never indexed.
import { BINARY, BOOLEAN, DOUBLE, INTEGER, KEYWORD, LONG, OPAQUE, type ElasticDocuments, type IndexFamily, type Mapping } from './documents.js';

/** One document per (video, set): `set` is 'cues', 'quality' or 'flags'; `records` the whole set. */
export const TECHNICAL_FAMILY: IndexFamily<'technical'> = {
  version: 1,
  properties: {
    technical: { videoId: KEYWORD, set: KEYWORD, records: OPAQUE },
  },
};

/** A fingerprint window's hashes as little-endian bytes (base64 in _source). */
const FINGERPRINT_WINDOW: Mapping = {
  type: 'object',
  properties: { start: DOUBLE, visual: BINARY, visualInformative: BINARY, audio: BINARY },
};

/**
 * fingerprints: one document per video. skip-markers: one document per video holding its
 * automatic and its editors' markers, each a map by kind (null = none), so a partial update of
 * one map is atomic and leaves the other alone.
 */
export const INTRO_FAMILY: IndexFamily<'fingerprints' | 'skip-markers'> = {
  version: 1,
  properties: {
    fingerprints: {
      videoId: KEYWORD,
      durationSec: DOUBLE,
      visualStepSec: DOUBLE,
      audioStepSec: DOUBLE,
      version: INTEGER,
      head: FINGERPRINT_WINDOW,
      tail: FINGERPRINT_WINDOW,
    },
    'skip-markers': { videoId: KEYWORD, auto: OPAQUE, editor: OPAQUE },
  },
};

/**
 * One document per (video, millisecond); the picture, features and grey thumbnail are never
 * searched. Version 2 adds the thumbnail (and its width); documents copied from version 1 have none.
 */
export const FRAME_EVIDENCE_FAMILY: IndexFamily<'frame-evidence'> = {
  version: 2,
  properties: {
    'frame-evidence': {
      videoId: KEYWORD,
      model: KEYWORD,
      timeMs: LONG,
      repeat: BOOLEAN,
      picture: BINARY,
      features: BINARY,
      thumbnail: BINARY,
      thumbnailWidth: INTEGER,
    },
  },
};

/**
 * Deletes documents by id in one bulk request (a missing one is no error). No refresh: these
 * documents are read by id, which is real-time.
 */
export async function deleteByIds(documents: ElasticDocuments, targets: readonly { index: string; id: string }[]): Promise<void> {
  const response = await documents.call(() => documents.client.bulk({ operations: targets.map((t) => ({ delete: { _index: t.index, _id: t.id } })) }));
  const failed = response.items.flatMap((item) => (item.delete?.error ? [`${item.delete._id}: ${item.delete.error.reason ?? item.delete.error.type}`] : []));
  if (failed.length > 0) throw new Error(`Elasticsearch delete failed for ${failed.length} of ${targets.length} documents: ${failed.slice(0, 3).join('; ')}`);
}
