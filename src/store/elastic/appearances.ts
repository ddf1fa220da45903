// AppearanceRepository on Elasticsearch, with the embedded repository's contract
// (test/store/conformance-presence.ts). Indices: presence-schema.ts.
//
// Tracks, faces and spans are queried across videos (by cluster, actor, ids), so each has its own
// index, and a video's sets are replaced with the catalog's generation scheme (catalog.ts): the
// new documents are written under a new generation (`_id` `<id>@<generation>`), one scripted
// update of the video's state document (`appearance-videos`, created on first use) flips the
// current generation, then older generations are deleted. Slots: `faces` (tracks and faces),
// `FACE` and `VOICE` (spans of each evidence kind, replaced separately). replaceVideoFaces flips
// `faces` and `FACE` together, in the same single-document update, so readers see the old tracks,
// faces and FACE spans or the new ones, never a mix. Readers of one video filter by its current
// generations; readers across videos fetch the state documents of the videos they hit (real-time
// GET) and keep the current documents.
//
// What is not atomic here, unlike SQLite's transactions:
// - the cluster changes of replaceVideoFaces are written right after a successful flip (not
//   before: a superseded replace must not apply them). A crash between the two leaves the
//   clusters without this video's change, the same drift two workers racing on one cluster give
//   the embedded store;
// - replaceFaceSpansOfVideos replaces each video's FACE spans atomically, one video after another;
// - deleteVideo deletes the video's state document first (everything of the video disappears for
//   readers at once), then takes its tracks out of their clusters, then deletes the documents: a
//   crash after the first step loses the cluster subtraction rather than applying it twice.
// Cluster documents are single documents with `_id` = cluster id; the subtraction of deleteVideo
// is a read-modify-write guarded by if_seq_no, so a concurrent cluster write is never lost.
//
// Visibility: searches see only refreshed writes, and most reads here are searches. So new
// generations and cluster writes use refresh 'wait_for', editor updates (assignTracks, reassign,
// forget, purge) refresh when done; the flip is read by GET and needs none, and the clean-up of
// older generations needs none either (readers filter them out by generation).
import type { Client, estypes } from '@elastic/elasticsearch';
import type { Page, PageArgs } from '../../domain.js';
import { BadInputError } from '../../errors.js';
import {
  removeClusterMembers,
  type AppearanceRepository,
  type AppearanceSpanRecord,
  type ClusterFilter,
  type FaceClusterRecord,
  type FaceIndexResult,
  type FaceRecord,
  type FaceTrackRecord,
  type SpanEvidence,
} from '../appearances.js';
import { inOrder } from '../catalog-records.js';
import { decodeCursor, encodeCursor } from '../embedded/cursor.js';
import { isConflict } from './actors.js';
import {
  chunks,
  generationId,
  spanAfter,
  storedCluster,
  storedFace,
  storedTrack,
  toCluster,
  toFace,
  toSpan,
  toTrack,
  type StoredCluster,
  type StoredFace,
  type StoredSpan,
  type StoredTrack,
} from './appearance-documents.js';
import { AppearanceGenerations } from './appearance-generations.js';
import type { BulkDocument } from './bulk.js';
import { DEFAULT_BACKOFF, isNotFound, type ElasticRepositoryOptions } from './client.js';
import { asc, CONFLICT_RETRIES, desc, ElasticDocuments, filterQuery, missing, term, terms, type Query, type Sort } from './documents.js';
import { migrateAppearanceIndices, type AppearanceIndex } from './presence-schema.js';
import type { VersionedIndexResult } from './schema.js';

const SET_FIELDS_SCRIPT = 'for (entry in params.fields.entrySet()) { ctx._source[entry.getKey()] = entry.getValue(); }';


// Unique sort keys, so search_after pages never skip or repeat a document.
const ACROSS_VIDEOS = [asc('videoId'), asc('start'), asc('id'), asc('generation')];
const BY_ID = [asc('id'), asc('generation')];

export interface ElasticAppearanceOptions extends ElasticRepositoryOptions {
  /** Clock for generation numbers (ms). */
  now?: () => number;
}

export class ElasticAppearanceRepository implements AppearanceRepository {
  private readonly generations: AppearanceGenerations;

