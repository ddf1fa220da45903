// The moment within the verified video: the frames of the verified frame's shot (at most
// HALF_SPAN_SEC either side), each scored against the screenshot aligned onto it (localisation.ts).
// Each frame gets its own homography: frames are aligned outward from the verified frame, each by
// a guided ORB match (guided-match.ts: keypoints compared only near where the homography of the
// nearest frame aligned so far puts them, ~a tenth of a full match), falling back to a full match
// (at most MAX_FULL_ALIGNMENTS) when the guide finds too few inliers (a cut, a fast pan). A frame
// left without one (or an ffmpeg-decoded frame, which has no stored features) uses the nearest
// aligned frame's. Repeats too: a talking head's repeats differ by less than the near-duplicate
// threshold, yet one shared alignment favours the frame it was fitted on by more than the mouth
// tells the frames apart (dev set, fit half: the answer drifted to that frame).
import type { Logger } from '../../logger.js';
import { guidedMatch } from '../../models/image-descriptors/guided-match.js';
import type { OrbMatcher } from '../../models/image-descriptors/local-features.js';
import type { Catalog } from '../../store/interfaces.js';
import type { FrameSource, GreyThumbnail } from './frame-source.js';
import { LOCALISE_WIDTH, VERIFY_WIDTH } from './frame-source.js';
import { alignQuery, localise, scoreFrames, type AlignedQuery, type Localisation } from './localisation.js';
import { MIN_INLIERS } from './calibration.js';
import type { CascadeSession, Verification } from './verification.js';

/** Localisation compares frames of the verified frame's shot at most this far from it. */
const HALF_SPAN_SEC = 20;
/** Frames aligned by their own (guided) match: 20 s at the index's 2 fps. */
const MAX_ALIGNMENTS = 40;
/** Full ORB matches (~1.5–2.5 ms each) where the guided one failed. */
const MAX_FULL_ALIGNMENTS = 4;
/** Search radius of guided matching in frame pixels (320 px wide): a frame's motion from its aligned neighbour. */
const GUIDE_RADIUS_PX = 12;
/** Right moment means within this of the truth (the eval's tolerance): the margin of timeConfidence is taken beyond it. */
export const MOMENT_TOLERANCE_SEC = 1;

export function createLocator(deps: { catalog: Pick<Catalog, 'getShots'>; frames: Pick<FrameSource, 'thumbnails'>; matcher: Pick<OrbMatcher, 'match' | 'fitHomography'>; log: Logger }) {
  const { catalog, frames: source, matcher, log } = deps;

  /** Homographies (screenshot → frame pixels) of the frames nearest the verified one, by time. */
  async function alignments(check: Verification, frames: readonly GreyThumbnail[], session: CascadeSession): Promise<Map<number, number[]>> {
    const query = await session.orientedQuery(check.mirror);
    const nearest = frames.filter((f) => f.features).sort((a, b) => Math.abs(a.time - check.frameTime) - Math.abs(b.time - check.frameTime));
    const out = new Map<number, number[]>([[check.frameTime, check.homography!]]);
    let full = 0;
    for (const frame of nearest.slice(0, MAX_ALIGNMENTS)) {
      if (out.has(frame.time)) continue;
      const guide = out.get(nearestTime([...out.keys()], frame.time)!)!;
      let match = await session.clock.time('orbGuided', () => guidedMatch(matcher, query.features, frame.features!(), guide, GUIDE_RADIUS_PX));
      if (match.inliers < MIN_INLIERS && full < MAX_FULL_ALIGNMENTS) {
        full++;
        match = await session.clock.time('orbMatch', () => matcher.match(query.features, frame.features!()));
      }
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
            const homography = homographies.get(frame.time) ?? homographies.get(nearestTime(matchedTimes, frame.time)!)!;
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

/** The time in `times` (not empty) nearest `time`. */
function nearestTime(times: readonly number[], time: number): number | undefined {
  return times.reduce<number | undefined>((a, b) => (a === undefined || Math.abs(b - time) < Math.abs(a - time) ? b : a), undefined);
}
