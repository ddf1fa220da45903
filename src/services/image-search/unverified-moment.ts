// The moment when nothing verifies. ORB finds too few inliers on recoloured, blurred or
// low-texture footage (snow, fog: hard set, 5 of Sintel's 16 screenshots, 0 inliers), so no
// homography places the screenshot on a frame and locate.ts cannot run. The answer then is the
// first stage's best candidate, whose frame is only where the CNN and ColorLayout ranked it: on
// the hard set 2 of those 5 answers were 2 and 5 s off. Here the candidate's video is searched by
// pixels instead: the screenshot's content region (flat borders trimmed, the player page's inner
// rectangle) is taken to be the whole frame — true of every transform but a crop — in both
// orientations (nothing says which one the upload has), and every stored frame within
// HALF_SPAN_SEC of the candidate is scored with localisation.ts's photometric score (NCC, the
// subtitle bands masked, a luminance penalty), the best of those alignments per frame. No
// threshold is fitted: the score, its tie margin and the moment rule are localisation's.
// The answer keeps the unverified similarity (calibration.ts): the video is not proven, only the
// moment within it is chosen better than the first stage's guess.
import type { VideoRecord } from '../../domain.js';
import type { Box, RawImage } from '../../models/types.js';
import type { FrameSource, GreyThumbnail } from './frame-source.js';
import { LOCALISE_WIDTH, VERIFY_WIDTH } from './frame-source.js';
import { MOMENT_TOLERANCE_SEC } from './locate.js';
import { alignQuery, localise, scoreFrames, type AlignedQuery, type Localisation } from './localisation.js';
import type { PhaseClock } from './phases.js';

/** Stored frames compared either side of the candidate (locate.ts's span; a rule bounding the cost: 80 thumbnails at 2 fps). */
const HALF_SPAN_SEC = 20;

/** The screenshot's grey levels in one orientation, with the regions (in its pixels) that may be the whole frame. */
export interface UnverifiedQuery {
  grey: RawImage;
  regions: readonly Box[];
}

/** The screenshot's region stretched over the whole frame, resampled onto the thumbnail grid. */
export function wholeFrameAlignment(grey: RawImage, region: Box, thumbnail: { width: number; height: number }): AlignedQuery | null {
  const scale = VERIFY_WIDTH / LOCALISE_WIDTH;
  const sx = (thumbnail.width * scale) / region.width;
  const sy = (thumbnail.height * scale) / region.height;
  return alignQuery(grey, [sx, 0, -region.x * sx, 0, sy, -region.y * sy, 0, 0, 1], scale, thumbnail.width, thumbnail.height);
}

/** The moment among `frames` (time order) for the screenshot in each of its orientations; null when none compares. */
export function unverifiedMoment(frames: readonly GreyThumbnail[], queries: readonly UnverifiedQuery[]): Localisation | null {
  if (frames.length === 0) return null;
  const alignments = queries.flatMap((q) => q.regions.flatMap((region) => wholeFrameAlignment(q.grey, region, frames[0]!) ?? []));
  if (alignments.length === 0) return null;
  return localise(scoreFrames(frames, () => alignments), MOMENT_TOLERANCE_SEC);
}

/** Reads the stored frames around the candidate at `time` and localises the screenshot among them. */
export async function locateUnverified(
  source: Pick<FrameSource, 'thumbnails'>,
  video: VideoRecord,
  time: number,
  queries: readonly UnverifiedQuery[],
  clock: PhaseClock,
): Promise<Localisation | null> {
  const end = video.durationSec > 0 ? Math.min(video.durationSec, time + HALF_SPAN_SEC) : time + HALF_SPAN_SEC;
  const frames = await source.thumbnails(video, Math.max(0, time - HALF_SPAN_SEC), end, clock);
  return clock.timeSync('localise', () => unverifiedMoment(frames, queries));
}

/** A region of a picture `width` wide, mirrored left to right. */
export function mirroredBox(box: Box, width: number): Box {
  return { ...box, x: width - box.x - box.width };
}
