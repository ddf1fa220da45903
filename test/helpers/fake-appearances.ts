// In-memory AppearanceRepository for unit tests of services (part of the fake store). Follows the
// interface's ordering and replace-per-video rules; the embedded backend is the reference.
import { pageOf } from './paging.js';
import type { Page, PageArgs } from '../../src/domain.js';
import type {
  AppearanceRepository,
  AppearanceSpanRecord,
  ClusterFilter,
  FaceClusterRecord,
  FaceIndexResult,
  FaceRecord,
  FaceTrackRecord,
  SpanEvidence,
} from '../../src/store/appearances.js';

/** Code-unit order, like SQLite's BINARY collation on the ASCII ids the tests use. */
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class FakeAppearanceRepository implements AppearanceRepository {
  readonly tracks = new Map<string, FaceTrackRecord>();
  readonly faces = new Map<string, FaceRecord>();
  readonly clusters = new Map<string, FaceClusterRecord>();
  readonly spans = new Map<string, AppearanceSpanRecord>();

  async replaceVideoFaces(videoId: string, result: FaceIndexResult): Promise<void> {
    await this.dropVideo(videoId, 'FACE');
    for (const track of result.tracks) this.tracks.set(track.id, { ...track });
    for (const face of result.faces) this.faces.set(face.id, { ...face });
    for (const span of result.spans) this.spans.set(span.id, { ...span });
    await this.putClusters(result.clusters);
  }
  async getTracksOfVideo(videoId: string): Promise<FaceTrackRecord[]> {
    return this.sortedTracks((t) => t.videoId === videoId);
  }
  async getTracksOfCluster(clusterId: string): Promise<FaceTrackRecord[]> {
    return this.sortedTracks((t) => t.clusterId === clusterId);
  }
  async getTracksOfActor(actorId: string): Promise<FaceTrackRecord[]> {
    return this.sortedTracks((t) => t.actorId === actorId);
  }
  async getTracks(ids: readonly string[]): Promise<(FaceTrackRecord | null)[]> {
    return ids.map((id) => this.tracks.get(id) ?? null);
  }
  async assignTracks(trackIds: readonly string[], actorId: string | null, confidence: number): Promise<void> {
    for (const id of trackIds) {
      const track = this.tracks.get(id);
      if (track) Object.assign(track, { actorId, confidence, similarity: null });
    }
  }
  async getFaces(ids: readonly string[]): Promise<(FaceRecord | null)[]> {
    return ids.map((id) => this.faces.get(id) ?? null);
  }
  async getFacesOfTracks(trackIds: readonly string[]): Promise<FaceRecord[]> {
    return [...this.faces.values()]
      .filter((f) => trackIds.includes(f.trackId))
      .sort((a, b) => trackIds.indexOf(a.trackId) - trackIds.indexOf(b.trackId) || b.quality - a.quality);
  }
  async getCluster(id: string): Promise<FaceClusterRecord | null> {
    return this.clusters.get(id) ?? null;
  }
  async listClusters(filter: ClusterFilter, page: PageArgs): Promise<Page<FaceClusterRecord>> {
    const all = [...this.clusters.values()]
      .filter((c) => filter.named == null || (c.actorId !== null) === filter.named)
      .sort((a, b) => byCodeUnit(b.createdAt, a.createdAt) || byCodeUnit(b.id, a.id));
    return pageOf(all, page);
  }
  async openClusters(modelId: string): Promise<FaceClusterRecord[]> {
    return [...this.clusters.values()].filter((c) => c.actorId === null && c.modelId === modelId).sort((a, b) => byCodeUnit(a.id, b.id));
  }
  async putClusters(clusters: readonly FaceClusterRecord[]): Promise<void> {
    for (const cluster of clusters) {
      if (cluster.size <= 0) this.clusters.delete(cluster.id);
      else this.clusters.set(cluster.id, { ...cluster });
    }
  }
  async purgeUnknownFaces(before: string): Promise<{ clusterIds: string[]; faceIds: string[] }> {
    const clusterIds = [...this.clusters.values()].filter((c) => c.actorId === null && c.updatedAt < before).map((c) => c.id);
    const faceIds: string[] = [];
    for (const id of clusterIds) this.clusters.delete(id);
    for (const [trackId, track] of this.tracks) {
      if (!track.clusterId || !clusterIds.includes(track.clusterId)) continue;
      if (track.actorId !== null) {
        track.clusterId = null;
        continue;
      }
      this.tracks.delete(trackId);
      for (const [faceId, face] of this.faces) {
        if (face.trackId !== trackId) continue;
        this.faces.delete(faceId);
        faceIds.push(faceId);
      }
    }
    return { clusterIds, faceIds };
  }
  async replaceSpans(videoId: string, evidence: SpanEvidence, spans: readonly AppearanceSpanRecord[]): Promise<void> {
    if (spans.some((s) => s.videoId !== videoId || s.evidence !== evidence)) throw new Error(`replaceSpans(${videoId}, ${evidence}) got a span of another video or evidence`);
    for (const [id, span] of this.spans) if (span.videoId === videoId && span.evidence === evidence) this.spans.delete(id);
    for (const span of spans) this.spans.set(span.id, { ...span });
  }
  async replaceFaceSpansOfVideos(spansByVideo: ReadonlyMap<string, readonly AppearanceSpanRecord[]>): Promise<void> {
    for (const [videoId, spans] of spansByVideo) await this.replaceSpans(videoId, 'FACE', spans);
  }
  async getSpans(videoId: string, actorIds: readonly string[], minConfidence: number): Promise<AppearanceSpanRecord[]> {
    return [...this.spans.values()]
      .filter((s) => s.videoId === videoId && actorIds.includes(s.actorId) && s.confidence >= minConfidence)
      .sort((a, b) => a.start - b.start || byCodeUnit(a.id, b.id));
  }
  async getSpansOfVideo(videoId: string, window?: { from: number; to: number }): Promise<AppearanceSpanRecord[]> {
    return [...this.spans.values()]
      .filter((s) => s.videoId === videoId && (!window || (s.start <= window.to && s.end >= window.from)))
      .sort((a, b) => byCodeUnit(a.actorId, b.actorId) || a.start - b.start || byCodeUnit(a.id, b.id));
  }
  async listSpansOfActor(actorId: string, page: PageArgs): Promise<Page<AppearanceSpanRecord>> {
    const all = [...this.spans.values()]
      .filter((s) => s.actorId === actorId)
      .sort((a, b) => byCodeUnit(a.videoId, b.videoId) || a.start - b.start || byCodeUnit(a.id, b.id));
    return pageOf(all, page);
  }
  async reassignActor(sourceId: string, targetId: string): Promise<void> {
    for (const track of this.tracks.values()) if (track.actorId === sourceId) track.actorId = targetId;
    for (const cluster of this.clusters.values()) if (cluster.actorId === sourceId) cluster.actorId = targetId;
    for (const span of this.spans.values()) if (span.actorId === sourceId && span.evidence === 'VOICE') span.actorId = targetId;
  }
  async forgetActor(actorId: string): Promise<void> {
    for (const track of this.tracks.values()) if (track.actorId === actorId) Object.assign(track, { actorId: null, similarity: null });
    for (const cluster of this.clusters.values()) if (cluster.actorId === actorId) cluster.actorId = null;
    for (const [id, span] of this.spans) if (span.actorId === actorId) this.spans.delete(id);
  }
  async deleteVideo(videoId: string): Promise<string[]> {
    const goneFaces = new Set([...this.faces.values()].filter((f) => f.videoId === videoId).map((f) => f.id));
    // Members leave their clusters, as in the embedded store.
    for (const track of this.tracks.values()) {
      const cluster = track.videoId === videoId && track.clusterId ? this.clusters.get(track.clusterId) : undefined;
      if (!cluster) continue;
      const vectorSum = cluster.vectorSum.map((value, i) => value - (track.embedding[i] ?? 0));
      const bestGone = cluster.bestFaceId !== null && goneFaces.has(cluster.bestFaceId);
      await this.putClusters([
        { ...cluster, vectorSum, size: cluster.size - 1, updatedAt: new Date().toISOString(), ...(bestGone ? { bestFaceId: null, bestFaceQuality: 0 } : {}) },
      ]);
    }
    return this.dropVideo(videoId, null);
  }

  /** Removes a video's tracks and faces, and its spans of one evidence kind (null: all); returns the face ids. */
  private async dropVideo(videoId: string, spanEvidence: SpanEvidence | null): Promise<string[]> {
    const faceIds = [...this.faces.values()].filter((f) => f.videoId === videoId).map((f) => f.id);
    for (const id of faceIds) this.faces.delete(id);
    for (const [id, track] of this.tracks) if (track.videoId === videoId) this.tracks.delete(id);
    for (const [id, span] of this.spans) if (span.videoId === videoId && (spanEvidence === null || span.evidence === spanEvidence)) this.spans.delete(id);
    return faceIds;
  }

  private sortedTracks(keep: (track: FaceTrackRecord) => boolean): FaceTrackRecord[] {
    return [...this.tracks.values()].filter(keep).sort((a, b) => byCodeUnit(a.videoId, b.videoId) || a.start - b.start || byCodeUnit(a.id, b.id));
  }
}
