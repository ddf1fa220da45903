// Catalog on Elasticsearch, with the embedded catalog's contract (test/store/conformance.ts):
// videos, shots, segments, cues and stage artifacts in their own indices (catalog-schema.ts).
//
// Replaces without transactions: replaceStructure / replaceCues write the new documents under a
// new generation (their `_id` is `<id>@<generation>`, so the old ones stay untouched), then flip
// the video's current generation with one scripted update of the video document, then delete the
// older generations. Readers filter by the current generation, so they see the old set or the
// new one, never a mix; a crash half-way leaves only unreachable documents that the next replace
// deletes. Generations come from the clock (never below current + 1): a retry after a crash
// never reuses the crashed attempt's number, and the flip refuses to go backwards, so of two
// overlapping replaces the later generation wins.
//
// Visibility: documents fetched by id (videos, artifacts) use the real-time GET/mget; searches see
// only refreshed writes. So the writes that searches must find at once use refresh 'wait_for':
// video documents (listVideos and findVideoByHash search them right after a put), and the new
// generation's documents (they must be searchable before the flip makes them current). The flip,
// the clean-up of old generations and artifacts need no refresh: the first two are read by GET or
// are already filtered out, artifacts are only read by id.
//
// Every request retries 429/503 answers with exponential back-off (client.ts); all of them are
// idempotent (deterministic ids, the flip script re-applies to the same state).
import type { Client, estypes } from '@elastic/elasticsearch';
import type {
  CueKind,
  CueRecord,
  Page,
  PageArgs,
  SegmentRecord,
  ShotRecord,
  VideoMetadataPatch,
  VideoRecord,
} from '../../domain.js';
import { NotFoundError } from '../../errors.js';
import { caseFold } from '../embedded/catalog.js';
import { decodeCursor, encodeCursor } from '../embedded/cursor.js';
import { checkCueSources, inOrder, updateVideoRow } from '../catalog-records.js';
import type { Catalog, VideoFilter } from '../interfaces.js';
import { bulkIndex, type BulkDocument } from './bulk.js';
import { CUE_SOURCES, catalogIndexNames, migrateCatalogIndices, type CatalogIndex, type CatalogMigration, type GenerationSlot } from './catalog-schema.js';
import {
  artifactId,
  BY_ID_ORDER,
  CUE_ORDER,
  generationId,
  storedVideo,
  toCue,
  toSegment,
  toShot,
  toVideo,
  type Generations,
  type StoredArtifact,
  type StoredCue,
  type StoredSegment,
  type StoredShot,
  type StoredVideo,
} from './catalog-documents.js';
import { DEFAULT_BACKOFF, isNotFound, type Backoff, type ElasticRepositoryOptions } from './client.js';
import { asc, CONFLICT_RETRIES, desc, ElasticDocuments, escapeWildcard, generationFlip, SCAN_PAGE, term, type Query, type Sort } from './documents.js';

export interface ElasticCatalogOptions extends ElasticRepositoryOptions {
  /** Clock for generation numbers (ms). */
  now?: () => number;
  /** Hits per search_after page when reading a whole set. */
  scanPage?: number;
}

export class ElasticCatalog implements Catalog {
  private readonly index: Record<CatalogIndex, string>;
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private readonly documents: ElasticDocuments;

  constructor(
    readonly client: Client,
    options: ElasticCatalogOptions = {},
  ) {
    const names = catalogIndexNames(options.prefix ?? 'vidsearch');
    this.index = { videos: names.videos.alias, shots: names.shots.alias, segments: names.segments.alias, cues: names.cues.alias, artifacts: names.artifacts.alias };
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.now = options.now ?? Date.now;
    this.documents = new ElasticDocuments(client, this.backoff, options.scanPage ?? SCAN_PAGE);
  }

  /** Migrates the catalog indices forward to this build's schema, then opens the catalog on them. */
  static async open(client: Client, options: ElasticCatalogOptions = {}): Promise<{ catalog: ElasticCatalog; migration: CatalogMigration }> {
    const migration = await migrateCatalogIndices(client, options.prefix ?? 'vidsearch');
    return { catalog: new ElasticCatalog(client, options), migration };
  }

  private call<T>(request: () => Promise<T>): Promise<T> {
    return this.documents.call(request);
  }

