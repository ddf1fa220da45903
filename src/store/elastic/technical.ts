// TechnicalRepository on Elasticsearch, with the embedded repository's contract
// (test/store/conformance-media.ts).
//
// Each set (technical cues, shot quality, visual flags) is replaced per video and always read
// whole per video, and stays small (tens to a few hundred records): so one document per
// (video, set) holds the whole set. Writing one document is atomic, which gives the interface's
// "replaced in one transaction" without generations; reads are real-time GETs, so writes need no
// refresh. Records are normalised as the embedded table stores them (the video id of the call,
// one record per id or shot index, last one wins) and sorted on read in the embedded order.
import type { Client } from '@elastic/elasticsearch';
import type { ShotQualityRecord, TechnicalCueRecord, TechnicalRepository, VisualFlagRecord } from '../technical.js';
import { DEFAULT_BACKOFF, type ElasticRepositoryOptions } from './client.js';
import { ElasticDocuments, migrateIndexFamily } from './documents.js';
import { deleteByIds, TECHNICAL_FAMILY } from './media-schema.js';
import type { VersionedIndexResult } from './schema.js';

type TechnicalSet = 'cues' | 'quality' | 'flags';
const TECHNICAL_SETS: readonly TechnicalSet[] = ['cues', 'quality', 'flags'];

interface StoredSet<T> {
  videoId: string;
  set: TechnicalSet;
  records: T[];
}

function setId(videoId: string, set: TechnicalSet): string {
  return `${encodeURIComponent(videoId)}/${set}`;
}

/** Later records replace earlier ones with the same key (the table's INSERT OR REPLACE). */
function lastPerKey<T>(records: readonly T[], keyOf: (record: T) => string | number): T[] {
  return [...new Map(records.map((record) => [keyOf(record), record])).values()];
}

/** SQLite's BINARY collation on ASCII text. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class ElasticTechnicalRepository implements TechnicalRepository {
  constructor(
    private readonly documents: ElasticDocuments,
    private readonly alias: string,
  ) {}

  /** Migrates the technical index forward, then opens the repository on it. */
  static async open(client: Client, options: ElasticRepositoryOptions = {}): Promise<{ repository: ElasticTechnicalRepository; migration: Record<'technical', VersionedIndexResult> }> {
    const { aliases, results } = await migrateIndexFamily(client, options.prefix ?? 'vidsearch', TECHNICAL_FAMILY);
    return { repository: new ElasticTechnicalRepository(new ElasticDocuments(client, options.backoff ?? DEFAULT_BACKOFF), aliases.technical), migration: results };
  }

  private async put<T>(videoId: string, set: TechnicalSet, records: T[]): Promise<void> {
    const document: StoredSet<T> = { videoId, set, records };
    // Read back only by id (real-time GET): no refresh.
    await this.documents.call(() => this.documents.client.index({ index: this.alias, id: setId(videoId, set), document }));
  }

  private async get<T>(videoId: string, set: TechnicalSet): Promise<T[]> {
    return (await this.documents.getOne<StoredSet<T>>(this.alias, setId(videoId, set)))?.records ?? [];
  }

  async replaceCues(videoId: string, cues: readonly TechnicalCueRecord[]): Promise<void> {
    await this.put(
      videoId,
      'cues',
      lastPerKey(cues, (c) => c.id).map((c): TechnicalCueRecord => ({ id: c.id, videoId, type: c.type, start: c.start, end: c.end, confidence: c.confidence, activeArea: c.activeArea ?? null })),
    );
  }

  async getCues(videoId: string): Promise<TechnicalCueRecord[]> {
    const cues = await this.get<TechnicalCueRecord>(videoId, 'cues');
    return cues.sort((a, b) => a.start - b.start || compareText(a.type, b.type) || compareText(a.id, b.id));
  }

  async replaceShotQuality(videoId: string, rows: readonly ShotQualityRecord[]): Promise<void> {
    await this.put(
      videoId,
      'quality',
      lastPerKey(rows, (q) => q.shotIndex).map(
        (q): ShotQualityRecord => ({
          videoId,
          shotIndex: q.shotIndex,
          start: q.start,
          end: q.end,
          time: q.time,
          sharpness: q.sharpness,
          faceSharpness: q.faceSharpness,
          blockiness: q.blockiness,
          brightness: q.brightness,
          contrast: q.contrast,
          clean: q.clean,
          issues: [...q.issues],
        }),
      ),
    );
  }

  async getShotQuality(videoId: string): Promise<ShotQualityRecord[]> {
    return (await this.get<ShotQualityRecord>(videoId, 'quality')).sort((a, b) => a.shotIndex - b.shotIndex);
  }

  async replaceVisualFlags(videoId: string, flags: readonly VisualFlagRecord[]): Promise<void> {
    await this.put(
      videoId,
      'flags',
      lastPerKey(flags, (f) => f.id).map(
        (f): VisualFlagRecord => ({
          id: f.id,
          videoId,
          segmentId: f.segmentId,
          label: f.label,
          start: f.start,
          end: f.end,
          score: f.score,
          risk: f.risk,
          flagged: f.flagged,
          evidenceTimes: [...f.evidenceTimes],
          modelId: f.modelId,
        }),
      ),
    );
  }

  async getVisualFlags(videoId: string): Promise<VisualFlagRecord[]> {
    // Sets stored before graded risk were all flags: they read as flagged at full risk.
    const flags = (await this.get<VisualFlagRecord>(videoId, 'flags')).map((f) => ({ ...f, risk: f.risk ?? 1, flagged: f.flagged ?? true }));
    return flags.sort((a, b) => a.start - b.start || compareText(a.label, b.label) || compareText(a.id, b.id));
  }

  async deleteVideo(videoId: string): Promise<void> {
    await deleteByIds(this.documents, TECHNICAL_SETS.map((set) => ({ index: this.alias, id: setId(videoId, set) })));
  }
}
