// AdRepository, TagRepository and HighlightRepository on Elasticsearch, with the embedded
// repositories' contract (test/store/conformance-ads.ts); index families in ads-schema.ts.
//
// Ads: one document per ad, written with refresh 'wait_for' (listAds/allAds search right after a
// put). The inventory version is a counter document grown by a painless `+= 1` after the ad write
// and read by real-time GET, so a matcher that sees the new version also finds the new ad.
//
// Tags: "replaced per kind in one transaction" and read by segment ids across videos, so one
// document per tag and the catalog's generation scheme (catalog.ts): the new tags are written
// under a new generation, one scripted update of the video's tag-set document flips every
// replaced kind to it at once, then older generations of those kinds are deleted. Readers keep
// only documents of their video's current generation for their kind: the old set or the new one,
// never a mix. One document per (video, kind) would make a read of one segment's tags (every
// matchAds call) fetch the whole video's tags.
//
// Highlights: a video's signals are always read whole and stay small (a few numbers per segment),
// so they are ONE document per video (a single-document write is atomic). addFeedback writes the
// feedback document first (refresh 'wait_for': countFeedback counts through search), then the
// model document. A reader can thus see the feedback counted before the model has learnt from it,
// never a model whose example is not recorded; a retry overwrites the same feedback id.
//
// Every request retries 429/503 with back-off (documents.ts). All are idempotent but the counter
// increment: repeated after an ambiguous failure it moves the version twice, which is harmless
// (readers only compare it for a change).
import type { Client, estypes } from '@elastic/elasticsearch';
import type { Page, PageArgs } from '../../domain.js';
import { BadInputError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type {
  AdRecord,
  AdRepository,
  HighlightFeedbackRecord,
  HighlightModelRecord,
  HighlightRepository,
  HighlightSignalsRecord,
  SegmentTagRecord,
  TagKind,
  TagRepository,
} from '../ads.js';
import { brandSafetyRules } from '../ads.js';
import type { Store } from '../interfaces.js';
import {
  AD_FAMILY,
  decodeDoubles,
  ElasticCounter,
  encodeDoubles,
  HIGHLIGHT_FAMILY,
  TAG_FAMILY,
  type AdIndex,
  type HighlightIndex,
  type TagIndex,
} from './ads-schema.js';
import { bulkIndex, type BulkDocument } from './bulk.js';
import { DEFAULT_BACKOFF, type ElasticRepositoryOptions } from './client.js';
import { asc, CONFLICT_RETRIES, desc, ElasticDocuments, filterQuery, generationFlip, migrateIndexFamily, migrationSummary, term, terms, type Query } from './documents.js';
import { ElasticModerationRepository } from './moderation.js';
import type { VersionedIndexResult } from './schema.js';

type Migration<Name extends string> = Record<Name, VersionedIndexResult>;

function toAd(doc: AdRecord): AdRecord {
  return {
    id: doc.id,
    advertiser: doc.advertiser ?? null,
    title: doc.title,
    creativeUrl: doc.creativeUrl ?? null,
    keywords: doc.keywords,
    categories: doc.categories,
    actors: doc.actors,
    objects: doc.objects,
    scenes: doc.scenes,
    moods: doc.moods,
    excludeKeywords: doc.excludeKeywords,
    brandSafety: brandSafetyRules(doc.brandSafety),
    flightStart: doc.flightStart ?? null,
    flightEnd: doc.flightEnd ?? null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

/** The embedded repository's cursor (the last id, base64url), so cursors survive a backend switch. */
function encodeAdCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

export class ElasticAdRepository implements AdRepository {
  private readonly inventory: ElasticCounter;

  constructor(
    private readonly documents: ElasticDocuments,
    private readonly index: Record<AdIndex, string>,
  ) {
    this.inventory = new ElasticCounter(documents, index['ad-state'], 'inventory');
  }

  static async open(client: Client, options: ElasticRepositoryOptions = {}): Promise<{ repository: ElasticAdRepository; migration: Migration<AdIndex> }> {
    const { aliases, results } = await migrateIndexFamily(client, options.prefix ?? 'vidsearch', AD_FAMILY);
    return { repository: new ElasticAdRepository(new ElasticDocuments(client, options.backoff ?? DEFAULT_BACKOFF), aliases), migration: results };
  }

  async putAd(ad: AdRecord): Promise<void> {
    await this.documents.call(() => this.documents.client.index({ index: this.index.ads, id: ad.id, document: toAd(ad), refresh: 'wait_for' }));
    await this.inventory.increment();
  }

  async getAd(id: string): Promise<AdRecord | null> {
    const doc = await this.documents.getOne<AdRecord>(this.index.ads, id);
    return doc ? toAd(doc) : null;
  }

  async deleteAd(id: string): Promise<boolean> {
    const removed = await this.documents.deleteOne(this.index.ads, id, 'wait_for');
    if (removed) await this.inventory.increment();
    return removed;
  }

  async listAds(page: PageArgs): Promise<Page<AdRecord>> {
    const after = page.after ? Buffer.from(page.after, 'base64url').toString('utf8') : null;
    return this.documents.searchPage<AdRecord, AdRecord>({
      index: this.index.ads,
      query: { match_all: {} },
      sort: [asc('id')],
      page,
      after: after !== null ? [after] : null,
      toItem: toAd,
      cursorOf: (ad) => encodeAdCursor(ad.id),
    });
  }

  async allAds(): Promise<AdRecord[]> {
    return (await this.documents.searchAll<AdRecord>(this.index.ads, { match_all: {} }, [asc('id')])).map(toAd);
  }

  inventoryVersion(): Promise<number> {
    return this.inventory.read();
  }
}

interface StoredTag extends SegmentTagRecord {
  generation: number;
  position: number;
}

interface TagSet {
  videoId: string;
  generations?: Partial<Record<TagKind, number>>;
}

// The embedded order (segment, kind, score descending, label), made total for search_after.
const TAG_ORDER = [asc('segmentId'), asc('kind'), desc('score'), asc('label'), asc('videoId'), asc('generation'), asc('position')];

function toTag(doc: SegmentTagRecord): SegmentTagRecord {
  return { videoId: doc.videoId, segmentId: doc.segmentId, kind: doc.kind, label: doc.label, score: doc.score, source: doc.source, box: doc.box ?? null };
}

export interface ElasticTagOptions extends ElasticRepositoryOptions {
  /** Clock for generation numbers (ms). */
  now?: () => number;
}

export class ElasticTagRepository implements TagRepository {
  private readonly now: () => number;

  constructor(
    private readonly documents: ElasticDocuments,
    private readonly index: Record<TagIndex, string>,
    now: () => number = Date.now,
  ) {
    this.now = now;
  }

  static async open(client: Client, options: ElasticTagOptions = {}): Promise<{ repository: ElasticTagRepository; migration: Migration<TagIndex> }> {
    const { aliases, results } = await migrateIndexFamily(client, options.prefix ?? 'vidsearch', TAG_FAMILY);
    return { repository: new ElasticTagRepository(new ElasticDocuments(client, options.backoff ?? DEFAULT_BACKOFF), aliases, options.now), migration: results };
  }

  async replaceVideoTags(videoId: string, kinds: readonly TagKind[], tags: readonly SegmentTagRecord[]): Promise<void> {
    // A tag of another video or of a kind not replaced would be written under a generation no
    // tag set points to: invisible, and never cleaned up.
    const foreign = tags.find((t) => t.videoId !== videoId || !kinds.includes(t.kind));
    if (foreign) throw new BadInputError(`tag ${foreign.kind} "${foreign.label}" of video ${foreign.videoId} is not one of the replaced kinds of video ${videoId}`, { kinds });
    if (kinds.length === 0) return;
    const set = await this.documents.getOne<TagSet>(this.index['tag-sets'], videoId);
    const newest = Math.max(0, ...kinds.map((kind) => set?.generations?.[kind] ?? 0));
    // From the clock, never below current + 1: a retry after a crash never reuses a crashed attempt's number.
    const generation = Math.max(newest + 1, this.now());
    const ofVideo = (generationFilter: Query): Query => filterQuery(term('videoId', videoId), terms('kind', kinds), generationFilter);

    // wait_for: the new generation must be searchable before the flip makes it current.
    await bulkIndex(
      this.documents.client,
      tags.map((tag, position): BulkDocument => ({
        index: this.index.tags,
        id: `${videoId}/${tag.kind}@${generation}/${position}`,
        source: { ...toTag(tag), generation, position } satisfies StoredTag,
      })),
      'wait_for',
      this.documents.backoff,
    );
    const flip = await this.documents.call(() =>
      this.documents.client.update({
        index: this.index['tag-sets'],
        id: videoId,
        script: generationFlip(kinds, generation),
        upsert: { videoId, generations: {} },
        scripted_upsert: true,
        retry_on_conflict: CONFLICT_RETRIES,
      }),
    );
    // 'noop': a newer generation is already current, ours is the one to remove.
    await this.documents.deleteWhere(this.index.tags, ofVideo(flip.result === 'noop' ? term('generation', generation) : { range: { generation: { lt: generation } } }));
  }

  /** Keeps the tags of their video's current generation for their kind. */
  private async current(docs: readonly StoredTag[]): Promise<StoredTag[]> {
    const videoIds = [...new Set(docs.map((d) => d.videoId))];
    const sets = await this.documents.getMany<TagSet>(this.index['tag-sets'], videoIds);
    const generations = new Map(videoIds.map((id, i) => [id, sets[i]?.generations ?? {}]));
    return docs.filter((doc) => generations.get(doc.videoId)?.[doc.kind] === doc.generation);
  }

  async getTagsOfSegments(segmentIds: readonly string[]): Promise<SegmentTagRecord[][]> {
    if (segmentIds.length === 0) return [];
    const docs = await this.documents.searchAll<StoredTag>(this.index.tags, filterQuery(terms('segmentId', [...new Set(segmentIds)])), TAG_ORDER);
    const bySegment = new Map<string, SegmentTagRecord[]>(segmentIds.map((id) => [id, []]));
    for (const doc of await this.current(docs)) bySegment.get(doc.segmentId)?.push(toTag(doc));
    return segmentIds.map((id) => bySegment.get(id) ?? []);
  }

  async getTagsOfVideo(videoId: string): Promise<SegmentTagRecord[]> {
    const set = await this.documents.getOne<TagSet>(this.index['tag-sets'], videoId);
    const current = Object.entries(set?.generations ?? {}).map(([kind, generation]) => filterQuery(term('kind', kind), term('generation', generation)));
    if (current.length === 0) return [];
    const docs = await this.documents.searchAll<StoredTag>(this.index.tags, { bool: { filter: [term('videoId', videoId)], should: current, minimum_should_match: 1 } }, TAG_ORDER);
    return docs.map(toTag);
  }

  async deleteVideo(videoId: string): Promise<void> {
    // The set first: readers stop seeing the tags at once; the documents left by a failure after
    // it are unreachable, and the next replace or delete of the video removes them.
    await this.documents.deleteOne(this.index['tag-sets'], videoId, false);
    await this.documents.deleteWhere(this.index.tags, filterQuery(term('videoId', videoId)));
  }
}

interface StoredSignals {
  videoId: string;
  rows: { segmentId: string; start: number; end: number; featureCount: number }[];
  /** Every row's features, one after the other (float64, encodeDoubles). */
  features: string;
}

interface StoredFeedback {
  id: string;
  videoId: string;
  start: number;
  end: number;
  good: boolean;
  features: string;
  createdAt: string;
}

interface StoredModel {
  weights: string;
  bias: number;
  updates: number;
  updatedAt: string;
}

const MODEL_ID = 'model';

function storedFeedback(feedback: HighlightFeedbackRecord): StoredFeedback {
  return { id: feedback.id, videoId: feedback.videoId, start: feedback.start, end: feedback.end, good: feedback.good, features: encodeDoubles(feedback.features), createdAt: feedback.createdAt };
}

/** What `vidsearch migrate` needs beyond the repository: feedback and weights written as they are. */
export interface HighlightImport {
  /** Writes feedback records by id (a re-run overwrites), leaving the model alone. */
  importFeedback(feedback: readonly HighlightFeedbackRecord[]): Promise<void>;
  putModel(model: HighlightModelRecord): Promise<void>;
}

export class ElasticHighlightRepository implements HighlightRepository, HighlightImport {
  constructor(
    private readonly documents: ElasticDocuments,
    private readonly index: Record<HighlightIndex, string>,
  ) {}

  static async open(client: Client, options: ElasticRepositoryOptions = {}): Promise<{ repository: ElasticHighlightRepository; migration: Migration<HighlightIndex> }> {
    const { aliases, results } = await migrateIndexFamily(client, options.prefix ?? 'vidsearch', HIGHLIGHT_FAMILY);
    return { repository: new ElasticHighlightRepository(new ElasticDocuments(client, options.backoff ?? DEFAULT_BACKOFF), aliases), migration: results };
  }

  async replaceVideoSignals(videoId: string, rows: readonly HighlightSignalsRecord[]): Promise<void> {
    const foreign = rows.find((r) => r.videoId !== videoId);
    if (foreign) throw new BadInputError(`signals of segment ${foreign.segmentId} belong to video ${foreign.videoId}, not ${videoId}`, { videoId });
    if (rows.length === 0) {
      await this.documents.deleteOne(this.index['highlight-signals'], videoId, false);
      return;
    }
    // In start order (stable: equal starts keep the caller's order), as getSignalsOfVideo returns them.
    const ordered = [...rows].sort((a, b) => a.start - b.start);
    const document: StoredSignals = {
      videoId,
      rows: ordered.map((r) => ({ segmentId: r.segmentId, start: r.start, end: r.end, featureCount: r.features.length })),
      features: encodeDoubles(ordered.flatMap((r) => r.features)),
    };
    // Read back only by id (real-time GET): no refresh.
    await this.documents.call(() => this.documents.client.index({ index: this.index['highlight-signals'], id: videoId, document }));
  }

  async getSignalsOfVideo(videoId: string): Promise<HighlightSignalsRecord[]> {
    const doc = await this.documents.getOne<StoredSignals>(this.index['highlight-signals'], videoId);
    if (!doc) return [];
    const features = decodeDoubles(doc.features);
    let offset = 0;
    return doc.rows.map((row) => {
      const own = features.slice(offset, offset + row.featureCount);
      offset += row.featureCount;
      return { videoId, segmentId: row.segmentId, start: row.start, end: row.end, features: own };
    });
  }

  async addFeedback(feedback: HighlightFeedbackRecord, model: HighlightModelRecord): Promise<void> {
    await this.importFeedback([feedback]);
    await this.putModel(model);
  }

  async importFeedback(feedback: readonly HighlightFeedbackRecord[]): Promise<void> {
    const index = this.index['highlight-feedback'];
    await bulkIndex(this.documents.client, feedback.map((f) => ({ index, id: f.id, source: storedFeedback(f) })), 'wait_for', this.documents.backoff);
  }

  async putModel(model: HighlightModelRecord): Promise<void> {
    const document: StoredModel = { weights: encodeDoubles(model.weights), bias: model.bias, updates: model.updates, updatedAt: model.updatedAt };
    await this.documents.call(() => this.documents.client.index({ index: this.index['highlight-model'], id: MODEL_ID, document }));
  }

  async getModel(): Promise<HighlightModelRecord | null> {
    const doc = await this.documents.getOne<StoredModel>(this.index['highlight-model'], MODEL_ID);
    return doc ? { weights: decodeDoubles(doc.weights), bias: doc.bias, updates: doc.updates, updatedAt: doc.updatedAt } : null;
  }

  async countFeedback(): Promise<number> {
    const response: estypes.CountResponse = await this.documents.call(() => this.documents.client.count({ index: this.index['highlight-feedback'] }));
    return response.count;
  }

  async deleteVideo(videoId: string): Promise<void> {
    await this.documents.deleteOne(this.index['highlight-signals'], videoId, false);
    // refresh: countFeedback counts through search.
    await this.documents.deleteWhere(this.index['highlight-feedback'], filterQuery(term('videoId', videoId)), { refresh: true });
  }
}

export interface ElasticAdsRepositories extends Pick<Store, 'ads' | 'tags' | 'highlights' | 'moderation'> {
  ads: ElasticAdRepository;
  tags: ElasticTagRepository;
  highlights: ElasticHighlightRepository;
  moderation: ElasticModerationRepository;
}

/** Migrates the ads, tags, highlights and moderation index families, then opens their repositories. */
export async function openAdsRepositories(client: Client, options: ElasticTagOptions & { log?: Logger } = {}): Promise<ElasticAdsRepositories> {
  const ads = await ElasticAdRepository.open(client, options);
  const tags = await ElasticTagRepository.open(client, options);
  const highlights = await ElasticHighlightRepository.open(client, options);
  const moderation = await ElasticModerationRepository.open(client, options);
  const migration = { ...ads.migration, ...tags.migration, ...highlights.migration, ...moderation.migration };
  options.log?.info(migrationSummary(migration), 'Elasticsearch ads, tags, highlights and moderation ready');
  return { ads: ads.repository, tags: tags.repository, highlights: highlights.repository, moderation: moderation.repository };
}
