// The moment within the verified video: the frames of the verified frame's shot (at most
// HALF_SPAN_SEC either side), each scored against the screenshot aligned onto it (localisation.ts).
// Each frame gets its own homography (an ORB match on its stored features, nearest the verified
// frame first, up to MAX_ALIGNMENTS); a frame beyond those (or an ffmpeg-decoded one) uses the
// nearest matched frame's. Repeats too: a talking head's repeats differ by less than the
// near-duplicate threshold, yet one shared alignment favours the frame it was fitted on by more
// than the mouth tells the frames apart (dev set, fit half: the answer drifted to that frame).
import type { VideoRecord } from '../../domain.js';
import type { Logger } from '../../logger.js';
import type { OrbMatcher } from '../../models/image-descriptors/local-features.js';
import type { Catalog } from '../../store/interfaces.js';
import type { FrameSource, GreyThumbnail } from './frame-source.js';
import { LOCALISE_WIDTH, VERIFY_WIDTH } from './frame-source.js';
import { alignQuery, localise, rememberingScorer, scoreFrames, type AlignedQuery, type Localisation, type ScoredFrame } from './localisation.js';
import { MIN_INLIERS } from './calibration.js';
import { axisAlignedOf, contenderFits, refinedAlignment, toHomography } from './photometric-alignment.js';
import type { RawImage } from '../../models/types.js';
import { plausibleScreenshotMap } from './screenshot-geometry.js';
import type { PhaseClock } from './phases.js';
import type { CascadeSession, Verification } from './verification.js';

/** Localisation compares frames of the verified frame's shot at most this far from it. */
const HALF_SPAN_SEC = 20;
/**
 * Frames ORB-matched for their own alignment (~1.5–2.5 ms each): an 8 s shot at the index's 2 fps.
 * A moving head needs each frame's own: with 12 (6 s), a frame 5 s from the verified one borrowed
 * a neighbour's alignment and lost to a wrong frame (dev set, fit half: a talking head, 70 % crop).
 */
const MAX_ALIGNMENTS = 16;
/** Right moment means within this of the truth (the eval's tolerance): the margin of timeConfidence is taken beyond it. */
export const MOMENT_TOLERANCE_SEC = 1;
/**
 * Refinement between the index's samples (2 fps): a talking head moves between them and a still
 * shot's samples tie, so the media is decoded around the REFINE_PEAKS best-scoring stored frames
 * (distinct local maxima), REFINE_HALF_SEC either side (the sample gap: the index's fps filter
 * labels a frame up to half a gap before its own time), every frame at its own time (at most 30
 * per second: frame-source.ts). Rules, not fits: they bound the decode at 3 s of media per query,
 * 6 s when windows are joined (two gaps under REFINE_JOIN_SEC), i.e. ≤ 180 frames. The verified
 * frame's window is decoded ahead, while the stored frames are aligned and scored (decodeAhead).
 * It is not skipped when the stored frames look decisive: on the look-alike set's fit half a score
 * margin of 0.108 (stored frames only) still answered 1.1 s off on a talking head, and the
 * answers it changed had margins from 0.001 to 0.108, so no stored-frame margin marks a settled moment.
 */
const REFINE_PEAKS = 3;
const REFINE_HALF_SEC = 0.5;
/** Refinement windows closer than this are decoded by one ffmpeg run (a start costs more than a second of decoding). */
const REFINE_JOIN_SEC = 1.5;

export interface LocatorDeps {
  catalog: Pick<Catalog, 'getShots'>;
  frames: Pick<FrameSource, 'thumbnails' | 'decodedThumbnails'>;
  matcher: Pick<OrbMatcher, 'match'>;
  log: Logger;
  /** Decode the media around the best stored frames (default true): the moment between samples, at ~2.8× a query's time. */
  refineMoment?: boolean;
}

