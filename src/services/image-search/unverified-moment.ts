// The moment when nothing verifies. ORB finds too few inliers on recoloured, blurred or
// low-texture footage (snow, fog: hard set, 5 of Sintel's 16 screenshots, 0 inliers), so no
// homography places the screenshot on a frame and locate.ts cannot run. The answer then is the
// first stage's best candidate, whose frame is only where the CNN and ColorLayout ranked it: on
// the hard set 2 of those 5 answers were 2 and 5 s off. Here the candidate's video is searched by
// pixels instead: the screenshot's content region (flat borders trimmed, the player page's inner
// rectangle) is taken to be the whole frame or a crop of it (CROP_SHARES, CROP_PLACES), in both
// orientations (nothing says which one the upload has), and every stored frame within
// HALF_SPAN_SEC of the candidate is scored with localisation.ts's photometric score (NCC, the
// subtitle bands masked, a luminance penalty), the best of those alignments per frame. No
// threshold is fitted: the score, its tie margin and the moment rule are localisation's.
// Checked on the motion set's fit half (Tears of Steel, all 40 screenshots localised this way,
// stored frames at 2 fps): within 1 s 36 of 40 with the upright whole frame only, 39 with both
// orientations, 39 with the crops too (which found the one fit-half screenshot that went
// unverified in the eval, a 70 % crop answered 8 s off, and moved another crop from 1.0 to 1.25 s off).
// The answer keeps the unverified similarity (calibration.ts): the video is not proven, only the
// moment within it is chosen better than the first stage's guess.
import type { VideoRecord } from '../../domain.js';
import type { Group } from './types.js';
import type { Box, RawImage } from '../../models/types.js';
import type { FrameSource, GreyThumbnail } from './frame-source.js';
import { LOCALISE_WIDTH, VERIFY_WIDTH } from './frame-source.js';
import { MOMENT_TOLERANCE_SEC } from './locate.js';
import { alignQuery, localise, scoreFrames, type AlignedQuery, type Localisation } from './localisation.js';
import type { PhaseClock } from './phases.js';

/**
 * The first stage's candidates the pixels choose among: on the motion set's fit half the truth
 * was among the first 5 answers for every screenshot (top-5 1.0, top-1 0.975), while a search of
 * the leading candidate's ±20 s by pixels alone chose frames the first stage had rightly left out
 * (held-out Sintel screenshots: 1.9–2.3 s off). A rule (the eval's top-5), not a fit.
 */
const PROPOSALS = 5;

/**
 * Crops tried besides the whole frame: the share of each side the screenshot shows, placed at the
 * frame's left/top edge, middle or right/bottom edge. A coarse grid covering hand crops down to
 * 70 % of each side (NCC still favours the true frame a few pixels off), not fitted; it bounds the
 * cost at 19 alignments per region and orientation.
 */
const CROP_SHARES = [0.85, 0.7];
const CROP_PLACES = [0, 0.5, 1];

/** The screenshot's grey levels in one orientation, with the regions (in its pixels) that may be the whole frame. */
export interface UnverifiedQuery {
  grey: RawImage;
  regions: readonly Box[];
}

/**
 * The screenshot's region stretched over `share` of each side of the frame, its left edge at
 * `placeX` of the room left (0: the frame's left edge, 1: flush right) and its top at `placeY`,
 * resampled onto the thumbnail grid. share 1: the whole frame.
 */
export function cropAlignment(grey: RawImage, region: Box, thumbnail: { width: number; height: number }, crop = { share: 1, placeX: 0, placeY: 0 }): AlignedQuery | null {
  const scale = VERIFY_WIDTH / LOCALISE_WIDTH;
  const frameWidth = thumbnail.width * scale;
  const frameHeight = thumbnail.height * scale;
  const sx = (frameWidth * crop.share) / region.width;
  const sy = (frameHeight * crop.share) / region.height;
  const tx = crop.placeX * frameWidth * (1 - crop.share) - region.x * sx;
  const ty = crop.placeY * frameHeight * (1 - crop.share) - region.y * sy;
  return alignQuery(grey, [sx, 0, tx, 0, sy, ty, 0, 0, 1], scale, thumbnail.width, thumbnail.height);
}

/** The whole frame, then every crop of the grid. */
function cropHypotheses(): { share: number; placeX: number; placeY: number }[] {
  return [{ share: 1, placeX: 0, placeY: 0 }, ...CROP_SHARES.flatMap((share) => CROP_PLACES.flatMap((placeX) => CROP_PLACES.map((placeY) => ({ share, placeX, placeY }))))];
}

/** The moment among `frames` (time order) for the screenshot in each of its orientations, with its score; null when none compares. */
export function unverifiedMoment(frames: readonly GreyThumbnail[], queries: readonly UnverifiedQuery[]): (Localisation & { score: number }) | null {
  if (frames.length === 0) return null;
  const crops = cropHypotheses();
  const alignments = queries.flatMap((q) => q.regions.flatMap((region) => crops.flatMap((crop) => cropAlignment(q.grey, region, frames[0]!, crop) ?? [])));
  const scored = scoreFrames(frames, () => alignments);
  const localisation = localise(scored, MOMENT_TOLERANCE_SEC);
  return localisation ? { ...localisation, score: Math.max(...scored.map((s) => s.score)) } : null;
}

/**
 * Of the first stage's leading candidates (fused order), the one whose stored frames within
 * MOMENT_TOLERANCE_SEC of its span look most like the screenshot, with the moment there.
 */
export async function chooseUnverified<C extends { group: Group; video: VideoRecord }>(
  source: Pick<FrameSource, 'thumbnails'>,
  candidates: readonly C[],
  queries: readonly UnverifiedQuery[],
  clock: PhaseClock,
): Promise<{ candidate: C; localisation: Localisation } | null> {
  let best: { candidate: C; localisation: Localisation; score: number } | null = null;
  for (const candidate of candidates.slice(0, PROPOSALS)) {
    const { group, video } = candidate;
    const end = group.to + MOMENT_TOLERANCE_SEC;
    const frames = await source.thumbnails(video, Math.max(0, group.from - MOMENT_TOLERANCE_SEC), video.durationSec > 0 ? Math.min(video.durationSec, end) : end, clock);
    const found = clock.timeSync('localise', () => unverifiedMoment(frames, queries));
    if (found && (!best || found.score > best.score)) best = { candidate, localisation: found, score: found.score };
  }
  return best && { candidate: best.candidate, localisation: best.localisation };
}

/** A region of a picture `width` wide, mirrored left to right. */
export function mirroredBox(box: Box, width: number): Box {
  return { ...box, x: width - box.x - box.width };
}