  constructor(
    private readonly documents: ElasticDocuments,
    private readonly index: Record<AppearanceIndex, string>,
    options: Pick<ElasticAppearanceOptions, 'now'> = {},
  ) {
    this.generations = new AppearanceGenerations(documents, index['appearance-videos'], options.now ?? Date.now);
  }

  /** Migrates the appearance indices forward to this build's schema, then opens the repository on them. */
  static async open(
    client: Client,
    options: ElasticAppearanceOptions = {},
  ): Promise<{ repository: ElasticAppearanceRepository; migration: Record<AppearanceIndex, VersionedIndexResult> }> {
    const { aliases, results } = await migrateAppearanceIndices(client, options.prefix ?? 'vidsearch');
    const documents = new ElasticDocuments(client, options.backoff ?? DEFAULT_BACKOFF);
    return { repository: new ElasticAppearanceRepository(documents, aliases, options), migration: results };
  }

  private get client(): Client {
    return this.documents.client;
  }

  private call<T>(request: () => Promise<T>): Promise<T> {
    return this.documents.call(request);
  }

  async replaceVideoFaces(videoId: string, result: FaceIndexResult): Promise<void> {
    const foreign = [...result.tracks, ...result.faces, ...result.spans].find((r) => r.videoId !== videoId);
    if (foreign) throw new BadInputError(`replaceVideoFaces(${videoId}) got ${foreign.id} of video ${foreign.videoId}`);
    const voice = result.spans.find((s) => s.evidence !== 'FACE');
    if (voice) throw new BadInputError(`replaceVideoFaces(${videoId}) got the ${voice.evidence} span ${voice.id}; it replaces FACE spans only`);
    await this.generations.replace(
      videoId,
      ['faces', 'FACE'],
      (generation) => [
        ...result.tracks.map((t): BulkDocument => ({ index: this.index['face-tracks'], id: generationId(t.id, generation), source: storedTrack(t, generation) })),
        ...result.faces.map((f): BulkDocument => ({ index: this.index.faces, id: generationId(f.id, generation), source: storedFace(f, generation) })),
        ...result.spans.map((s): BulkDocument => ({ index: this.index['appearance-spans'], id: generationId(s.id, generation), source: { ...s, generation } })),
      ],
      // Tracks and faces have no evidence field: only VOICE spans stay out of the clean-up.
      { indices: [this.index['face-tracks'], this.index.faces, this.index['appearance-spans']], filter: [], mustNot: [term('evidence', 'VOICE')] },
      () => this.putClusters(result.clusters),
    );
  }

  // ---- tracks --------------------------------------------------------------------------------

  async getTracksOfVideo(videoId: string): Promise<FaceTrackRecord[]> {
    const generation = (await this.generations.ofVideo(videoId)).faces;
    if (generation === undefined) return [];
    const docs = await this.documents.searchAll<StoredTrack>(this.index['face-tracks'], filterQuery(term('videoId', videoId), term('generation', generation)), [
      asc('start'),
      asc('id'),
    ]);
    return docs.map(toTrack);
  }

  private async currentTracks(query: Query, sort: Sort[]): Promise<FaceTrackRecord[]> {
    const docs = await this.documents.searchAll<StoredTrack>(this.index['face-tracks'], query, sort);
    return (await this.generations.current(docs, () => 'faces')).map(toTrack);
  }

  async getTracksOfCluster(clusterId: string): Promise<FaceTrackRecord[]> {
    return this.currentTracks(filterQuery(term('clusterId', clusterId)), ACROSS_VIDEOS);
  }

  async getTracksOfActor(actorId: string): Promise<FaceTrackRecord[]> {
    return this.currentTracks(filterQuery(term('actorId', actorId)), ACROSS_VIDEOS);
  }

  async getTracks(ids: readonly string[]): Promise<(FaceTrackRecord | null)[]> {
    if (ids.length === 0) return [];
    return inOrder(ids, await this.currentTracks(filterQuery(terms('id', ids)), BY_ID));
  }

  async assignTracks(trackIds: readonly string[], actorId: string | null, confidence: number): Promise<void> {
    if (trackIds.length === 0) return;
    // Every generation of the tracks: a replace in flight keeps the editor's decision either way.
    await this.updateWhere(this.index['face-tracks'], filterQuery(terms('id', trackIds)), { actorId, confidence, similarity: null });
  }

