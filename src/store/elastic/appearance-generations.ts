// The generation scheme of the appearance indices (appearances.ts explains it): per video, the
// state document in `appearance-videos` holds the current generation of each slot; new sets are
// written under a new generation, flipped to, then older generations deleted.
import { bulkIndex, type BulkDocument } from './bulk.js';
import { CONFLICT_RETRIES, generationFlip, term, type ElasticDocuments, type Query } from './documents.js';
import type { PresenceSlot } from './presence-schema.js';

export type Generations = Partial<Record<PresenceSlot, number>>;

export interface StoredVideoState {
  videoId: string;
  generations?: Generations;
}

export class AppearanceGenerations {
  constructor(
    private readonly documents: ElasticDocuments,
    /** The `appearance-videos` index: one state document per video. */
    private readonly stateIndex: string,
    /** Clock for generation numbers (ms). */
    private readonly now: () => number,
  ) {}

  private get client(): ElasticDocuments['client'] {
    return this.documents.client;
  }

  async ofVideo(videoId: string): Promise<Generations> {
    return (await this.documents.getOne<StoredVideoState>(this.stateIndex, videoId))?.generations ?? {};
  }

  /** Keeps the documents whose generation is their video's current one for `slotOf(doc)`. */
  async current<T extends { videoId: string; generation: number }>(docs: readonly T[], slotOf: (doc: T) => PresenceSlot): Promise<T[]> {
    const videoIds = [...new Set(docs.map((d) => d.videoId))];
    const states = await this.documents.getMany<StoredVideoState>(this.stateIndex, videoIds);
    const generations = new Map(videoIds.map((id, i) => [id, states[i]?.generations ?? {}]));
    return docs.filter((doc) => generations.get(doc.videoId)?.[slotOf(doc)] === doc.generation);
  }

  /**
   * Writes `documents(generation)`, flips the video's `slots` to it, runs `afterFlip`, then deletes
   * what `scope` matches under older generations. A superseded flip (a later replace already won)
   * deletes its own documents instead and skips `afterFlip`.
   */
  async replace(
    videoId: string,
    slots: readonly PresenceSlot[],
    documents: (generation: number) => BulkDocument[],
    scope: { indices: string[]; filter: Query[]; mustNot: Query[] },
    afterFlip: () => Promise<void> = async () => undefined,
  ): Promise<void> {
    const stored = await this.ofVideo(videoId);
    const newest = Math.max(0, ...slots.map((slot) => stored[slot] ?? 0));
    const generation = Math.max(newest + 1, this.now());
    const inScope = (generationFilter: Query): Query => ({
      bool: { filter: [term('videoId', videoId), ...scope.filter, generationFilter], ...(scope.mustNot.length ? { must_not: scope.mustNot } : {}) },
    });

    await bulkIndex(this.client, documents(generation), 'wait_for', this.documents.backoff);
    const upsert: StoredVideoState = { videoId, generations: {} };
    const flip = await this.documents.call(() =>
      this.client.update({
        index: this.stateIndex,
        id: videoId,
        script: generationFlip(slots, generation),
        upsert,
        scripted_upsert: true,
        retry_on_conflict: CONFLICT_RETRIES,
      }),
    );
    if (flip.result === 'noop') {
      await this.documents.deleteWhere(scope.indices, inScope(term('generation', generation)));
      return;
    }
    await afterFlip();
    await this.documents.deleteWhere(scope.indices, inScope({ range: { generation: { lt: generation } } }));
  }
}
