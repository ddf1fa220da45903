// Intro/outro markers of a series: every episode matched against its siblings, spans agreed by vote.
import type { Logger } from '../../logger.js';
import type { EpisodeFingerprint, SkipMarkerKind, SkipMarkerRecord } from '../../store/intro.js';
import type { Store } from '../../store/interfaces.js';
import { matchWindows, type PairSpan } from './matching.js';
import { FINGERPRINT_VERSION, FINGERPRINT_WINDOW_SEC, round } from './sampling.js';

/** Starts/ends within this many seconds are the same span when siblings vote. */
const AGREE_SEC = 2;

/** Where intros are looked for (head) and outros (tail): never overlapping, at most the stored window. */
export function searchRegion(fp: EpisodeFingerprint, kind: SkipMarkerKind): [number, number] {
  const half = fp.durationSec / 2;
  return kind === 'INTRO'
    ? [0, Math.min(half, FINGERPRINT_WINDOW_SEC)]
    : [Math.max(half, fp.durationSec - FINGERPRINT_WINDOW_SEC), fp.durationSec];
}

/** The span most siblings agree on: spans grouped by start and end within AGREE_SEC, largest group wins. */
export function agreeOnSpan(spans: readonly (PairSpan & { siblingId: string })[], siblings: number): Omit<SkipMarkerRecord, 'videoId' | 'kind' | 'updatedAt' | 'source'> | null {
  if (spans.length === 0) return null;
  let bestGroup: (PairSpan & { siblingId: string })[] = [];
  for (const anchor of spans) {
    const group = spans.filter((s) => Math.abs(s.start - anchor.start) <= AGREE_SEC && Math.abs(s.end - anchor.end) <= AGREE_SEC);
    const length = (g: readonly PairSpan[]): number => g.reduce((sum, s) => sum + s.end - s.start, 0);
    if (group.length > bestGroup.length || (group.length === bestGroup.length && length(group) > length(bestGroup))) bestGroup = group;
  }
  const median = (values: number[]): number => {
    const sorted = [...values].sort((x, y) => x - y);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const support = bestGroup.length / Math.max(1, Math.min(siblings, 3));
  const score = bestGroup.reduce((sum, s) => sum + s.score, 0) / bestGroup.length;
  return {
    start: round(median(bestGroup.map((s) => s.start)), 2),
    end: round(median(bestGroup.map((s) => s.end)), 2),
    confidence: round(Math.min(1, support) * score),
    matchedVideoIds: bestGroup.map((s) => s.siblingId),
  };
}

/** Intro/outro of every episode of the fingerprints given, each matched against all the others. */
export function matchSeries(fingerprints: readonly EpisodeFingerprint[], now = new Date().toISOString()): SkipMarkerRecord[] {
  const usable = fingerprints.filter((f) => f.version === FINGERPRINT_VERSION);
  const markers: SkipMarkerRecord[] = [];
  for (const episode of usable) {
    const siblings = usable.filter((s) => s.videoId !== episode.videoId);
    if (siblings.length === 0) continue;
    for (const kind of ['INTRO', 'OUTRO'] as const) {
      const [from, to] = searchRegion(episode, kind);
      const spans = siblings.flatMap((sibling) => {
        const mine = kind === 'INTRO' ? episode.head : episode.tail;
        const theirs = kind === 'INTRO' ? sibling.head : sibling.tail;
        const span = matchWindows(mine, theirs, from, to);
        return span ? [{ ...span, siblingId: sibling.videoId }] : [];
      });
      const agreed = agreeOnSpan(spans, siblings.length);
      if (agreed) markers.push({ videoId: episode.videoId, kind, source: 'AUTO', updatedAt: now, ...agreed });
    }
  }
  return markers;
}

/** Re-matches every fingerprinted episode of a series and replaces their automatic markers. */
export async function rematchSeries(store: Store, series: string, log: Logger): Promise<SkipMarkerRecord[]> {
  const started = performance.now();
  const fingerprints = await store.intro.getFingerprintsOfSeries(series);
  const markers = matchSeries(fingerprints);
  await store.intro.replaceAutoMarkers(fingerprints.map((f) => f.videoId), markers);
  log.info({ series, episodes: fingerprints.length, markers: markers.length, ms: Math.round(performance.now() - started) }, 'intro/outro matched');
  return markers;
}
