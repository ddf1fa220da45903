// The verification cascade: candidates are matched to the screenshot with ORB + a RHO
// homography on the frames the index stored around them, each video's best candidate first,
// until one passes decisively with a margin over every other video checked (calibrated
// similarity ≥ CERTAIN_SIMILARITY), or the per-query budget (MAX_CANDIDATES, MAX_MATCHES) is
// spent; a candidate that does not match decisively is matched mirrored too (a flipped upload). The
// whole screenshot is matched, not the detected region: the homography itself locates the
// picture inside bars or a player page. Nothing passing, the strongest is returned with the low
// similarity its evidence earns (calibration.ts) rather than a guess dressed as certain.
import type { VideoRecord } from '../../domain.js';
import type { Logger } from '../../logger.js';
import type { OrbMatcher } from '../../models/image-descriptors/local-features.js';
import type { Catalog } from '../../store/interfaces.js';
import { calibratedSimilarity, MIN_INLIERS } from './calibration.js';
import { cascadeOrder } from './candidates.js';
import type { FrameSource, WindowFrame } from './frame-source.js';
import type { PhaseClock } from './phases.js';
import { plausibleScreenshotMap } from './screenshot-geometry.js';
import type { Group, OrientedQuery, QueryVariant } from './types.js';

/**
 * Budget per query: candidates verified, and ORB matches (~1.5–2.5 ms each on an idle core, so
 * ~60–90 ms). Counted, not timed: a loaded machine gives the same answers, only later. 30
 * candidates reach the 5th–12th place where the CNN ranks the true clip of a look-alike corpus,
 * with room for mirrored candidates.
 */
const MAX_CANDIDATES = 30;
const MAX_MATCHES = 40;
/**
 * Orientation. The CNN's pooled descriptor hardly changes when a picture is mirrored, so which
 * query variant ranked a candidate says little about the screenshot's orientation; ORB does
 * (its descriptors are not mirror-invariant). A candidate matched in one orientation with fewer
 * than DECISIVE_INLIERS is matched in the other too: a mirrored screenshot still matches the
 * upright frame on symmetric structure (a centred face, a studio backdrop) — up to 42 inliers on
 * the fit halves (look-alike, motion, constructed pans) since the screenshot's keypoints are taken
 * at the stored frames' scale (query.ts; 31 before, when the threshold was 40: it is raised by
 * that headroom, ×1.3) — while the right orientation gives several times more. The first
 * BOTH_ORIENTATIONS candidates try both even when theirs found nothing; later
 * ones only when theirs would lead every candidate so far (≥ MIN_INLIERS): orientation matters
 * for the answer, and a look-alike corpus whose every clip shares some backdrop inliers would
 * otherwise spend the match budget twice as fast.
 * Once the other orientation has won a candidate by MARGIN_RATIO, later candidates try it first.
 */
const DECISIVE_INLIERS = 55;
const BOTH_ORIENTATIONS = 3;
/** Seconds read around a candidate's span, at most MAX_SPAN_SEC in all (the shortlist's collapse distance). */
const WINDOW_SEC = 2;
const MAX_SPAN_SEC = 6;
/** Frames matched first: those the vector index holds this close to a shortlisted frame. */
const SEED_NEIGHBOUR_SEC = 0.5;
/** Seeds per candidate and orientation, nearest the candidate's best frame first. */
const MAX_SEEDS = 2;
/** A seed this strong needs no second seed. */
const STRONG_SEED = 25;
/**
 * A verified match this likely to be the right video, with at least MARGIN_RATIO times the
 * strongest other video's inliers and at least DECISIVE_INLIERS, ends the cascade (fewer: a
 * look-alike clip's backdrop gave 22 on the fit half, with the true clip one candidate further).
 * The ratio is a rule, not a fit: the fit half has no rival within it, and a look-alike corpus
 * shares its backdrop's inliers with the truth.
 */
export const CERTAIN_SIMILARITY = 0.9;
const MARGIN_RATIO = 2;
/**
 * Videos whose best candidate is checked before the cascade may end: the same person filmed in
 * the same studio session in another clip matched a mirrored screenshot with 81 inliers (fit-half
 * videos), the true clip with 206, one candidate further.
 */
const MIN_VIDEOS_CHECKED = 3;

