// One alignment of the screenshot onto a shot's frames, refined by pixels. ORB + RHO homographies
// fitted frame by frame are off by pixels, and differently for each frame: on a talking head the
// features sit on the moving face (dev set, fit half: the screenshot of a frame scored 0.91 against
// that very frame aligned with its neighbour's homography, 0.96 against a frame 0.4 s away aligned
// with that frame's own), and a pixel's misalignment costs more NCC than a mouth movement gains.
// A screenshot's geometry (scale, crop, bars, a player page) is an axis-aligned scale and shift of
// the frame, the same for every frame of a shot the camera holds still, so it is fitted once: the
// verified homography reduced to that model, then refined by coordinate descent on the mean score
// over several of the shot's frames (a consensus: the static background agrees across frames, the
// moving part of any one frame does not pull it).
import type { RawImage } from '../../models/types.js';
import type { GreyThumbnail } from './frame-source.js';
import { LOCALISE_WIDTH, VERIFY_WIDTH } from './frame-source.js';
import { alignQuery, photometricScore, scoreFrames, type AlignedQuery, type FrameScorer } from './localisation.js';

/**
 * Descent steps (frame pixels for the shift, share of the scale), coarse to fine; a sweep at a
 * level is repeated while it improves, at most MAX_SWEEPS times. Rules, not fits: half a pixel at
 * the 160-px thumbnail is the finest step that still changes its samples.
 */
const LEVELS = [
  { shift: 2, scale: 0.02 },
  { shift: 1, scale: 0.01 },
  { shift: 0.5, scale: 0.005 },
] as const;
const MAX_SWEEPS = 3;
/** Frames the consensus is taken over: the window's best-scoring ones under the starting map. */
const CONSENSUS_FRAMES = 3;
/**
 * Contenders for an alignment of their own: one per CONTENDER_BIN_SEC (half the eval's ±1 s
 * tolerance), the CONTENDERS best. Rules bounding the cost (each fit is ~50 resamplings of the
 * screenshot), not fits.
 */
const CONTENDER_BIN_SEC = 0.5;
const CONTENDERS = 4;

/** screenshot (x, y) → frame (sx·x + tx, sy·y + ty), frame pixels at the sampled width. */
export interface AxisAlignedMap {
  sx: number;
  sy: number;
  tx: number;
  ty: number;
}

export function toHomography(map: AxisAlignedMap): number[] {
  return [map.sx, 0, map.tx, 0, map.sy, map.ty, 0, 0, 1];
}

/** The homography reduced to a scale and shift around the screenshot's centre (its local behaviour there). */
export function axisAlignedOf(homography: readonly number[], query: { width: number; height: number }): AxisAlignedMap {
  const [a, b, c, d, e, f, g, h, i] = homography as [number, number, number, number, number, number, number, number, number];
  const apply = (x: number, y: number) => {
    const w = g * x + h * y + i;
    return { x: (a * x + b * y + c) / w, y: (d * x + e * y + f) / w };
  };
  const cx = query.width / 2;
  const cy = query.height / 2;
  const dx = query.width / 4;
  const dy = query.height / 4;
  const left = apply(cx - dx, cy);
  const right = apply(cx + dx, cy);
  const top = apply(cx, cy - dy);
  const bottom = apply(cx, cy + dy);
  const centre = apply(cx, cy);
  const sx = (right.x - left.x) / (2 * dx);
  const sy = (bottom.y - top.y) / (2 * dy);
  return { sx, sy, tx: centre.x - sx * cx, ty: centre.y - sy * cy };
}

/** An axis-aligned map, the query aligned by it, and its mean photometric score over the frames. */
export interface Refinement {
  map: AxisAlignedMap;
  aligned: AlignedQuery;
  score: number;
}

/**
 * The map refined to the best mean score over `frames`; the aligned screenshot returned with it.
 * Null when the starting map cannot be compared (too little overlap, degenerate).
 */
