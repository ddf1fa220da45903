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
 * upright frame on symmetric structure (a centred face, a studio backdrop) — up to 31 inliers on
 * the fit half — while the right orientation gives several times
 * more. The first BOTH_ORIENTATIONS candidates try both even when theirs found nothing; later
 * ones only when theirs would lead every candidate so far (≥ MIN_INLIERS): orientation matters
 * for the answer, and a look-alike corpus whose every clip shares some backdrop inliers would
 * otherwise spend the match budget twice as fast.
 * Once the other orientation has won a candidate by MARGIN_RATIO, later candidates try it first.
 */
const DECISIVE_INLIERS = 40;
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
 * look-alike clip's backdrop gave 22 on the fit half, with the true clip one candidate further). The ratio is a rule, not a fit: the fit half
 * has no rival within it, and a look-alike corpus shares its backdrop's inliers with the truth.
 */
export const CERTAIN_SIMILARITY = 0.9;
const MARGIN_RATIO = 2;

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
  /** The orientation that has won a candidate in both (null until one has): later candidates try it first. */
  mirrorFirst?: boolean | null;
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
  const rivalChecked = verified.some((v) => v.video.id !== best.video.id);
  // No other video checked yet, while one is waiting: the margin is unknown.
  if (!rivalChecked && otherVideosPending) return { best, certain: false };
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
      if (!best || match.inliers > best.inliers) best = { group, video, inliers: match.inliers, frameTime: frame.time, mirror, homography: match.homography, stored };
      if (match.inliers >= STRONG_SEED) break;
    }
    return best;
  }

  /** Whether `inliers` beats every candidate checked so far (and is some evidence, ≥ MIN_INLIERS). */
  function leads(inliers: number, session: CascadeSession): boolean {
    if (inliers < MIN_INLIERS) return false;
    for (const v of session.checked.values()) if (v && v.inliers >= inliers) return false;
    return true;
  }

  async function verifyGroup(group: Group, variants: readonly QueryVariant[], session: CascadeSession, early: boolean): Promise<Verification | null> {
    const { clock } = session;
    const video = await catalog.getVideo(group.videoId);
    if (!video) return null;
    const start = Math.max(0, group.from - WINDOW_SEC);
    const end = Math.min(video.durationSec > 0 ? video.durationSec : Infinity, group.to + WINDOW_SEC, start + MAX_SPAN_SEC);
    let window: { frames: WindowFrame[]; stored: boolean };
    try {
      window = await source.window(video, start, end, clock);
    } catch (err) {
      // A moved or unreadable file loses its verification, not the whole answer.
      log.warn({ videoId: video.id, err }, 'image search: frames for verification could not be read');
      return null;
    }
    if (window.frames.length === 0) return null;
    const seeds = seedFrames(window.frames, group);
    const first = session.mirrorFirst ?? variants[group.variant]?.mirror ?? false;
    const best = await matchSeeds(group, video, seeds, window.stored, first, session);
    const inliers = best?.inliers ?? 0;
    if (inliers >= DECISIVE_INLIERS || (!early && !leads(inliers, session))) return best;
    const other = await matchSeeds(group, video, seeds, window.stored, !first, session);
    if (!other || other.inliers <= inliers) return best;
    if (other.inliers >= MIN_INLIERS && other.inliers >= MARGIN_RATIO * inliers) session.mirrorFirst = !first;
    return other;
  }

  return {
    /** Verifies `groups` in cascade order within the session's budget; every verification of the session so far comes back. */
    async cascade(groups: readonly Group[], variants: readonly QueryVariant[], session: CascadeSession): Promise<Verification[]> {
      const ordered = cascadeOrder(groups);
      const done = () => [...session.checked.values()].filter((v): v is Verification => v !== null);
      for (const [i, group] of ordered.entries()) {
        const key = `${group.videoId}:${group.time}`;
        if (!session.checked.has(key)) {
          if (session.candidates >= MAX_CANDIDATES || session.matches >= MAX_MATCHES) break;
          session.checked.set(key, await verifyGroup(group, variants, session, session.candidates < BOTH_ORIENTATIONS));
          session.candidates++;
        }
        const verified = done();
        const pendingOther = ordered.slice(i + 1).some((g) => !verified.some((v) => v.video.id === g.videoId));
        if (strongest(verified, pendingOther).certain) break;
      }
      return done();
    },
  };
}
