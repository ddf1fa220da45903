// Guided matching: when a homography close to the answer is known (a neighbouring frame of the
// same shot was just aligned), each query keypoint is only compared with the frame keypoints
// within `radius` pixels of where that homography puts it, found through a grid of cells. A
// frame's 500 keypoints then cost a handful of Hamming distances per query keypoint instead of
// 500 (a full ratio test is most of an ORB match's ~2 ms). The ratio test still applies among
// the nearby candidates; a lone candidate must be closer than LONE_MAX_BITS.
import { descriptorWords, hammingDistance, RATIO, TwoNearest, type GeometricMatch, type LocalFeatures, type OrbMatcher, type RatioTestResult } from './local-features.js';

/** A lone candidate in the search disc is accepted this close (of 256 bits): a confident ORB match. */
const LONE_MAX_BITS = 48;

/** Frame keypoint indices bucketed into square cells `cell` pixels wide. */
function gridOf(frame: LocalFeatures, cell: number): Map<number, number[]> {
  const grid = new Map<number, number[]>();
  for (let j = 0; j < frame.count; j++) {
    const key = cellKey(Math.floor(frame.points[2 * j]! / cell), Math.floor(frame.points[2 * j + 1]! / cell));
    const bucket = grid.get(key);
    if (bucket) bucket.push(j);
    else grid.set(key, [j]);
  }
  return grid;
}

function cellKey(cx: number, cy: number): number {
  return (cy + 4096) * 8192 + (cx + 4096);
}

/** Ratio-test matches of query keypoints to frame keypoints near their projection by `guide` (query → frame pixels). */
export function guidedMatches(query: LocalFeatures, frame: LocalFeatures, guide: readonly number[], radius: number): RatioTestResult {
  const grid = gridOf(frame, radius);
  const queryWords = descriptorWords(query);
  const frameWords = descriptorWords(frame);
  const [a, b, c, d, e, f, g, h, k] = guide as [number, number, number, number, number, number, number, number, number];
  const from: number[] = [];
  const to: number[] = [];
  const r2 = radius * radius;
  for (let i = 0; i < query.count; i++) {
    const qx = query.points[2 * i]!;
    const qy = query.points[2 * i + 1]!;
    const w = g * qx + h * qy + k;
    if (w <= 0) continue;
    const px = (a * qx + b * qy + c) / w;
    const py = (d * qx + e * qy + f) / w;
    const cx = Math.floor(px / radius);
    const cy = Math.floor(py / radius);
    const nearest = new TwoNearest();
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        for (const j of grid.get(cellKey(cx + dx, cy + dy)) ?? []) {
          const ex = frame.points[2 * j]! - px;
          const ey = frame.points[2 * j + 1]! - py;
          if (ex * ex + ey * ey > r2) continue;
          nearest.offer(j, hammingDistance(queryWords, i, frameWords, j));
        }
      }
    }
    const passes = nearest.second === Infinity ? nearest.best < LONE_MAX_BITS : nearest.best < RATIO * nearest.second;
    if (nearest.index >= 0 && passes) {
      from.push(qx, qy);
      to.push(frame.points[2 * nearest.index]!, frame.points[2 * nearest.index + 1]!);
    }
  }
  return { from, to };
}

/** guidedMatches, then the robust homography fit: an ORB match where the geometry is roughly known. */
export function guidedMatch(matcher: Pick<OrbMatcher, 'fitHomography'>, query: LocalFeatures, frame: LocalFeatures, guide: readonly number[], radius: number): Promise<GeometricMatch> {
  return matcher.fitHomography(guidedMatches(query, frame, guide, radius));
}
