// IntroRepository on Elasticsearch, with the embedded repository's contract
// (test/store/conformance-media.ts).
//
// Fingerprints: one document per video, the hash arrays as BINARY (a few KB per episode). Series
// membership is the catalog's, as in the embedded join: the series' videos are listed through the
// Catalog (the Elasticsearch one in this mode), ordered like the embedded query (season, episode,
// creation, id; missing numbers first), and their fingerprints fetched by id.
//
// Skip markers: one document per video holding both kinds of marker, `auto` and `editor`, each a
// map by marker kind (null = none). replaceAutoMarkers writes `auto` maps and putEditorMarker one
// key of `editor`, as partial updates: a partial update of one document is atomic and leaves the
// other map alone, so an editor's marker survives any automatic replace. The interface's "one
// transaction" over several videos holds per video only: the videos' documents are updated in
// one bulk request, and a reader in between may see some videos with their new markers and others
// with their old ones (each video whole). Everything is read by id (real-time), so no refreshes.
import type { Client } from '@elastic/elasticsearch';
import type { VideoRecord } from '../../domain.js';
import type { Catalog } from '../interfaces.js';
import type { EpisodeFingerprint, FingerprintWindow, IntroRepository, SkipMarkerKind, SkipMarkerRecord } from '../intro.js';
import { DEFAULT_BACKOFF, withBackoff, type ElasticRepositoryOptions } from './client.js';
import { base64Of, bytesOf, CONFLICT_RETRIES, ElasticDocuments, migrateIndexFamily, SCAN_PAGE } from './documents.js';
import { deleteByIds, INTRO_FAMILY } from './media-schema.js';
import type { VersionedIndexResult } from './schema.js';

interface StoredWindow {
  start: number;
  visual: string;
  visualInformative: string;
  audio: string;
}

interface StoredFingerprint {
  videoId: string;
  durationSec: number;
  visualStepSec: number;
  audioStepSec: number;
  version: number;
  head: StoredWindow;
  tail: StoredWindow;
}

type MarkersByKind = Partial<Record<SkipMarkerKind, SkipMarkerRecord | null>>;

interface StoredMarkers {
  videoId: string;
  auto?: MarkersByKind;
  editor?: MarkersByKind;
}

const MARKER_KINDS: readonly SkipMarkerKind[] = ['INTRO', 'OUTRO'];
/** Videos per catalog page when listing a series. */
const SERIES_PAGE = 500;

function storedWindow(window: FingerprintWindow): StoredWindow {
  return { start: window.start, visual: base64Of(window.visual), visualInformative: base64Of(window.visualInformative), audio: base64Of(window.audio) };
}

function uint32s(base64: string): Uint32Array {
  // Copy into a fresh buffer: Uint32Array needs 4-byte alignment.
  const bytes = new Uint8Array(bytesOf(base64));
  return new Uint32Array(bytes.buffer, 0, Math.floor(bytes.length / 4));
}

function windowOf(stored: StoredWindow): FingerprintWindow {
  return { start: stored.start, visual: uint32s(stored.visual), visualInformative: new Uint8Array(bytesOf(stored.visualInformative)), audio: uint32s(stored.audio) };
}

function fingerprintOf(doc: StoredFingerprint): EpisodeFingerprint {
  return {
    videoId: doc.videoId,
    durationSec: doc.durationSec,
    visualStepSec: doc.visualStepSec,
    audioStepSec: doc.audioStepSec,
    version: doc.version,
    head: windowOf(doc.head),
    tail: windowOf(doc.tail),
  };
}

/** The embedded query's order: season, episode, created_at, id, where a missing number sorts first. */
function episodeOrder(a: VideoRecord, b: VideoRecord): number {
  const byNumber = (x: number | null, y: number | null): number => (x === y ? 0 : x === null ? -1 : y === null ? 1 : x - y);
  const byText = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  return byNumber(a.season, b.season) || byNumber(a.episode, b.episode) || byText(a.createdAt, b.createdAt) || byText(a.id, b.id);
}

/** A marker as the embedded table keeps it: the video, kind and source are the row's key. */
function storedMarker(videoId: string, kind: SkipMarkerKind, source: SkipMarkerRecord['source'], marker: SkipMarkerRecord): SkipMarkerRecord {
  return {
    videoId,
    kind,
    source,
    start: marker.start,
    end: marker.end,
    confidence: marker.confidence,
    matchedVideoIds: source === 'EDITOR' ? [] : [...marker.matchedVideoIds],
    updatedAt: marker.updatedAt,
  };
}

/** Per kind the editor's marker first, then the automatic one (the embedded ORDER BY kind, source DESC). */
function markersOf(doc: StoredMarkers | null): SkipMarkerRecord[] {
  if (!doc) return [];
  return MARKER_KINDS.flatMap((kind) => [doc.editor?.[kind], doc.auto?.[kind]].filter((m): m is SkipMarkerRecord => m != null));
}