  async putVideo(video: VideoRecord): Promise<void> {
    // A partial update rather than a full index: the video's current generations survive a re-put.
    await this.call(() =>
      this.client.update({
        index: this.index.videos,
        id: video.id,
        doc: storedVideo(video),
        doc_as_upsert: true,
        retry_on_conflict: CONFLICT_RETRIES,
        refresh: 'wait_for',
      }),
    );
  }

  private videoDocs(ids: readonly string[]): Promise<(StoredVideo | null)[]> {
    return this.documents.getMany<StoredVideo>(this.index.videos, ids);
  }

  async getVideo(id: string): Promise<VideoRecord | null> {
    const [doc] = await this.videoDocs([id]);
    return doc ? toVideo(doc) : null;
  }

  async getVideos(ids: readonly string[]): Promise<(VideoRecord | null)[]> {
    return (await this.videoDocs(ids)).map((doc) => (doc ? toVideo(doc) : null));
  }

  async findVideoByHash(contentHash: string): Promise<VideoRecord | null> {
    const response = await this.call(() =>
      this.client.search<StoredVideo>({
        index: this.index.videos,
        query: { bool: { filter: [term('contentHash', contentHash)] } },
        sort: [asc('createdAt'), asc('id')],
        size: 1,
        track_total_hits: false,
      }),
    );
    const doc = response.hits.hits[0]?._source;
    return doc ? toVideo(doc) : null;
  }

  async listVideos(filter: VideoFilter, page: PageArgs): Promise<Page<VideoRecord>> {
    const filters: Query[] = [];
    if (filter.series != null) filters.push(term('series', filter.series));
    if (filter.status != null) filters.push(term('status', filter.status));
    if (filter.titleContains) filters.push({ wildcard: { titleFolded: { value: `*${escapeWildcard(caseFold(filter.titleContains))}*` } } });
    // Same cursor as the embedded catalog: the (createdAt, id) of the last video, newest first.
    const after = page.after ? decodeCursor(page.after, { c: 'string', i: 'string' }) : null;
    return this.documents.searchPage<StoredVideo, VideoRecord>({
      index: this.index.videos,
      query: { bool: { filter: filters } },
      sort: [desc('createdAt'), desc('id')],
      page,
      after: after ? [after.c, after.i] : null,
      toItem: toVideo,
      cursorOf: (video) => encodeCursor({ c: video.createdAt, i: video.id }),
    });
  }

  async updateVideo(
    id: string,
    patch: VideoMetadataPatch & Partial<Pick<VideoRecord, 'status' | 'error'>>,
  ): Promise<VideoRecord | null> {
    return updateVideoRow(this, id, patch);
  }