  // ---- faces ---------------------------------------------------------------------------------

  async getFaces(ids: readonly string[]): Promise<(FaceRecord | null)[]> {
    if (ids.length === 0) return [];
    const docs = await this.documents.searchAll<StoredFace>(this.index.faces, filterQuery(terms('id', ids)), BY_ID);
    return inOrder(ids, (await this.generations.current(docs, () => 'faces')).map(toFace));
  }

  async getFacesOfTracks(trackIds: readonly string[]): Promise<FaceRecord[]> {
    if (trackIds.length === 0) return [];
    const docs = await this.documents.searchAll<StoredFace>(this.index.faces, filterQuery(terms('trackId', trackIds)), [
      asc('trackId'),
      desc('quality'),
      asc('id'),
      asc('generation'),
    ]);
    return (await this.generations.current(docs, () => 'faces')).map(toFace);
  }

  // ---- clusters ------------------------------------------------------------------------------

  async getCluster(id: string): Promise<FaceClusterRecord | null> {
    const doc = await this.documents.getOne<StoredCluster>(this.index['face-clusters'], id);
    return doc ? toCluster(doc) : null;
  }

  async listClusters(filter: ClusterFilter, page: PageArgs): Promise<Page<FaceClusterRecord>> {
    const filters: Query[] = filter.named === true ? [{ exists: { field: 'actorId' } }] : filter.named === false ? [missing('actorId')] : [];
    // Same sort key as the embedded cursor: (createdAt, id) of the last cluster, newest first.
    const after = page.after ? decodeCursor(page.after, { createdAt: 'string', id: 'string' }) : null;
    return this.documents.searchPage<StoredCluster, FaceClusterRecord>({
      index: this.index['face-clusters'],
      query: filterQuery(...filters),
      sort: [desc('createdAt'), desc('id')],
      page,
      after: after ? [after.createdAt, after.id] : null,
      toItem: toCluster,
      cursorOf: (cluster) => encodeCursor({ createdAt: cluster.createdAt, id: cluster.id }),
    });
  }

  async openClusters(modelId: string): Promise<FaceClusterRecord[]> {
    const docs = await this.documents.searchAll<StoredCluster>(this.index['face-clusters'], filterQuery(term('modelId', modelId), missing('actorId')), [asc('id')]);
    return docs.map(toCluster);
  }

  /** Upserts clusters; a cluster left with no member is deleted. */
  async putClusters(clusters: readonly FaceClusterRecord[]): Promise<void> {
    if (clusters.length === 0) return;
    const index = this.index['face-clusters'];
    const operations = clusters.flatMap((c): (estypes.BulkOperationContainer | StoredCluster)[] =>
      c.size <= 0 ? [{ delete: { _index: index, _id: c.id } }] : [{ index: { _index: index, _id: c.id } }, storedCluster(c)],
    );
    const response = await this.call(() => this.client.bulk({ operations, refresh: 'wait_for' }));
    // A delete of a cluster that is not there answers 404 without an error: nothing to report.
    const failed = response.items.flatMap((item) => Object.values(item)).filter((result) => result?.error);
    if (failed.length) throw new Error(`Elasticsearch refused ${failed.length} cluster writes: ${failed[0]!.error!.reason ?? failed[0]!.error!.type}`);
  }

  async purgeUnknownFaces(before: string): Promise<{ clusterIds: string[]; faceIds: string[] }> {
    const stale = await this.documents.searchAll<Pick<StoredCluster, 'id'>>(
      this.index['face-clusters'],
      filterQuery(missing('actorId'), { range: { updatedAt: { lt: before } } }),
      [asc('id')],
    );
    const clusterIds = stale.map((c) => c.id);
    const faceIds = new Set<string>();
    for (const clusters of chunks(clusterIds)) {
      const unknownTracks = filterQuery(terms('clusterId', clusters), missing('actorId'));
      const trackIds = [...new Set((await this.documents.searchAll<Pick<StoredTrack, 'id'>>(this.index['face-tracks'], unknownTracks, BY_ID)).map((t) => t.id))];
      // Clusters go last: a retry after a crash finds them again and finishes the job.
      for (const tracks of chunks(trackIds)) {
        const ofTracks = filterQuery(terms('trackId', tracks));
        for (const f of await this.documents.searchAll<Pick<StoredFace, 'id'>>(this.index.faces, ofTracks, BY_ID)) faceIds.add(f.id);
        await this.documents.deleteWhere(this.index.faces, ofTracks, { refresh: true });
      }
      await this.documents.deleteWhere(this.index['face-tracks'], unknownTracks, { refresh: true });
      // Members an editor gave to an actor stay, without the cluster.
      await this.updateWhere(this.index['face-tracks'], filterQuery(terms('clusterId', clusters)), { clusterId: null });
      await this.documents.deleteWhere(this.index['face-clusters'], filterQuery(terms('id', clusters)), { refresh: true });
    }
    return { clusterIds, faceIds: [...faceIds] };
  }