export interface Verification {
  group: Group;
  video: VideoRecord;
  inliers: number;
  /** The frame that verified, its orientation and homography (screenshot → frame pixels). */
  frameTime: number;
  mirror: boolean;
  homography: number[] | null;
  /** Whether the frames came from stored evidence (else from ffmpeg). */
  stored: boolean;
}

export interface CascadeSession {
  clock: PhaseClock;
  orientedQuery(mirror: boolean): Promise<OrientedQuery>;
  /** Candidates verified and ORB matches made so far (the budget spans both cascade passes). */
  candidates: number;
  matches: number;
  /** Verification of each candidate checked so far, by video and time (null: nothing to verify with). */
  checked: Map<string, Verification | null>;
  /** Orientations each checked candidate was matched in (mirror: true), by the same key. */
  tried: Map<string, Set<boolean>>;
  /**
   * The orientation candidates are matched in first: the one that has won a candidate in both
   * (by MARGIN_RATIO), else the mirrored one once the upright pass left the answer open.
   */
  mirrorFirst: boolean | null;
}

/** The orientation a candidate is matched in first: the one that has won a candidate, else its CNN variant's. */
function preferredMirror(group: Group, variants: readonly QueryVariant[], session: CascadeSession): boolean {
  return session.mirrorFirst ?? variants[group.variant]?.mirror ?? false;
}

/** A candidate without frames to match: neither orientation is tried again. */
function nothingToVerify(tried: Set<boolean>): null {
  tried.add(false).add(true);
  return null;
}

/** The strongest verified video other than `videoId` (its inliers; 0 when none). */
export function rivalInliers(verified: Iterable<Verification>, videoId: string): number {
  let rival = 0;
  for (const v of verified) if (v.video.id !== videoId && v.inliers > rival) rival = v.inliers;
  return rival;
}

/** The strongest verification, and whether it passes with a margin over every other video checked. */
export function strongest(verified: readonly Verification[], otherVideosPending: boolean): { best: Verification | null; certain: boolean } {
  const best = verified.reduce<Verification | null>((a, b) => (!a || b.inliers > a.inliers ? b : a), null);
  if (!best || best.inliers < MIN_INLIERS) return { best, certain: false };
  const rival = rivalInliers(verified, best.video.id);
  // Too few other videos checked, while one is waiting: the margin is not known yet.
  if (otherVideosPending && new Set(verified.map((v) => v.video.id)).size < MIN_VIDEOS_CHECKED) return { best, certain: false };
  return { best, certain: best.inliers >= DECISIVE_INLIERS && best.inliers >= MARGIN_RATIO * rival && calibratedSimilarity(best.inliers, rival) >= CERTAIN_SIMILARITY };
}

/** Seeds: the stored frames next to the shortlisted ones, nearest the candidate's best frame first. */
export function seedFrames(frames: readonly WindowFrame[], group: Group): WindowFrame[] {
  const kept = frames.filter((f) => !f.repeat);
  // A kept frame stands for its repeats: its span runs to the last of them.
  const spanEnd = new Map<WindowFrame, number>();
  let owner: WindowFrame | null = null;
  for (const frame of frames) {
    if (!frame.repeat) owner = frame;
    if (owner) spanEnd.set(owner, frame.time);
  }
  const offShortlist = (f: WindowFrame) => Math.min(...group.shortlisted.map((t) => Math.max(0, f.time - SEED_NEIGHBOUR_SEC - t, t - spanEnd.get(f)! - SEED_NEIGHBOUR_SEC)));
  const byDistance = (a: WindowFrame, b: WindowFrame) => Math.abs(a.time - group.time) - Math.abs(b.time - group.time);
  const near = kept.filter((f) => offShortlist(f) === 0).sort(byDistance);
  const pool = near.length > 0 ? near : kept.length > 0 ? [...kept].sort(byDistance) : [...frames].sort(byDistance);
  return pool.slice(0, MAX_SEEDS);
}

