// The moment within the verified video: the frames of the verified frame's shot (at most
// HALF_SPAN_SEC either side), each scored against the screenshot aligned onto it (localisation.ts).
// Each frame gets its own homography (an ORB match on its stored features, nearest the verified
// frame first, up to MAX_ALIGNMENTS); a frame beyond those (or an ffmpeg-decoded one) uses the
// nearest matched frame's. Repeats too: a talking head's repeats differ by less than the
// near-duplicate threshold, yet one shared alignment favours the frame it was fitted on by more
// than the mouth tells the frames apart (dev set, fit half: the answer drifted to that frame).
import type { Logger } from '../../logger.js';
import type { OrbMatcher } from '../../models/image-descriptors/local-features.js';
import type { Catalog } from '../../store/interfaces.js';
import type { FrameSource, GreyThumbnail } from './frame-source.js';
import { LOCALISE_WIDTH, VERIFY_WIDTH } from './frame-source.js';
import { alignQuery, localise, scoreFrames, type AlignedQuery, type Localisation } from './localisation.js';
import { MIN_INLIERS } from './calibration.js';
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

export function createLocator(deps: { catalog: Pick<Catalog, 'getShots'>; frames: Pick<FrameSource, 'thumbnails'>; matcher: Pick<OrbMatcher, 'match'>; log: Logger }) {
  const { catalog, frames: source, matcher, log } = deps;

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
      if (match.homography && match.inliers >= MIN_INLIERS) out.set(frame.time, match.homography);
    }
    return out;
  }

  return {
    async locate(check: Verification, session: CascadeSession): Promise<Localisation | null> {
      if (!check.homography) return null;
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
        return session.clock.timeSync('localise', () => {
          const scored = scoreFrames(frames, (frame) => {
            const own = homographies.get(frame.time);
            const nearest = matchedTimes.length > 0 ? matchedTimes.reduce((a, b) => (Math.abs(b - frame.time) < Math.abs(a - frame.time) ? b : a)) : null;
            const homography = own ?? (nearest !== null ? homographies.get(nearest)! : check.homography!);
            if (!aligned.has(homography)) aligned.set(homography, alignQuery(query, homography, VERIFY_WIDTH / LOCALISE_WIDTH, frame.width, frame.height));
            return aligned.get(homography)!;
          });
          return localise(scored, MOMENT_TOLERANCE_SEC);
        });
      } catch (err) {
        log.warn({ videoId: check.video.id, err }, 'image search: frames for localisation could not be read');
        return null;
      }
    },
  };
}
