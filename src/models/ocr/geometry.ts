// The geometry of DB text detection, in plain TypeScript so no OpenCV build is needed: connected
// regions of the thresholded probability map, their minimum-area rotated rectangles, the DB
// "unclip" that grows a shrunk text kernel back to the full line, and the upright crop of a rotated
// box.
import type { Point, RawImage } from '../types.js';
import type { Quad } from './types.js';

export interface Region {
  /** Corners of each row's extreme pixels: enough for the convex hull, far fewer than all pixels. */
  outline: Point[];
  pixels: number;
  meanProbability: number;
}

/**
 * 8-connected regions of `probability > threshold`. Only the leftmost and rightmost pixel of each
 * row of a region are kept: the convex hull of those equals the hull of the whole region.
 * Coordinates are pixel edges (pixel x spans [x, x+1)).
 */
export function connectedRegions(probability: Float32Array, width: number, height: number, threshold: number): Region[] {
  const label = new Int32Array(width * height);
  const stack = new Int32Array(width * height);
  const regions: Region[] = [];
  // Row extremes of the region being filled; reset after each region.
  const rowMin = new Int32Array(height).fill(width);
  const rowMax = new Int32Array(height).fill(-1);
  for (let start = 0; start < width * height; start++) {
    if (label[start] !== 0 || probability[start]! <= threshold) continue;
    const id = regions.length + 1;
    let top = 0;
    stack[top++] = start;
    label[start] = id;
    let pixels = 0;
    let sum = 0;
    let minY = height;
    let maxY = -1;
    while (top > 0) {
      const index = stack[--top]!;
      const x = index % width;
      const y = (index - x) / width;
      pixels++;
      sum += probability[index]!;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      if (x < rowMin[y]!) rowMin[y] = x;
      if (x > rowMax[y]!) rowMax[y] = x;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const next = ny * width + nx;
          if (label[next] === 0 && probability[next]! > threshold) {
            label[next] = id;
            stack[top++] = next;
          }
        }
      }
    }
    const outline: Point[] = [];
    for (let y = minY; y <= maxY; y++) {
      // Pixel corners, not centres: a one-pixel-high region still has an area.
      if (rowMax[y]! >= 0) outline.push([rowMin[y]!, y], [rowMax[y]! + 1, y], [rowMin[y]!, y + 1], [rowMax[y]! + 1, y + 1]);
      rowMin[y] = width;
      rowMax[y] = -1;
    }
    regions.push({ outline, pixels, meanProbability: sum / pixels });
  }
  return regions;
}

const cross = (o: Point, a: Point, b: Point): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);

/** Andrew's monotone chain; returns the hull counter-clockwise without repeating the first point. */
export function convexHull(points: readonly Point[]): Point[] {
  const sorted = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (sorted.length < 3) return sorted;
  const lower: Point[] = [];
  for (const p of sorted) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = sorted.length - 1; i >= 0; i--) {
    const p = sorted[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

export interface RotatedRect {
  centre: Point;
  /** Unit vector of the first side. */
  axis: Point;
  /** Side lengths along `axis` and along its perpendicular. */
  length: number;
  breadth: number;
}

/** Minimum-area enclosing rectangle by rotating calipers: one of its sides lies on a hull edge. */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) return { centre: [0, 0], axis: [1, 0], length: 0, breadth: 0 };
  if (hull.length < 3) {
    const [a, b = a] = hull as [Point, Point?];
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    const length = Math.hypot(dx, dy);
    return { centre: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2], axis: length > 0 ? [dx / length, dy / length] : [1, 0], length, breadth: 0 };
  }
  let best: RotatedRect | null = null;
  let bestArea = Infinity;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % hull.length]!;
    const edge = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (edge === 0) continue;
    const ux = (b[0] - a[0]) / edge;
    const uy = (b[1] - a[1]) / edge;
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const p of hull) {
      const u = p[0] * ux + p[1] * uy;
      const v = -p[0] * uy + p[1] * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = { centre: [cu * ux - cv * uy, cu * uy + cv * ux], axis: [ux, uy], length: maxU - minU, breadth: maxV - minV };
    }
  }
  return best!;
}

/**
 * DB's unclip: the detector predicts a shrunk kernel of each line; growing the polygon by
 * area × ratio / perimeter restores the line. For a rectangle the grown polygon's bounding
 * rectangle is the rectangle grown by that distance on every side.
 */