export function createVerifier(deps: { catalog: Pick<Catalog, 'getVideo'>; matcher: Pick<OrbMatcher, 'match'>; frames: Pick<FrameSource, 'window'>; log: Logger }) {
  const { catalog, matcher, frames: source, log } = deps;

  /** The best of the seed frames matched in one orientation. */
  async function matchSeeds(group: Group, video: VideoRecord, seeds: readonly WindowFrame[], stored: boolean, mirror: boolean, session: CascadeSession): Promise<Verification | null> {
    const query = await session.orientedQuery(mirror);
    let best: Verification | null = null;
    for (const frame of seeds) {
      const match = await session.clock.time('orbMatch', () => matcher.match(query.features, frame.features()));
      session.matches++;
      // A map no screenshot can have (folded, collapsed, turned) is no evidence, however many matches it holds.
      const inliers = plausibleScreenshotMap(match.homography, query.grey) ? match.inliers : 0;
      if (!best || inliers > best.inliers) best = { group, video, inliers, frameTime: frame.time, mirror, homography: inliers > 0 ? match.homography : null, stored };
      if (inliers >= STRONG_SEED) break;
    }
    return best;
  }

  /** Whether `inliers` beats every other candidate checked so far (and is some evidence, ≥ MIN_INLIERS). */
  function leads(inliers: number, session: CascadeSession, key: string): boolean {
    if (inliers < MIN_INLIERS) return false;
    for (const [other, v] of session.checked) if (other !== key && v && v.inliers >= inliers) return false;
    return true;
  }

  /**
   * Matches a candidate in the orientations it still needs (the session's preferred one first),
   * keeping its best verification so far; null when it has nothing to verify with.
   */
  async function verifyGroup(group: Group, key: string, variants: readonly QueryVariant[], session: CascadeSession, early: boolean): Promise<Verification | null> {
    const { clock } = session;
    const tried = session.tried.get(key) ?? new Set<boolean>();
    session.tried.set(key, tried);
    const video = await catalog.getVideo(group.videoId);
    if (!video) return nothingToVerify(tried);
    const start = Math.max(0, group.from - WINDOW_SEC);
    const end = Math.min(video.durationSec > 0 ? video.durationSec : Infinity, group.to + WINDOW_SEC, start + MAX_SPAN_SEC);
    let window: { frames: WindowFrame[]; stored: boolean };
    try {
      window = await source.window(video, start, end, clock);
    } catch (err) {
      // A moved or unreadable file loses its verification, not the whole answer.
      log.warn({ videoId: video.id, err }, 'image search: frames for verification could not be read');
      return nothingToVerify(tried);
    }
    if (window.frames.length === 0) return nothingToVerify(tried);
    const seeds = seedFrames(window.frames, group);
    const preferred = preferredMirror(group, variants, session);
    let best = session.checked.get(key) ?? null;
    for (const mirror of [preferred, !preferred]) {
      if (tried.has(mirror)) continue;
      const inliers = best?.inliers ?? 0;
      if (tried.size > 0 && (inliers >= DECISIVE_INLIERS || (!early && !leads(inliers, session, key)))) break;
      tried.add(mirror);
      const found = await matchSeeds(group, video, seeds, window.stored, mirror, session);
      if (!found || (best && found.inliers <= best.inliers)) continue;
      if (best && found.inliers >= MIN_INLIERS && found.inliers >= MARGIN_RATIO * best.inliers) session.mirrorFirst = mirror;
      best = found;
    }
    return best;
  }

  return {
    /** Verifies `groups` in cascade order within the session's budget; every verification of the session so far comes back. */
    async cascade(groups: readonly Group[], variants: readonly QueryVariant[], session: CascadeSession): Promise<Verification[]> {
      const ordered = cascadeOrder(groups);
      const done = () => [...session.checked.values()].filter((v): v is Verification => v !== null);
      for (const [i, group] of ordered.entries()) {
        const key = `${group.videoId}:${group.time}`;
        const fresh = !session.checked.has(key);
        // A candidate checked in the other orientation only is matched again in the preferred one.
        if (fresh || !session.tried.get(key)!.has(preferredMirror(group, variants, session))) {
          if (session.matches >= MAX_MATCHES || (fresh && session.candidates >= MAX_CANDIDATES)) break;
          session.checked.set(key, await verifyGroup(group, key, variants, session, session.candidates < BOTH_ORIENTATIONS));
          if (fresh) session.candidates++;
        }
        const verified = done();
        const pendingOther = ordered.slice(i + 1).some((g) => !verified.some((v) => v.video.id === g.videoId));
        if (strongest(verified, pendingOther).certain) break;
      }
      return done();
    },
  };
}
