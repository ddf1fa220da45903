// Whether a homography can be a screenshot's geometry. A screenshot is a flat copy of the frame:
// scaled, shifted, cropped, maybe squeezed, pasted into a page, flipped only before matching
// (the mirrored query is matched as such), never folded, collapsed or turned. ORB + RHO on
// low-texture footage (snow, fog, a blurred pan) finds "homographies" that satisfy a dozen or more
// matches by collapsing the screenshot onto a line or folding it over itself: on the fit halves
// (motion set: Tears of Steel; constructed pans of it, bench/image-search-constructed-set.ts) such
// maps held 12–37 inliers and beat the true video, whose own matches were too few or sane. Their
// inliers are no evidence that the pictures are the same.
//
// Bounds, checked on the fit halves' ORB matches with ≥ 10 inliers (motion set: Tears of Steel;
// look-alike set: its fit videos; bench/image-search-constructed-set.ts: pans of Tears of Steel):
// of the matches to the true video (look-alike) or within 1 s of the true moment (motion), 38 of
// 39, 74 of 79 and 94 of 143 pass; those refused fold or collapse (the constructed pans' refused
// true-moment maps held up to 39 inliers by chance alignment on the blur). The bounds sit well
// outside the sane maps (anisotropy ≤ 1.9, rotation ≤ 17°) and are not tuned further. A bound on
// the perspective (the ratio of the local scales at the corners) was left out: a letterbox or
// player page puts the screenshot's corners far outside the frame, where RHO's small perspective
// terms grow (a true 125-inlier letterboxed match reached 4.4, a true mirrored one 33).
/** Largest ratio of the map's two local scales at the screenshot's centre (a 2:1 squeeze still passes). */
const MAX_ANISOTROPY = 2;
/** Largest rotation of the map at the centre, in degrees. */
const MAX_ROTATION_DEG = 30;

/** The map's Jacobian at (x, y) (row-major 2×2), null where the point goes to infinity or behind. */
function jacobianAt(h: readonly number[], x: number, y: number): [number, number, number, number] | null {
  const [a, b, c, d, e, f, g, k, i] = h as [number, number, number, number, number, number, number, number, number];
  const w = g * x + k * y + i;
  if (!(w > 0)) return null;
  const u = (a * x + b * y + c) / w;
  const v = (d * x + e * y + f) / w;
  return [(a - u * g) / w, (b - u * k) / w, (d - v * g) / w, (e - v * k) / w];
}

/** Singular values (larger first) of a 2×2 matrix. */
function singularValues([p, q, r, s]: readonly number[]): [number, number] {
  const e = (p! + s!) / 2;
  const f = (p! - s!) / 2;
  const g = (r! + q!) / 2;
  const h = (r! - q!) / 2;
  const outer = Math.hypot(e, h);
  const inner = Math.hypot(f, g);
  return [outer + inner, Math.abs(outer - inner)];
}

/** Whether `homography` (screenshot pixels → frame pixels) is a screenshot's geometry (see above). */
export function plausibleScreenshotMap(homography: readonly number[] | null, query: { width: number; height: number }): boolean {
  if (!homography || homography.length !== 9 || homography.some((v) => !Number.isFinite(v))) return false;
  const centre = jacobianAt(homography, query.width / 2, query.height / 2);
  if (!centre) return false;
  const [p, q, r, s] = centre;
  if (p * s - q * r <= 0) return false;
  const [major, minor] = singularValues(centre);
  if (!(minor > 0) || major / minor > MAX_ANISOTROPY) return false;
  if ((Math.abs(Math.atan2(r - q, p + s)) * 180) / Math.PI > MAX_ROTATION_DEG) return false;
  // Nowhere folded: the map keeps its orientation up to the screenshot's corners.
  for (const [x, y] of [[0, 0], [query.width, 0], [0, query.height], [query.width, query.height]] as const) {
    const j = jacobianAt(homography, x, y);
    if (!j || j[0] * j[3] - j[1] * j[2] <= 0) return false;
  }
  return true;
}