  // ---- spans ---------------------------------------------------------------------------------

  async replaceSpans(videoId: string, evidence: SpanEvidence, spans: readonly AppearanceSpanRecord[]): Promise<void> {
    const foreign = spans.find((s) => s.videoId !== videoId || s.evidence !== evidence);
    if (foreign) throw new BadInputError(`replaceSpans(${videoId}, ${evidence}) got the span ${foreign.id} of another video or evidence`);
    await this.generations.replace(
      videoId,
      [evidence],
      (generation) => spans.map((s): BulkDocument => ({ index: this.index['appearance-spans'], id: generationId(s.id, generation), source: { ...s, generation } })),
      { indices: [this.index['appearance-spans']], filter: [term('evidence', evidence)], mustNot: [] },
    );
  }

  async replaceFaceSpansOfVideos(spansByVideo: ReadonlyMap<string, readonly AppearanceSpanRecord[]>): Promise<void> {
    for (const [videoId, spans] of spansByVideo) await this.replaceSpans(videoId, 'FACE', spans);
  }

  /** The video's current span sets as a query clause, or null when it has none. */
  private async currentSpansOf(videoId: string): Promise<Query | null> {
    const generations = await this.generations.ofVideo(videoId);
    const current = (['FACE', 'VOICE'] as const).flatMap((evidence) => {
      const generation = generations[evidence];
      return generation === undefined ? [] : [filterQuery(term('evidence', evidence), term('generation', generation))];
    });
    return current.length ? { bool: { should: current, minimum_should_match: 1 } } : null;
  }

  async getSpans(videoId: string, actorIds: readonly string[], minConfidence: number): Promise<AppearanceSpanRecord[]> {
    if (actorIds.length === 0) return [];
    const current = await this.currentSpansOf(videoId);
    if (!current) return [];
    const query = filterQuery(term('videoId', videoId), terms('actorId', actorIds), { range: { confidence: { gte: minConfidence } } }, current);
    return (await this.documents.searchAll<StoredSpan>(this.index['appearance-spans'], query, [asc('start'), asc('id'), asc('generation')])).map(toSpan);
  }

  async getSpansOfVideo(videoId: string, window?: { from: number; to: number }): Promise<AppearanceSpanRecord[]> {
    const current = await this.currentSpansOf(videoId);
    if (!current) return [];
    const inWindow = window ? [{ range: { start: { lte: window.to } } }, { range: { end: { gte: window.from } } }] : [];
    const query = filterQuery(term('videoId', videoId), ...inWindow, current);
    return (await this.documents.searchAll<StoredSpan>(this.index['appearance-spans'], query, [asc('actorId'), asc('start'), asc('id'), asc('generation')])).map(
      toSpan,
    );
  }

  async listSpansOfActor(actorId: string, page: PageArgs): Promise<Page<AppearanceSpanRecord>> {
    const cursor = page.after ? decodeCursor(page.after, { v: 'string', s: 'number', i: 'string' }) : null;
    // The whole current set of the actor: the total counts only current generations, which a
    // search cannot tell apart. An actor's spans are a few per video they appear in.
    const docs = await this.documents.searchAll<StoredSpan>(this.index['appearance-spans'], filterQuery(term('actorId', actorId)), ACROSS_VIDEOS);
    const all = (await this.generations.current(docs, (d) => d.evidence)).map(toSpan);
    const after = cursor ? { v: String(cursor.v), s: Number(cursor.s), i: String(cursor.i) } : null;
    const rest = after ? all.filter((span) => spanAfter(span, after)) : all;
    const items = rest.slice(0, page.first);
    const last = items.at(-1);
    return {
      items,
      endCursor: last ? encodeCursor({ v: last.videoId, s: last.start, i: last.id }) : (page.after ?? null),
      hasNextPage: rest.length > items.length,
      totalCount: all.length,
    };
  }

