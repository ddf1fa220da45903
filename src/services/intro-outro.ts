// Intro/outro skip markers: what the player skips, an editor's correction winning over automatic
// matching, and re-matching a series on demand (an editor resetting a marker, or an episode added).
import { BadInputError, NotFoundError } from '../errors.js';
import { rematchSeries } from '../indexers/fingerprints/series.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/interfaces.js';
import type { SkipMarkerKind, SkipMarkerRecord } from '../store/intro.js';

export interface SkipMarkers {
  intro: SkipMarkerRecord | null;
  outro: SkipMarkerRecord | null;
}

export interface IntroOutroService {
  /** Same order as `videoIds`: the editor's marker of each kind, else the automatic one. */
  markersOf(videoIds: readonly string[]): Promise<SkipMarkers[]>;
  /** An editor's correction; automatic matching never overwrites it. */
  setMarker(videoId: string, kind: SkipMarkerKind, start: number, end: number): Promise<SkipMarkerRecord>;
  /** Drops the editor's marker and re-matches the series; returns the markers now in force. */
  resetMarker(videoId: string, kind: SkipMarkerKind): Promise<SkipMarkers>;
}

export interface IntroOutroDeps {
  store: Store;
  log: Logger;
  now?: () => string;
}

function pick(markers: readonly SkipMarkerRecord[], kind: SkipMarkerKind): SkipMarkerRecord | null {
  const ofKind = markers.filter((m) => m.kind === kind);
  return ofKind.find((m) => m.source === 'EDITOR') ?? ofKind.find((m) => m.source === 'AUTO') ?? null;
}

export function createIntroOutroService(deps: IntroOutroDeps): IntroOutroService {
  const { store, log } = deps;
  const now = deps.now ?? (() => new Date().toISOString());

  async function markersOf(videoIds: readonly string[]): Promise<SkipMarkers[]> {
    const all = await store.intro.getMarkers(videoIds);
    return all.map((markers) => ({ intro: pick(markers, 'INTRO'), outro: pick(markers, 'OUTRO') }));
  }

  return {
    markersOf,
    async setMarker(videoId, kind, start, end) {
      const video = await store.catalog.getVideo(videoId);
      if (!video) throw new NotFoundError('video', videoId);
      if (!Number.isFinite(start) || !Number.isFinite(end) || start < 0 || end <= start) {
        throw new BadInputError('start and end must be seconds with 0 ≤ start < end', { start, end });
      }
      if (video.durationSec > 0 && end > video.durationSec + 0.5) {
        throw new BadInputError(`end ${end} is past the end of the video (${video.durationSec} s)`, { end });
      }
      const marker: SkipMarkerRecord = { videoId, kind, start, end, confidence: 1, source: 'EDITOR', matchedVideoIds: [], updatedAt: now() };
      await store.intro.putEditorMarker(videoId, kind, marker);
      log.info({ videoId, kind, start, end }, 'skip marker set by an editor');
      return marker;
    },
    async resetMarker(videoId, kind) {
      const video = await store.catalog.getVideo(videoId);
      if (!video) throw new NotFoundError('video', videoId);
      await store.intro.putEditorMarker(videoId, kind, null);
      if (video.series) await rematchSeries(store, video.series, log);
      return (await markersOf([videoId]))[0]!;
    },
  };
}
