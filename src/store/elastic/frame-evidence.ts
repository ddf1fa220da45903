// FrameEvidenceRepository on Elasticsearch, with the embedded repository's contract
// (test/store/conformance-media.ts).
//
// One document per (video, millisecond), as the embedded table's key: adding a frame at a time
// already stored overwrites it, whatever model made the older one. The JPEG, the packed
// features and the grey thumbnail (its width beside it) are BINARY fields (base64 in _source, no doc values, never searched); a verification
// window is one range search on (video, model, time) sorted by time, plus one more request only
// when the range opens on repeats (the frame they repeat lies before it).
//
// Frames arrive in batches during the frames stage through the bulk helper (it splits requests
// by bytes: ~20 KB per frame). Each batch is written with refresh 'wait_for': image search reads
// windows through search, and a video's candidates become searchable in the vector index while the
// stage still runs, so its evidence must be searchable as soon as `add` returns. The wait (up to
// one refresh interval per batch of frames) costs the indexing job, never a query.
import type { Client } from '@elastic/elasticsearch';
import type { FrameEvidence, FrameEvidenceRepository } from '../interfaces.js';
import { bulkIndex, type BulkDocument } from './bulk.js';
import { DEFAULT_BACKOFF, type ElasticRepositoryOptions } from './client.js';
import { asc, base64Of, bytesOf, desc, ElasticDocuments, filterQuery, migrateIndexFamily, term, type Query } from './documents.js';
import { FRAME_EVIDENCE_FAMILY } from './media-schema.js';
import type { VersionedIndexResult } from './schema.js';

interface StoredFrame {
  videoId: string;
  model: string;
  timeMs: number;
  repeat: boolean;
  picture: string;
  features: string;
  /** Absent on documents written before thumbnails were stored (schema version 1). */
  thumbnail?: string;
  thumbnailWidth?: number;
}

function frameId(videoId: string, timeMs: number): string {
  return `${encodeURIComponent(videoId)}/${timeMs}`;
}

function frameOf(doc: StoredFrame): FrameEvidence {
  const grey = doc.thumbnail === undefined ? null : bytesOf(doc.thumbnail);
  const width = doc.thumbnailWidth ?? 0;
  const thumbnail = grey && width > 0 ? { width, height: grey.length / width, grey } : null;
  return { time: doc.timeMs / 1000, picture: bytesOf(doc.picture), features: bytesOf(doc.features), repeat: doc.repeat, thumbnail };
}

/** A millisecond range bound, left open when the caller gives none (±Infinity). */
function bound(ms: number): number | undefined {
  return Number.isFinite(ms) ? ms : undefined;
}

export class ElasticFrameEvidenceRepository implements FrameEvidenceRepository {
  constructor(
    private readonly documents: ElasticDocuments,
    private readonly alias: string,
  ) {}

  /** Migrates the frame-evidence index forward, then opens the repository on it. */
  static async open(
    client: Client,
    options: ElasticRepositoryOptions = {},
  ): Promise<{ repository: ElasticFrameEvidenceRepository; migration: Record<'frame-evidence', VersionedIndexResult> }> {
    const { aliases, results } = await migrateIndexFamily(client, options.prefix ?? 'vidsearch', FRAME_EVIDENCE_FAMILY);
    return { repository: new ElasticFrameEvidenceRepository(new ElasticDocuments(client, options.backoff ?? DEFAULT_BACKOFF), aliases['frame-evidence']), migration: results };
  }

  async add(videoId: string, model: string, frames: readonly FrameEvidence[]): Promise<void> {
    const documents = frames.map((frame): BulkDocument => {
      const timeMs = Math.round(frame.time * 1000);
      const source: StoredFrame = { videoId, model, timeMs, repeat: frame.repeat, picture: base64Of(frame.picture), features: base64Of(frame.features) };
      if (frame.thumbnail) Object.assign(source, { thumbnail: base64Of(frame.thumbnail.grey), thumbnailWidth: frame.thumbnail.width });
      return { index: this.alias, id: frameId(videoId, timeMs), source };
    });
    await bulkIndex(this.documents.client, documents, 'wait_for', this.documents.backoff);
  }

  async window(videoId: string, model: string, from: number, to: number): Promise<FrameEvidence[]> {
    const fromMs = Math.ceil(from * 1000);
    const ofVideo: Query[] = [term('videoId', videoId), term('model', model)];
    // The time is unique within a video: a total order for the scan.
    const frames = await this.documents.searchAll<StoredFrame>(
      this.alias,
      filterQuery(...ofVideo, { range: { timeMs: { gte: bound(fromMs), lte: bound(Math.floor(to * 1000)) } } }),
      [asc('timeMs')],
    );
    if (frames[0]?.repeat && Number.isFinite(fromMs)) {
      // The frame the leading repeats repeat: a still shot that began before the range.
      const response = await this.documents.call(() =>
        this.documents.client.search<StoredFrame>({
          index: this.alias,
          query: filterQuery(...ofVideo, term('repeat', false), { range: { timeMs: { lt: fromMs } } }),
          sort: [desc('timeMs')],
          size: 1,
          track_total_hits: false,
        }),
      );
      const lead = response.hits.hits[0]?._source;
      if (lead) frames.unshift(lead);
    }
    return frames.map(frameOf);
  }

  async deleteVideo(videoId: string): Promise<void> {
    // Every add waited for a refresh, so the query finds them all; refresh after, so no window
    // returns a deleted frame (the frames stage deletes before it adds a video's frames again).
    await this.documents.deleteWhere(this.alias, filterQuery(term('videoId', videoId)), { refresh: true });
  }
}