export function createLocator(deps: LocatorDeps) {
  const { catalog, frames: source, matcher, log } = deps;
  const refineMoment = deps.refineMoment ?? true;

  /** Homographies (screenshot → frame pixels) of the frames nearest the verified one, by time. */
  async function alignments(check: Verification, frames: readonly GreyThumbnail[], session: CascadeSession): Promise<Map<number, number[]>> {
    const query = await session.orientedQuery(check.mirror);
    const nearest = frames.filter((f) => f.features).sort((a, b) => Math.abs(a.time - check.frameTime) - Math.abs(b.time - check.frameTime));
    const out = new Map<number, number[]>();
    for (const frame of nearest.slice(0, MAX_ALIGNMENTS)) {
      if (Math.abs(frame.time - check.frameTime) < 0.0005) {
        out.set(frame.time, check.homography!);
        continue;
      }
      const match = await session.clock.time('orbMatch', () => matcher.match(query.features, frame.features!()));
      if (match.inliers >= MIN_INLIERS && plausibleScreenshotMap(match.homography, query.grey)) out.set(frame.time, match.homography!);
    }
    return out;
  }

  /**
   * The verified frame's refinement window, decoded while the shot's stored frames are aligned
   * and scored (ORB matches, NCC): the verified frame is nearly always one of the best peaks, so
   * most of the decode overlaps that work instead of following it.
   */
  function decodeAhead(check: Verification, clock: PhaseClock): DecodedAhead {
    const span = refinementWindows([check.frameTime], mediaSpan(check.video))[0]!;
    const frames = source.decodedThumbnails(check.video, [span], clock);
    // Awaited by refine; a localisation that ends before it must not leave the failure unobserved.
    frames.catch(() => undefined);
    return { span, frames };
  }

  /**
   * Scores with the media decoded around the best peaks: every frame there decoded; for each peak
   * one alignment refined by pixels on the best frames nearest it (photometric-alignment.ts), plus
   * the verified frame's own map unrefined, plus one alignment refined on each contender's own
   * frame (contenderFits); every frame (stored ones outside the windows too) scored under each of
   * those alignments, keeping its best: every frame gets the same choice, and frames with the same
   * pixels keep the same score (a still stretch stays one). The unrefined map stays because the
   * refinement can drift from it: on a talking head the consensus of the frames it favours
   * pulled the shift 2–5 px (at 320 px) off the screenshot's true geometry, which ORB's map held
   * within 1 px (look-alike set, fit half: a half-size GRID screenshot answered 1.5 s off). A media
   * file that cannot be read leaves the stored frames in the windows.
   */
  async function refine(check: Verification, query: RawImage, stored: { frames: readonly GreyThumbnail[]; scored: ScoredFrame[] }, homographyNear: (time: number) => number[], ahead: DecodedAhead, session: CascadeSession): Promise<ScoredFrame[]> {
    const peaks = refinementPeaks(stored.scored);
    const windows = refinementWindows(peaks, mediaSpan(check.video));
    const inWindows = (t: number) => windows.some((w) => w.start - 1e-6 <= t && t <= w.end + 1e-6);
    let frames: GreyThumbnail[] = [];
    try {
      // The windows' frames: those decoded ahead that lie in them, and the rest of the windows now.
      const rest = windows.flatMap((w) => outsideOf(w, ahead.span));
      const decoded = Promise.all([ahead.frames, rest.length > 0 ? source.decodedThumbnails(check.video, rest, session.clock) : []]);
      const [early, late] = await session.clock.time('refineWait', () => decoded);
      frames = mergedByTime(early.filter((f) => inWindows(f.time)), late);
    } catch (err) {
      log.warn({ videoId: check.video.id, err }, 'image search: the media could not be read to refine the moment');
      frames = [];
    }
    if (frames.length === 0) frames = stored.frames.filter((f) => inWindows(f.time));
    frames.push(...stored.frames.filter((f) => !inWindows(f.time)));
    const nearestPeak = (t: number) => peaks.reduce((a, b) => (Math.abs(b - t) < Math.abs(a - t) ? b : a));
    return session.clock.timeSync('localise', () => {
      const fits = peaks.flatMap((peak) => refinedAlignment(query, frames.filter((f) => nearestPeak(f.time) === peak), axisAlignedOf(homographyNear(peak), query)) ?? []);
      const verifiedMap = axisAlignedOf(homographyNear(check.frameTime), query);
      const unrefined = alignQuery(query, toHomography(verifiedMap), VERIFY_WIDTH / LOCALISE_WIDTH, frames[0]!.width, frames[0]!.height);
      if (unrefined) fits.push({ map: verifiedMap, aligned: unrefined });
      const score = rememberingScorer();
      const alignments = [...fits, ...contenderFits(query, frames, fits, VERIFY_WIDTH / LOCALISE_WIDTH, score)].map((fit) => fit.aligned);
      return scoreFrames(frames, () => alignments, score).sort((a, b) => a.time - b.time);
    });
  }

  return {
    async locate(check: Verification, session: CascadeSession): Promise<Localisation | null> {
      if (!check.homography) return null;
      const ahead = refineMoment ? decodeAhead(check, session.clock) : null;
      const shots = await catalog.getShots(check.video.id);
      const shot = shots.find((s) => s.start <= check.frameTime && check.frameTime <= s.end);
      const start = Math.max(shot?.start ?? 0, check.frameTime - HALF_SPAN_SEC);
      const end = Math.min(shot?.end ?? Infinity, check.frameTime + HALF_SPAN_SEC);
      try {
        const frames = await source.thumbnails(check.video, start, end, session.clock);
        if (frames.length === 0) return null;
        const homographies = await alignments(check, frames, session);
        const matchedTimes = [...homographies.keys()];
        const query = (await session.orientedQuery(check.mirror)).grey;
        const aligned = new Map<number[], AlignedQuery | null>();
        const { width, height } = frames[0]!;
        // The homography of the matched frame nearest `time` (the verified one when none matched).
        const homographyNear = (time: number) => {
          const nearest = matchedTimes.length > 0 ? matchedTimes.reduce((a, b) => (Math.abs(b - time) < Math.abs(a - time) ? b : a)) : null;
          return nearest !== null ? homographies.get(nearest)! : check.homography!;
        };
        // The query aligned as for the stored frame at `time`: its own homography, else its nearest matched neighbour's.
        const alignment = (time: number) => {
          const homography = homographies.get(time) ?? homographyNear(time);
          if (!aligned.has(homography)) aligned.set(homography, alignQuery(query, homography, VERIFY_WIDTH / LOCALISE_WIDTH, width, height));
          return aligned.get(homography)!;
        };
        const scored = session.clock.timeSync('localise', () => scoreFrames(frames, (frame) => alignment(frame.time)));
        const refined = ahead ? await refine(check, query, { frames, scored }, homographyNear, ahead, session) : scored;
        const localisation = session.clock.timeSync('localise', () => withStoredBest(localise(refined, MOMENT_TOLERANCE_SEC), scored));
        log.debug({ videoId: check.video.id, verifiedAt: check.frameTime, mirror: check.mirror, shot: { start, end }, stored: topScores(scored), refined: topScores(refined), localisation }, 'image search: moment');
        return localisation;
      } catch (err) {
        log.warn({ videoId: check.video.id, err }, 'image search: frames for localisation could not be read');
        return null;
      }
    },
  };
}