export function unclip(rect: RotatedRect, ratio: number): RotatedRect {
  const perimeter = 2 * (rect.length + rect.breadth);
  if (perimeter === 0) return rect;
  const distance = (rect.length * rect.breadth * ratio) / perimeter;
  return { ...rect, length: rect.length + 2 * distance, breadth: rect.breadth + 2 * distance };
}

/** A line whose box is this much taller than wide is vertical text (PaddleOCR uses the same 1.5). */
const VERTICAL_ASPECT = 1.5;

/**
 * Corners of `rect` ordered so that reading runs from corner 0 to corner 1: left → right for
 * horizontal lines, top → bottom for tall (vertical) lines. The turn from the reading direction to
 * the line's "down" is always +90° in image coordinates, so crops are never mirrored.
 */
export function readingQuad(rect: RotatedRect): Quad {
  let [ax, ay] = rect.axis;
  let along = rect.length;
  let across = rect.breadth;
  // Use the side closer to horizontal as the provisional reading direction.
  if (Math.abs(ax) < Math.abs(ay)) {
    [ax, ay] = [-ay, ax];
    [along, across] = [across, along];
  }
  if (ax < 0) [ax, ay] = [-ax, -ay];
  if (across >= VERTICAL_ASPECT * along) {
    // Tall box: read down the column.
    [ax, ay] = [-ay, ax];
    if (ay < 0) [ax, ay] = [-ax, -ay];
    [along, across] = [across, along];
  }
  const [cx, cy] = rect.centre;
  const downX = -ay;
  const downY = ax;
  const hu = along / 2;
  const hv = across / 2;
  return [
    [cx - ax * hu - downX * hv, cy - ay * hu - downY * hv],
    [cx + ax * hu - downX * hv, cy + ay * hu - downY * hv],
    [cx + ax * hu + downX * hv, cy + ay * hu + downY * hv],
    [cx - ax * hu + downX * hv, cy - ay * hu + downY * hv],
  ];
}

/** Samples the quad's rectangle out of `image` with bilinear interpolation, upright. */
export function cropQuad(image: RawImage, quad: Quad): RawImage {
  const [tl, tr, , bl] = quad;
  const width = Math.max(1, Math.round(Math.hypot(tr[0] - tl[0], tr[1] - tl[1])));
  const height = Math.max(1, Math.round(Math.hypot(bl[0] - tl[0], bl[1] - tl[1])));
  const ux = (tr[0] - tl[0]) / width;
  const uy = (tr[1] - tl[1]) / width;
  const vx = (bl[0] - tl[0]) / height;
  const vy = (bl[1] - tl[1]) / height;
  const channels = image.channels;
  const out = new Uint8Array(width * height * channels);
  const maxX = image.width - 1;
  const maxY = image.height - 1;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      // Pixel centres: +0.5 in the crop, so the crop's first pixel samples inside the box.
      const sx = Math.min(maxX, Math.max(0, tl[0] + (i + 0.5) * ux + (j + 0.5) * vx - 0.5));
      const sy = Math.min(maxY, Math.max(0, tl[1] + (i + 0.5) * uy + (j + 0.5) * vy - 0.5));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(maxX, x0 + 1);
      const y1 = Math.min(maxY, y0 + 1);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < channels; c++) {
        const p00 = image.data[(y0 * image.width + x0) * channels + c]!;
        const p10 = image.data[(y0 * image.width + x1) * channels + c]!;
        const p01 = image.data[(y1 * image.width + x0) * channels + c]!;
        const p11 = image.data[(y1 * image.width + x1) * channels + c]!;
        const top = p00 + (p10 - p00) * fx;
        const bottom = p01 + (p11 - p01) * fx;
        out[(j * width + i) * channels + c] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return { data: out, width, height, channels };
}

/** The image turned by 180° (an upside-down line the angle classifier caught). */
export function rotate180(image: RawImage): RawImage {
  const { width, height, channels } = image;
  const out = new Uint8Array(image.data.length);
  const pixels = width * height;
  for (let p = 0; p < pixels; p++) {
    const q = pixels - 1 - p;
    for (let c = 0; c < channels; c++) out[q * channels + c] = image.data[p * channels + c]!;
  }
  return { data: out, width, height, channels };
}