export function refineAlignment(
  query: RawImage,
  start: AxisAlignedMap,
  frames: readonly GreyThumbnail[],
  thumbnailScale: number,
): Refinement | null {
  if (frames.length === 0 || !(start.sx > 0) || !(start.sy > 0)) return null;
  const { width, height } = frames[0]!;
  // A step can land on a map tried before (a sweep's step back, the next level's first moves:
  // ~16 % of the tries on the dev and hard sets); the same numbers give the same result, kept.
  const tried = new Map<string, Refinement | null>();
  const evaluate = (map: AxisAlignedMap) => {
    const key = `${map.sx} ${map.sy} ${map.tx} ${map.ty}`;
    if (tried.has(key)) return tried.get(key)!;
    const aligned = alignQuery(query, toHomography(map), thumbnailScale, width, height);
    let result: Refinement | null = null;
    if (aligned) {
      let sum = 0;
      for (const frame of frames) sum += photometricScore(aligned, frame) ?? -1;
      result = { map, aligned, score: sum / frames.length };
    }
    tried.set(key, result);
    return result;
  };
  let best = evaluate(start);
  if (!best) return null;
  for (const level of LEVELS) {
    for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
      let improved = false;
      for (const move of moves(level, { x: query.width / 2, y: query.height / 2 })) {
        const tried = evaluate(move(best.map));
        if (tried && tried.score > best.score) {
          best = tried;
          improved = true;
        }
      }
      if (!improved) break;
    }
  }
  return best;
}

type Move = (map: AxisAlignedMap) => AxisAlignedMap;

/** One step either way along each parameter; a scale step keeps the screenshot's centre where it was. */
function moves(level: { shift: number; scale: number }, centre: { x: number; y: number }): Move[] {
  const out: Move[] = [];
  for (const sign of [1, -1]) {
    out.push((m) => ({ ...m, tx: m.tx + sign * level.shift }));
    out.push((m) => ({ ...m, ty: m.ty + sign * level.shift }));
    out.push((m) => {
      const sx = m.sx * (1 + sign * level.scale);
      const sy = m.sy * (1 + sign * level.scale);
      return { sx, sy, tx: m.tx + (m.sx - sx) * centre.x, ty: m.ty + (m.sy - sy) * centre.y };
    });
  }
  return out;
}

/** An alignment refined by pixels: its map and the screenshot resampled under it. */
export interface RefinedFit {
  map: AxisAlignedMap;
  aligned: AlignedQuery;
}

/**
 * The screenshot aligned by `start` refined on the frames that score best under it (null when it
 * cannot be compared).
 */
export function refinedAlignment(query: RawImage, frames: readonly GreyThumbnail[], start: AxisAlignedMap, thumbnailScale = VERIFY_WIDTH / LOCALISE_WIDTH): RefinedFit | null {
  if (frames.length === 0) return null;
  const first = alignQuery(query, toHomography(start), thumbnailScale, frames[0]!.width, frames[0]!.height);
  if (!first) return null;
  const initial = scoreFrames(frames, () => first);
  const byTime = new Map(frames.map((f) => [f.time, f]));
  const consensus = [...initial].sort((a, b) => b.score - a.score).slice(0, CONSENSUS_FRAMES).map((s) => byTime.get(s.time)!);
  const refined = refineAlignment(query, start, consensus, thumbnailScale);
  return refined ? { map: refined.map, aligned: refined.aligned } : { map: start, aligned: first };
}

/**
 * Alignments of the contenders, each refined on its own frame: the best frame of each
 * CONTENDER_BIN_SEC (under the best of `fits`), the CONTENDERS best bins. The consensus fits are
 * taken on the frames that score best under a start map that is off by a pixel or two, and favour
 * those frames: on the look-alike set's fit half a recoloured GRID screenshot's true frame never
 * got its own geometry and lost to a frame 0.6 s away. Given its own geometry a frame is compared
 * fairly with the others that got theirs.
 */
export function contenderFits(
  query: RawImage,
  frames: readonly GreyThumbnail[],
  fits: readonly RefinedFit[],
  thumbnailScale = VERIFY_WIDTH / LOCALISE_WIDTH,
  score: FrameScorer = photometricScore,
): RefinedFit[] {
  const bins = new Map<number, { frame: GreyThumbnail; fit: RefinedFit; score: number }>();
  for (const frame of frames) {
    for (const fit of fits) {
      const s = score(fit.aligned, frame);
      const bin = Math.floor(frame.time / CONTENDER_BIN_SEC);
      if (s !== null && s > (bins.get(bin)?.score ?? -Infinity)) bins.set(bin, { frame, fit, score: s });
    }
  }
  return [...bins.values()]
    .sort((a, b) => b.score - a.score)
    .slice(0, CONTENDERS)
    .flatMap(({ frame, fit }) => {
      const refined = refineAlignment(query, fit.map, [frame], thumbnailScale);
      return refined ? [{ map: refined.map, aligned: refined.aligned }] : [];
    });
}