/** The times of the REFINE_PEAKS best local maxima of the stored frames' scores. */
export function refinementPeaks(scored: readonly ScoredFrame[]): number[] {
  return scored
    .filter((s, i) => (i === 0 || scored[i - 1]!.score <= s.score) && (i === scored.length - 1 || scored[i + 1]!.score <= s.score))
    .sort((a, b) => b.score - a.score)
    .slice(0, REFINE_PEAKS)
    .map((p) => p.time);
}

/**
 * Media windows to decode: REFINE_HALF_SEC around each peak (within the media), windows closer
 * than REFINE_JOIN_SEC joined. Not cut at the shot's bounds: a stored frame's label can lead its
 * picture by half a sample gap, so the picture of the last stored frame before a cut can lie past
 * the detected cut (test/fixtures/image-search-motion.json, fit half: a screenshot 0.2 s past the
 * shot's end matched that frame, and its window, cut at the shot's end, held only the shot before).
 */
export function refinementWindows(peaks: readonly number[], media: Span): Span[] {
  const spans = peaks.map((t) => ({ start: Math.max(media.start, t - REFINE_HALF_SEC), end: Math.min(media.end, t + REFINE_HALF_SEC) })).sort((a, b) => a.start - b.start);
  const windows: Span[] = [];
  for (const span of spans) {
    const last = windows[windows.length - 1];
    if (last && span.start - last.end < REFINE_JOIN_SEC) last.end = Math.max(last.end, span.end);
    else windows.push({ ...span });
  }
  return windows;
}

type Span = { start: number; end: number };

/** Frames decoded ahead of the refinement: those of `span`. */
interface DecodedAhead {
  span: Span;
  frames: Promise<GreyThumbnail[]>;
}

/** The media's time span (the whole timeline when its duration is unknown). */
function mediaSpan(video: VideoRecord): Span {
  return { start: 0, end: video.durationSec > 0 ? video.durationSec : Infinity };
}

/** The parts of `window` outside `span`, each sharing its end with the span (a frame there is read twice, merged once). */
export function outsideOf(window: Span, span: Span): Span[] {
  if (window.end < span.start || window.start > span.end) return [window];
  const parts: Span[] = [];
  if (window.start < span.start) parts.push({ start: window.start, end: span.start });
  if (window.end > span.end) parts.push({ start: span.end, end: window.end });
  return parts;
}

/** Two runs' frames in time order, a frame both read (same time) once. */
export function mergedByTime(a: readonly GreyThumbnail[], b: readonly GreyThumbnail[]): GreyThumbnail[] {
  const sorted = [...a, ...b].sort((x, y) => x.time - y.time);
  return sorted.filter((f, i) => i === 0 || f.time - sorted[i - 1]!.time > 1e-6);
}

/** The best few scores with their times (debug lines). */
function topScores(scored: readonly ScoredFrame[]): string {
  return [...scored].sort((a, b) => b.score - a.score).slice(0, 8).map((s) => `${s.time.toFixed(2)}:${s.score.toFixed(4)}`).join(' ');
}

/** The answer's evidence frame must be one the index stored (its picture is served): the best stored one near `at`. */
function withStoredBest(localisation: Localisation | null, stored: readonly ScoredFrame[]): Localisation | null {
  if (!localisation) return null;
  const near = stored.filter((s) => Math.abs(s.time - localisation.at) <= MOMENT_TOLERANCE_SEC);
  const pool = near.length > 0 ? near : stored;
  if (pool.length === 0) return localisation;
  return { ...localisation, bestTime: pool.reduce((a, b) => (b.score > a.score ? b : a)).time };
}
