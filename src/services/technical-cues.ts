// Technical cues, per-shot visual quality and the poster frame of a video, from the store.
import { NotFoundError } from '../errors.js';
import { choosePoster } from '../indexers/quality.js';
import type { Store } from '../store/interfaces.js';
import type { ShotQualityRecord, TechnicalCueRecord, TechnicalCueType } from '../store/technical.js';

export interface TechnicalCuesService {
  /** Cues in time order, optionally of some types only. */
  technicalCues(videoId: string, types?: readonly TechnicalCueType[] | null): Promise<TechnicalCueRecord[]>;
  shotQuality(videoId: string): Promise<ShotQualityRecord[]>;
  /** The clean shot frame to use as the poster; null when no shot is clean (never an unclean frame). */
  poster(videoId: string): Promise<ShotQualityRecord | null>;
}

export function createTechnicalCuesService(deps: { store: Store }): TechnicalCuesService {
  const { store } = deps;
  async function requireVideo(videoId: string): Promise<void> {
    if (!(await store.catalog.getVideo(videoId))) throw new NotFoundError('video', videoId);
  }
  return {
    async technicalCues(videoId, types) {
      await requireVideo(videoId);
      const cues = await store.technical.getCues(videoId);
      return types?.length ? cues.filter((c) => types.includes(c.type)) : cues;
    },
    async shotQuality(videoId) {
      await requireVideo(videoId);
      return store.technical.getShotQuality(videoId);
    },
    async poster(videoId) {
      return choosePoster(await store.technical.getShotQuality(videoId));
    },
  };
}
