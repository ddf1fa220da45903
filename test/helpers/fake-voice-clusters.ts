// In-memory VoiceClusterRepository for unit tests (part of the fake store; the shared suite
// test/store/conformance-voice-clusters.ts runs against it too). The embedded backend is the reference.
import type { Page, PageArgs } from '../../src/domain.js';
import { actorsOfCluster, type VoiceClusterFilter, type VoiceClusterRecord, type VoiceClusterRepository, type VoiceClusterWithVector } from '../../src/store/voice-clusters.js';
import { pageOf } from './paging.js';

/** Code-unit order, like SQLite's BINARY collation on the ASCII ids the tests use. */
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const copy = (r: VoiceClusterRecord): VoiceClusterRecord => ({ ...r, turns: r.turns.map((t) => ({ ...t })) });

export class FakeVoiceClusterRepository implements VoiceClusterRepository {
  readonly clusters = new Map<string, VoiceClusterWithVector>();

  private records(keep: (r: VoiceClusterRecord) => boolean): VoiceClusterRecord[] {
    return [...this.clusters.values()].map((c) => c.record).filter(keep).map(copy).sort((a, b) => byCodeUnit(a.id, b.id));
  }

  async replaceVideo(videoId: string, clusters: readonly VoiceClusterWithVector[]): Promise<void> {
    if (clusters.some((c) => c.record.videoId !== videoId)) throw new Error(`replaceVideo(${videoId}) got a cluster of another video`);
    await this.deleteVideo(videoId);
    for (const { record, vector } of clusters) this.clusters.set(record.id, { record: copy(record), vector: Float32Array.from(vector) });
  }
  async get(id: string): Promise<VoiceClusterRecord | null> {
    const found = this.clusters.get(id);
    return found ? copy(found.record) : null;
  }
  async getVector(id: string): Promise<Float32Array | null> {
    const found = this.clusters.get(id);
    return found ? Float32Array.from(found.vector) : null;
  }
  async listOfVideo(videoId: string): Promise<VoiceClusterRecord[]> {
    return this.records((r) => r.videoId === videoId);
  }
  async listOfActor(actorId: string): Promise<VoiceClusterRecord[]> {
    return this.records((r) => actorsOfCluster(r).includes(actorId));
  }
  async list(filter: VoiceClusterFilter, page: PageArgs): Promise<Page<VoiceClusterRecord>> {
    const all = this.records((r) => filter.named == null || (r.actorId !== null) === filter.named).sort(
      (a, b) => byCodeUnit(b.createdAt, a.createdAt) || byCodeUnit(b.id, a.id),
    );
    return pageOf(all, page);
  }
  async update(records: readonly VoiceClusterRecord[]): Promise<void> {
    for (const r of records) {
      const stored = this.clusters.get(r.id);
      if (stored) stored.record = { ...stored.record, actorId: r.actorId, origin: r.origin, turns: r.turns.map((t) => ({ ...t })), updatedAt: r.updatedAt };
    }
  }
  async purgeUnknown(before: string): Promise<number> {
    const stale = this.records((r) => actorsOfCluster(r).length === 0 && r.updatedAt < before);
    for (const r of stale) this.clusters.delete(r.id);
    return stale.length;
  }
  async deleteVideo(videoId: string): Promise<void> {
    for (const [id, c] of this.clusters) if (c.record.videoId === videoId) this.clusters.delete(id);
  }
}