  // ---- actors --------------------------------------------------------------------------------

  async reassignActor(sourceId: string, targetId: string): Promise<void> {
    await this.updateWhere(this.index['face-tracks'], filterQuery(term('actorId', sourceId)), { actorId: targetId });
    await this.updateWhere(this.index['face-clusters'], filterQuery(term('actorId', sourceId)), { actorId: targetId });
    await this.updateWhere(this.index['appearance-spans'], filterQuery(term('actorId', sourceId), term('evidence', 'VOICE')), { actorId: targetId });
  }

  async forgetActor(actorId: string): Promise<void> {
    await this.updateWhere(this.index['face-tracks'], filterQuery(term('actorId', actorId)), { actorId: null, similarity: null });
    await this.updateWhere(this.index['face-clusters'], filterQuery(term('actorId', actorId)), { actorId: null });
    await this.documents.deleteWhere(this.index['appearance-spans'], filterQuery(term('actorId', actorId)), { refresh: true });
  }

  // ---- videos --------------------------------------------------------------------------------

  async deleteVideo(videoId: string): Promise<string[]> {
    const tracks = await this.getTracksOfVideo(videoId);
    const ofVideo = filterQuery(term('videoId', videoId));
    // Every generation's face ids: the caller drops their vectors.
    const faceIds = [...new Set((await this.documents.searchAll<Pick<StoredFace, 'id'>>(this.index.faces, ofVideo, BY_ID)).map((f) => f.id))];
    await this.documents.deleteOne(this.index['appearance-videos'], videoId, false);
    const goneFaces = new Set(faceIds);
    const byCluster = new Map<string, FaceTrackRecord[]>();
    for (const track of tracks) if (track.clusterId) byCluster.set(track.clusterId, [...(byCluster.get(track.clusterId) ?? []), track]);
    for (const [clusterId, members] of byCluster) await this.removeFromCluster(clusterId, members, goneFaces);
    await this.documents.deleteWhere([this.index['face-tracks'], this.index.faces, this.index['appearance-spans']], ofVideo, { refresh: true });
    return faceIds;
  }

  /** Members leave their cluster: their embeddings are subtracted so the centroid stays honest. */
  private async removeFromCluster(clusterId: string, members: readonly FaceTrackRecord[], goneFaces: ReadonlySet<string>): Promise<void> {
    const index = this.index['face-clusters'];
    for (let attempt = 0; ; attempt += 1) {
      let read: estypes.GetGetResult<StoredCluster>;
      try {
        read = await this.call(() => this.client.get<StoredCluster>({ index, id: clusterId }));
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      if (!read._source) return;
      const cluster = toCluster(read._source);
      removeClusterMembers(cluster, members, goneFaces);
      const guard = { if_seq_no: read._seq_no, if_primary_term: read._primary_term };
      try {
        if (cluster.size <= 0) await this.call(() => this.client.delete({ index, id: clusterId, ...guard, refresh: 'wait_for' }));
        else await this.call(() => this.client.index({ index, id: clusterId, document: storedCluster(cluster), ...guard, refresh: 'wait_for' }));
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
      }
    }
  }

  /**
   * Sets `fields` on every document the query matches, then refreshes (reads search right after).
   * Idempotent, so documents skipped on a version conflict (a concurrent write) are retried after
   * a refresh.
   */
  private async updateWhere(index: string, query: Query, fields: Record<string, string | number | null>): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      const response = await this.call(() =>
        this.client.updateByQuery({ index, query, script: { source: SET_FIELDS_SCRIPT, lang: 'painless', params: { fields } }, conflicts: 'proceed', refresh: true }),
      );
      if (!response.version_conflicts) return;
      if (attempt >= CONFLICT_RETRIES) throw new Error(`update of ${index} kept meeting concurrent writes (${response.version_conflicts} conflicts)`);
      await this.call(() => this.client.indices.refresh({ index }));
    }
  }
}