export class ElasticIntroRepository implements IntroRepository {
  constructor(
    private readonly documents: ElasticDocuments,
    private readonly aliases: Record<'fingerprints' | 'skip-markers', string>,
    private readonly catalog: Catalog,
  ) {}

  /** Migrates the intro indices forward, then opens the repository on them. */
  static async open(
    client: Client,
    options: ElasticRepositoryOptions & { catalog: Catalog },
  ): Promise<{ repository: ElasticIntroRepository; migration: Record<'fingerprints' | 'skip-markers', VersionedIndexResult> }> {
    const { aliases, results } = await migrateIndexFamily(client, options.prefix ?? 'vidsearch', INTRO_FAMILY);
    return { repository: new ElasticIntroRepository(new ElasticDocuments(client, options.backoff ?? DEFAULT_BACKOFF), aliases, options.catalog), migration: results };
  }

  private get client(): Client {
    return this.documents.client;
  }

  async putFingerprint(fingerprint: EpisodeFingerprint): Promise<void> {
    const document: StoredFingerprint = {
      videoId: fingerprint.videoId,
      durationSec: fingerprint.durationSec,
      visualStepSec: fingerprint.visualStepSec,
      audioStepSec: fingerprint.audioStepSec,
      version: fingerprint.version,
      head: storedWindow(fingerprint.head),
      tail: storedWindow(fingerprint.tail),
    };
    await this.documents.call(() => this.client.index({ index: this.aliases.fingerprints, id: fingerprint.videoId, document }));
  }

  async getFingerprintsOfSeries(series: string): Promise<EpisodeFingerprint[]> {
    const videos: VideoRecord[] = [];
    for (let after: string | null = null; ; ) {
      const page = await this.catalog.listVideos({ series }, { first: SERIES_PAGE, after });
      videos.push(...page.items);
      if (!page.hasNextPage) break;
      after = page.endCursor;
    }
    const ids = videos.sort(episodeOrder).map((v) => v.id);
    const found: EpisodeFingerprint[] = [];
    for (let i = 0; i < ids.length; i += SCAN_PAGE) {
      const docs = await this.documents.getMany<StoredFingerprint>(this.aliases.fingerprints, ids.slice(i, i + SCAN_PAGE));
      for (const doc of docs) if (doc) found.push(fingerprintOf(doc));
    }
    return found;
  }

  /** Partial updates of markers documents (created when missing), in bulk; conflicting writers retry. */
  private async updateMarkers(updates: readonly StoredMarkers[]): Promise<void> {
    if (updates.length === 0) return;
    const { backoff } = this.documents;
    await withBackoff(async () => {
      const dropped: string[] = [];
      const stats = await this.client.helpers.bulk<StoredMarkers>({
        datasource: [...updates],
        onDocument: (doc) => [
          { update: { _index: this.aliases['skip-markers'], _id: doc.videoId, retry_on_conflict: CONFLICT_RETRIES } },
          { doc, doc_as_upsert: true },
        ],
        onDrop: (drop) => dropped.push(`${drop.document.videoId}: ${drop.error?.reason ?? drop.status}`),
        retries: backoff.retries,
        wait: backoff.baseMs,
      });
      if (stats.failed > 0 || dropped.length > 0) {
        throw new Error(`Elasticsearch skip-marker update failed for ${Math.max(stats.failed, dropped.length)} of ${updates.length} videos: ${dropped.slice(0, 3).join('; ')}`);
      }
    }, backoff);
  }

  async replaceAutoMarkers(videoIds: readonly string[], markers: readonly SkipMarkerRecord[]): Promise<void> {
    const autoByVideo = new Map<string, MarkersByKind>();
    // The listed videos lose every automatic marker not given again.
    for (const videoId of videoIds) autoByVideo.set(videoId, Object.fromEntries(MARKER_KINDS.map((kind) => [kind, null])));
    for (const marker of markers) {
      const auto = autoByVideo.get(marker.videoId) ?? {};
      auto[marker.kind] = storedMarker(marker.videoId, marker.kind, 'AUTO', marker);
      autoByVideo.set(marker.videoId, auto);
    }
    await this.updateMarkers([...autoByVideo].map(([videoId, auto]) => ({ videoId, auto })));
  }

  async putEditorMarker(videoId: string, kind: SkipMarkerKind, marker: SkipMarkerRecord | null): Promise<void> {
    await this.updateMarkers([{ videoId, editor: { [kind]: marker ? storedMarker(videoId, kind, 'EDITOR', marker) : null } }]);
  }

  async getMarkers(videoIds: readonly string[]): Promise<SkipMarkerRecord[][]> {
    const docs = await this.documents.getMany<StoredMarkers>(this.aliases['skip-markers'], videoIds);
    return docs.map(markersOf);
  }

  async deleteVideo(videoId: string): Promise<void> {
    await deleteByIds(this.documents, [
      { index: this.aliases.fingerprints, id: videoId },
      { index: this.aliases['skip-markers'], id: videoId },
    ]);
  }
}
