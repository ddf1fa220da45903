// Where the picture is inside a screenshot. Screenshots arrive letterboxed (bars of any flat
// colour), or pasted into a player page (flat background, a control bar, a progress line). Both
// sides of the search run the same border trimming, so a frame and its screenshot are described
// from the same region; the query additionally tries the strongest inner rectangle.
import type { Box, RawImage } from '../types.js';

/** A border line is flat when every channel's spread along it stays under this (8-bit levels). */
const FLAT_LINE_STD = 10;
/** Trimming that would leave less than this share of the image is a dark scene, not bars. */
const MIN_KEPT_AREA = 0.3;
/** A pixel pair is an edge when some channel steps by at least this. */
const EDGE_STEP = 18;

function lineStd(image: RawImage, x0: number, y0: number, dx: number, dy: number, length: number): number {
  const { data, width, channels } = image;
  let worst = 0;
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < length; i++) {
      const v = data[((y0 + i * dy) * width + (x0 + i * dx)) * channels + c]!;
      sum += v;
      sumSq += v * v;
    }
    const mean = sum / length;
    worst = Math.max(worst, Math.sqrt(Math.max(0, sumSq / length - mean * mean)));
  }
  return worst;
}

/** Removes flat rows and columns (black bars, padding of any colour) from the edges inward. */
export function trimFlatBorders(image: RawImage, within: Box = { x: 0, y: 0, width: image.width, height: image.height }): Box {
  let left = within.x;
  let top = within.y;
  let right = within.x + within.width; // exclusive
  let bottom = within.y + within.height;
  let changed = true;
  while (changed && right - left > 2 && bottom - top > 2) {
    changed = false;
    if (lineStd(image, left, top, 0, 1, bottom - top) < FLAT_LINE_STD) (left++, (changed = true));
    if (lineStd(image, right - 1, top, 0, 1, bottom - top) < FLAT_LINE_STD) (right--, (changed = true));
    if (lineStd(image, left, top, 1, 0, right - left) < FLAT_LINE_STD) (top++, (changed = true));
    if (lineStd(image, left, bottom - 1, 1, 0, right - left) < FLAT_LINE_STD) (bottom--, (changed = true));
  }
  const kept = { x: left, y: top, width: right - left, height: bottom - top };
  return kept.width * kept.height < MIN_KEPT_AREA * within.width * within.height ? within : kept;
}

/** Longest run of consecutive `true` in a boolean line given as a predicate over 0..length-1. */
function longestRun(length: number, isEdge: (i: number) => boolean): number {
  let best = 0;
  let run = 0;
  for (let i = 0; i < length; i++) {
    run = isEdge(i) ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

/** The `count` indices with the highest scores, at least `gap` apart (non-maximum suppression). */
function peaks(scores: Float32Array, count: number, minScore: number, gap: number): number[] {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]!);
  const chosen: number[] = [];
  for (const i of order) {
    if (scores[i]! < minScore || chosen.length >= count) break;
    if (chosen.every((c) => Math.abs(c - i) >= gap)) chosen.push(i);
  }
  return chosen;
}

export interface InnerRectangle {
  box: Box;
  /** Share of the rectangle's outline that lies on a strong edge, 0..1. */
  outlineEdgeShare: number;
}

/**
 * Rectangles whose outline follows strong straight edges: a video frame pasted into a player
 * page or a picture-in-picture. Candidate sides are rows/columns with long edge runs; every
 * combination is scored by how much of its outline is edge. Best outline first, at most `limit`.
 */
export function findInnerRectangles(image: RawImage, limit = 2, minAreaShare = 0.08, minOutlineEdgeShare = 0.7): InnerRectangle[] {
  const { width, height } = image;
  if (width < 16 || height < 16) return [];
  const { data, channels } = image;
  // A step in any channel counts: a picture's border against a page of the same brightness but
  // another hue is still an edge.
  const step = (a: number, b: number): boolean => {
    for (let c = 0; c < channels; c++) if (Math.abs(data[a * channels + c]! - data[b * channels + c]!) >= EDGE_STEP) return true;
    return false;
  };
  // Edges between column x-1 and x (vertical lines) and between row y-1 and y (horizontal lines).
  const vEdge = (x: number, y: number) => step(y * width + x, y * width + x - 1);
  const hEdge = (x: number, y: number) => step(y * width + x, (y - 1) * width + x);
  const columnScores = new Float32Array(width);
  for (let x = 1; x < width; x++) columnScores[x] = longestRun(height, (y) => vEdge(x, y)) / height;
  const rowScores = new Float32Array(height);
  for (let y = 1; y < height; y++) rowScores[y] = longestRun(width, (x) => hEdge(x, y)) / width;
  const xs = peaks(columnScores, 12, 0.15, 3).sort((a, b) => a - b);
  const ys = peaks(rowScores, 12, 0.15, 3).sort((a, b) => a - b);
  const found: InnerRectangle[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      const x0 = xs[i]!;
      const x1 = xs[j]!;
      for (let k = 0; k < ys.length; k++) {
        for (let l = k + 1; l < ys.length; l++) {
          const y0 = ys[k]!;
          const y1 = ys[l]!;
          const area = (x1 - x0) * (y1 - y0);
          if (area < minAreaShare * width * height) continue;
          let hits = 0;
          for (let y = y0; y < y1; y++) hits += Number(vEdge(x0, y)) + Number(vEdge(x1, y));
          for (let x = x0; x < x1; x++) hits += Number(hEdge(x, y0)) + Number(hEdge(x, y1));
          const share = hits / (2 * (x1 - x0) + 2 * (y1 - y0));
          if (share >= minOutlineEdgeShare) found.push({ box: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, outlineEdgeShare: share });
        }
      }
    }
  }
  // Straight edges inside the picture (windows, titles) also outline rectangles: among outlines
  // about as clean, the larger one is the frame.
  const rank = (r: InnerRectangle) => r.outlineEdgeShare + (0.15 * r.box.width * r.box.height) / (width * height);
  return found.sort((a, b) => rank(b) - rank(a)).slice(0, limit);
}