  async deleteVideo(id: string): Promise<boolean> {
    // Derived documents first: a failure half-way leaves the video listed, and a retry finishes.
    await this.deleteDerived(id, [this.index.shots, this.index.segments, this.index.cues, this.index.artifacts]);
    try {
      await this.call(() => this.client.delete({ index: this.index.videos, id, refresh: 'wait_for' }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Every document of the video in `indices`, including unreachable generations. */
  private async deleteDerived(videoId: string, indices: string[]): Promise<void> {
    if (indices.includes(this.index.artifacts)) {
      // delete_by_query finds documents through search, and artifacts are written without a refresh.
      await this.call(() => this.client.indices.refresh({ index: this.index.artifacts }));
    }
    await this.call(() => this.client.deleteByQuery({ index: indices, query: { bool: { filter: [term('videoId', videoId)] } }, conflicts: 'proceed' }));
  }

  /**
   * Writes `documents(generation)`, flips the video's `slots` to that generation, then deletes what
   * `scope` matched under older generations (the flip decides which set readers see).
   */
  private async replaceGeneration(
    videoId: string,
    slots: readonly GenerationSlot[],
    documents: (generation: number) => BulkDocument[],
    scope: { indices: string[]; filter: Query[] },
  ): Promise<void> {
    const [video] = await this.videoDocs([videoId]);
    if (!video) throw new NotFoundError('video', videoId);
    const newest = Math.max(0, ...slots.map((slot) => video.generations?.[slot] ?? 0));
    const generation = Math.max(newest + 1, this.now());
    const inScope = (generationFilter: Query): Query => ({
      bool: { filter: [term('videoId', videoId), ...scope.filter, generationFilter] },
    });
    const dropOwn = (): Promise<unknown> =>
      this.call(() => this.client.deleteByQuery({ index: scope.indices, query: inScope(term('generation', generation)), conflicts: 'proceed' }));

    await bulkIndex(this.client, documents(generation), 'wait_for', this.backoff);
    let flip: estypes.UpdateResponse;
    try {
      flip = await this.call(() =>
        this.client.update({
          index: this.index.videos,
          id: videoId,
          script: generationFlip(slots, generation),
          retry_on_conflict: CONFLICT_RETRIES,
        }),
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // The video was deleted while we wrote: what we wrote belongs to nothing.
      await dropOwn();
      throw new NotFoundError('video', videoId);
    }
    // 'noop': a newer generation is already current, ours is the one to remove.
    if (flip.result === 'noop') await dropOwn();
    else await this.call(() => this.client.deleteByQuery({ index: scope.indices, query: inScope({ range: { generation: { lt: generation } } }), conflicts: 'proceed' }));
  }

  async replaceStructure(videoId: string, shots: ShotRecord[], segments: SegmentRecord[]): Promise<void> {
    await this.replaceGeneration(
      videoId,
      ['structure'],
      (generation) => [
        ...shots.map((s): BulkDocument => ({ index: this.index.shots, id: generationId(s.id, generation), source: { ...toShot({ ...s, videoId, generation }), generation } })),
        ...segments.map((s): BulkDocument => ({ index: this.index.segments, id: generationId(s.id, generation), source: { ...toSegment({ ...s, videoId, generation }), generation } })),
      ],
      { indices: [this.index.shots, this.index.segments], filter: [] },
    );
  }

  /** The video's current generations, or null when there is no such video. */
  private async generationsOf(videoId: string): Promise<Generations | null> {
    const [video] = await this.videoDocs([videoId]);
    return video ? (video.generations ?? {}) : null;
  }

  private searchAll<T>(index: string, query: Query, sort: Sort[]): Promise<T[]> {
    return this.documents.searchAll<T>(index, query, sort);
  }

  private async structureOf<T>(index: string, videoId: string): Promise<T[]> {
    const generation = (await this.generationsOf(videoId))?.structure;
    if (generation === undefined) return [];
    return this.searchAll<T>(index, { bool: { filter: [term('videoId', videoId), term('generation', generation)] } }, [asc('index')]);
  }

  async getShots(videoId: string): Promise<ShotRecord[]> {
    return (await this.structureOf<StoredShot>(this.index.shots, videoId)).map(toShot);
  }

  async getSegment(id: string): Promise<SegmentRecord | null> {
    const [segment] = await this.getSegmentsByIds([id]);
    return segment ?? null;
  }

  /** Keeps the documents whose generation is their video's current one for `slotOf(doc)`. */
  private async current<T extends { videoId: string; generation: number }>(docs: readonly T[], slotOf: (doc: T) => GenerationSlot): Promise<T[]> {
    const videoIds = [...new Set(docs.map((d) => d.videoId))];
    const videos = await this.videoDocs(videoIds);
    const generations = new Map(videoIds.map((id, i) => [id, videos[i]?.generations ?? {}]));
    return docs.filter((doc) => generations.get(doc.videoId)?.[slotOf(doc)] === doc.generation);
  }

  async getSegmentsByIds(ids: readonly string[]): Promise<(SegmentRecord | null)[]> {
    if (ids.length === 0) return [];
    // Both generations of a segment can exist mid-replace; the video decides which one counts.
    const docs = await this.searchAll<StoredSegment>(this.index.segments, { bool: { filter: [{ terms: { id: [...ids] } }] } }, BY_ID_ORDER);
    return inOrder(ids, (await this.current(docs, () => 'structure')).map(toSegment));
  }

  async listSegments(videoId: string, page: PageArgs): Promise<Page<SegmentRecord>> {
    const afterIndex = page.after ? Number(decodeCursor(page.after, { i: 'number' }).i) : null;
    const generation = (await this.generationsOf(videoId))?.structure;
    if (generation === undefined) return { items: [], endCursor: page.after ?? null, hasNextPage: false, totalCount: 0 };
    return this.documents.searchPage<StoredSegment, SegmentRecord>({
      index: this.index.segments,
      query: { bool: { filter: [term('videoId', videoId), term('generation', generation)] } },
      sort: [asc('index')],
      page,
      after: afterIndex !== null ? [afterIndex] : null,
      toItem: toSegment,
      cursorOf: (segment) => encodeCursor({ i: segment.index }),
    });
  }

  async getSegmentsOfVideo(videoId: string): Promise<SegmentRecord[]> {
    return (await this.structureOf<StoredSegment>(this.index.segments, videoId)).map(toSegment);
  }

  async segmentAt(videoId: string, time: number): Promise<SegmentRecord | null> {
    const generation = (await this.generationsOf(videoId))?.structure;
    if (generation === undefined) return null;
    // Segments started by `time`; the one containing it scores 1 (the optional range), others 0,
    // so a gap or a time past the end falls back to the latest segment started by then.
    const response = await this.call(() =>
      this.client.search<StoredSegment>({
        index: this.index.segments,
        query: {
          bool: {
            filter: [term('videoId', videoId), term('generation', generation), { range: { start: { lte: time } } }],
            should: [{ range: { end: { gt: time } } }],
          },
        },
        sort: [{ _score: { order: 'desc' } }, desc('index')],
        size: 1,
        track_total_hits: false,
      }),
    );
    const doc = response.hits.hits[0]?._source;
    return doc ? toSegment(doc) : null;
  }

  async replaceCues(videoId: string, sources: CueRecord['source'][], cues: CueRecord[]): Promise<void> {
    checkCueSources(sources, cues);
    if (sources.length === 0) return;
    await this.replaceGeneration(
      videoId,
      sources,
      (generation) => cues.map((c): BulkDocument => ({ index: this.index.cues, id: generationId(c.id, generation), source: { ...toCue({ ...c, videoId, generation }), generation } })),
      { indices: [this.index.cues], filter: [{ terms: { source: [...sources] } }] },
    );
  }

  async getCues(videoId: string, kinds?: CueKind[]): Promise<CueRecord[]> {
    if (kinds?.length === 0) return [];
    return this.currentCues(videoId, kinds ? [{ terms: { kind: [...kinds] } }] : []);
  }

  async getCuesOverlapping(videoId: string, from: number, to: number): Promise<CueRecord[]> {
    return this.currentCues(videoId, [{ range: { start: { lte: to } } }, { range: { end: { gte: from } } }]);
  }

  /** The video's cues of each source's current generation that also match `filters`, in time order. */
  private async currentCues(videoId: string, filters: Query[]): Promise<CueRecord[]> {
    const generations = await this.generationsOf(videoId);
    const current = CUE_SOURCES.flatMap((source) => {
      const generation = generations?.[source];
      return generation === undefined ? [] : [{ bool: { filter: [term('source', source), term('generation', generation)] } }];
    });
    if (current.length === 0) return [];
    const filter = [term('videoId', videoId), ...filters];
    const docs = await this.searchAll<StoredCue>(this.index.cues, { bool: { filter, should: current, minimum_should_match: 1 } }, CUE_ORDER);
    return docs.map(toCue);
  }

  async getCuesBySegments(segmentIds: readonly string[]): Promise<CueRecord[][]> {
    if (segmentIds.length === 0) return [];
    const docs = await this.searchAll<StoredCue>(this.index.cues, { bool: { filter: [{ terms: { segmentId: [...segmentIds] } }] } }, CUE_ORDER);
    const bySegment = new Map<string, CueRecord[]>();
    for (const doc of await this.current(docs, (d) => d.source)) {
      const list = bySegment.get(doc.segmentId!) ?? [];
      list.push(toCue(doc));
      bySegment.set(doc.segmentId!, list);
    }
    return segmentIds.map((id) => bySegment.get(id) ?? []);
  }

  async getCuesByIds(ids: readonly string[]): Promise<(CueRecord | null)[]> {
    if (ids.length === 0) return [];
    const docs = await this.searchAll<StoredCue>(this.index.cues, { bool: { filter: [{ terms: { id: [...ids] } }] } }, BY_ID_ORDER);
    return inOrder(ids, (await this.current(docs, (d) => d.source)).map(toCue));
  }

  async putArtifact(videoId: string, stage: string, data: unknown): Promise<void> {
    const document: StoredArtifact = { videoId, stage, data: JSON.stringify(data ?? null), updatedAt: new Date().toISOString() };
    // Read back only by id (real-time GET): no refresh.
    await this.call(() => this.client.index({ index: this.index.artifacts, id: artifactId(videoId, stage), document }));
  }

  async getArtifact<T>(videoId: string, stage: string): Promise<T | null> {
    try {
      const response = await this.call(() => this.client.get<StoredArtifact>({ index: this.index.artifacts, id: artifactId(videoId, stage) }));
      return response._source ? (JSON.parse(response._source.data) as T) : null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async deleteArtifacts(videoId: string): Promise<void> {
    await this.deleteDerived(videoId, [this.index.artifacts]);
  }
}
