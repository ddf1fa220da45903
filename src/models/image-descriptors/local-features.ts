// Local features and a geometric check: ORB keypoints (opencv.js, WASM) matched with a ratio
// test and verified by a robust homography fit. The inlier count separates the exact frame from
// its neighbours a second away, which global descriptors cannot, and it survives crops, overlays,
// bars, scaling and monotonic colour changes (ORB compares intensities, not values).
// Matching runs in plain JS (Hamming distances through a 16-bit popcount table: faster than
// opencv.js's BFMatcher plus copying descriptors into WASM), and the fit is opencv's RHO
// (PROSAC-based): RANSAC spent its full 2,000 iterations on every non-matching frame (~7 ms
// there against ~0.2 ms for RHO). Features pack into bytes, so the index can store them.
import { createRequire } from 'node:module';
import type { RawImage } from '../types.js';

/** Plain copies of ORB output (no WASM memory to free): x,y pairs and 32-byte descriptors. */
export interface LocalFeatures {
  count: number;
  points: Float32Array;
  descriptors: Uint8Array;
}

export interface GeometricMatch {
  /** Matches consistent with one homography. */
  inliers: number;
  /** Matches that passed the ratio test. */
  matches: number;
  /** Row-major 3×3 homography from query to frame pixels; null without a geometric fit. */
  homography: number[] | null;
}

const ORB_DESCRIPTOR_BYTES = 32;
const DESCRIPTOR_WORDS = ORB_DESCRIPTOR_BYTES / 4;
/** Lowe's ratio test: the best match must be clearly better than the second best. */
const RATIO = 0.8;
/** Reprojection tolerance in pixels for the homography fit (frames are compared at ~320–640 px wide). */
const INLIER_PX = 4;
const MIN_MATCHES = 8;
/** Set bits of every 16-bit value: two lookups give a 32-bit word's popcount. */
const POPCOUNT16 = (() => {
  const table = new Uint8Array(1 << 16);
  for (let i = 1; i < table.length; i++) table[i] = table[i >> 1]! + (i & 1);
  return table;
})();

// opencv.js has no types worth importing; this is the small surface used here.
interface CvMat {
  rows: number;
  data: Uint8Array;
  data64F: Float64Array;
  empty(): boolean;
  delete(): void;
}
interface CvVector<T> {
  size(): number;
  get(i: number): T;
  delete(): void;
}
interface CvKeyPoint {
  pt: { x: number; y: number };
}
interface OpenCv {
  CV_8UC1: number;
  CV_8UC3: number;
  CV_32FC2: number;
  COLOR_RGB2GRAY: number;
  RHO: number;
  Mat: new () => CvMat;
  KeyPointVector: new () => CvVector<CvKeyPoint>;
  ORB: new (features: number) => { detectAndCompute(img: CvMat, mask: CvMat, kp: CvVector<CvKeyPoint>, des: CvMat): void };
  matFromArray(rows: number, cols: number, type: number, data: ArrayLike<number>): CvMat;
  cvtColor(src: CvMat, dst: CvMat, code: number): void;
  findHomography(src: CvMat, dst: CvMat, method: number, threshold: number, mask: CvMat): CvMat;
}

let loading: Promise<{ cv: OpenCv }> | null = null;

/**
 * opencv.js initialises its WASM asynchronously (~0.2 s); loaded once per process. The module
 * is a thenable, so it travels wrapped: a promise resolved with it (or an async function
 * returning it) would never settle.
 */
function openCv(): Promise<{ cv: OpenCv }> {
  loading ??= new Promise<{ cv: OpenCv }>((resolve) => {
    const module = createRequire(import.meta.url)('@techstark/opencv-js') as OpenCv & { onRuntimeInitialized?: () => void };
    if (typeof module.ORB === 'function') resolve({ cv: module });
    else module.onRuntimeInitialized = () => resolve({ cv: module });
  });
  return loading;
}

/** Computes ratio-test matches for a range of query rows somewhere (another thread, or here). */
export type RatioTestOffload = (query: LocalFeatures, frame: LocalFeatures, rows: readonly [number, number]) => Promise<RatioTestResult>;

/** Keypoints per picture: stored with the index (its model id says so), so a change means re-indexing. */
export const ORB_FEATURES = 500;

export class OrbMatcher {
  /**
   * `offload`: where the first half of the query rows is matched while this thread matches the
   * second half (ratio-test-thread.ts); the matches come out in the same order either way.
   */
  constructor(
    private readonly maxFeatures = ORB_FEATURES,
    private readonly offload: RatioTestOffload | null = null,
  ) {}

  /** Recorded with stored features: another extractor's features are never matched against these. */
  get modelId(): string {
    return `orb${this.maxFeatures}`;
  }

  async extract(image: RawImage): Promise<LocalFeatures> {
    const { cv } = await openCv();
    const pixels = cv.matFromArray(image.height, image.width, image.channels === 3 ? cv.CV_8UC3 : cv.CV_8UC1, image.data);
    const grey = new cv.Mat();
    const keypoints = new cv.KeyPointVector();
    const descriptors = new cv.Mat();
    const noMask = new cv.Mat();
    try {
      if (image.channels === 3) cv.cvtColor(pixels, grey, cv.COLOR_RGB2GRAY);
      new cv.ORB(this.maxFeatures).detectAndCompute(image.channels === 3 ? grey : pixels, noMask, keypoints, descriptors);
      const count = keypoints.size();
      const points = new Float32Array(count * 2);
      for (let i = 0; i < count; i++) {
        const { pt } = keypoints.get(i);
        points[2 * i] = pt.x;
        points[2 * i + 1] = pt.y;
      }
      return { count, points, descriptors: count > 0 ? Uint8Array.from(descriptors.data) : new Uint8Array(0) };
    } finally {
      for (const mat of [pixels, grey, descriptors, noMask]) mat.delete();
      keypoints.delete();
    }
  }

  /** Ratio-test matches from `query` to `frame`, then the inliers of a robust (RHO) homography. */
  async match(query: LocalFeatures, frame: LocalFeatures): Promise<GeometricMatch> {
    if (query.count < MIN_MATCHES || frame.count < MIN_MATCHES) return { inliers: 0, matches: 0, homography: null };
    return this.fitHomography(await this.ratioTest(query, frame));
  }

  /** The inliers of a robust (RHO) homography through point matches (query → frame pixels). */
  private async fitHomography({ from, to }: RatioTestResult): Promise<GeometricMatch> {
    const matches = from.length / 2;
    if (matches < MIN_MATCHES) return { inliers: 0, matches, homography: null };
    const { cv } = await openCv();
    const src = cv.matFromArray(matches, 1, cv.CV_32FC2, from);
    const dst = cv.matFromArray(matches, 1, cv.CV_32FC2, to);
    const mask = new cv.Mat();
    const homography = cv.findHomography(src, dst, cv.RHO, INLIER_PX, mask);
    try {
      let inliers = 0;
      if (homography.empty()) return { inliers: 0, matches, homography: null };
      for (let i = 0; i < mask.rows; i++) inliers += mask.data[i]! ? 1 : 0;
      return { inliers, matches, homography: Array.from(homography.data64F) };
    } finally {
      for (const mat of [src, dst, mask, homography]) mat.delete();
    }
  }

  private async ratioTest(query: LocalFeatures, frame: LocalFeatures): Promise<RatioTestResult> {
    if (!this.offload) return ratioTestMatches(query, frame);
    const half = Math.floor(query.count / 2);
    const offloaded = this.offload(query, frame, [0, half]);
    const here = ratioTestMatches(query, frame, [half, query.count]);
    const first = await offloaded;
    return { from: [...first.from, ...here.from], to: [...first.to, ...here.to] };
  }
}

/** 32-bit words of the descriptors (a copy when the bytes are not 4-byte aligned). */
function descriptorWords(features: LocalFeatures): Uint32Array {
  const bytes = features.descriptors;
  if (bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, features.count * DESCRIPTOR_WORDS);
  return new Uint32Array(Uint8Array.from(bytes).buffer, 0, features.count * DESCRIPTOR_WORDS);
}

/** The best and second-best distances offered so far (Lowe's ratio test compares them). */
class TwoNearest {
  best = Infinity;
  second = Infinity;
  index = -1;

  offer(index: number, distance: number): void {
    if (distance < this.best) {
      this.second = this.best;
      this.best = distance;
      this.index = index;
    } else if (distance < this.second) {
      this.second = distance;
    }
  }
}

export interface RatioTestResult {
  /** Matched query points (x,y pairs) and their frame points, in query order. */
  from: number[];
  to: number[];
}

/**
 * Brute-force two nearest neighbours by Hamming distance, kept when the best passes Lowe's ratio
 * test; for the query features `rows` (start inclusive, end exclusive), all by default.
 */
export function ratioTestMatches(query: LocalFeatures, frame: LocalFeatures, rows: readonly [number, number] = [0, query.count]): RatioTestResult {
  const a = descriptorWords(query);
  const b = descriptorWords(frame);
  const from: number[] = [];
  const to: number[] = [];
  for (let i = rows[0]; i < rows[1]; i++) {
    const qa = i * DESCRIPTOR_WORDS;
    const nearest = new TwoNearest();
    for (let j = 0; j < frame.count; j++) {
      const fb = j * DESCRIPTOR_WORDS;
      let distance = 0;
      // Half the words first: most pairs are already further than the second best by then.
      for (let w = 0; w < DESCRIPTOR_WORDS / 2; w++) {
        const x = a[qa + w]! ^ b[fb + w]!;
        distance += POPCOUNT16[x & 0xffff]! + POPCOUNT16[x >>> 16]!;
      }
      if (distance >= nearest.second) continue;
      for (let w = DESCRIPTOR_WORDS / 2; w < DESCRIPTOR_WORDS; w++) {
        const x = a[qa + w]! ^ b[fb + w]!;
        distance += POPCOUNT16[x & 0xffff]! + POPCOUNT16[x >>> 16]!;
      }
      nearest.offer(j, distance);
    }
    if (nearest.index >= 0 && nearest.best < RATIO * nearest.second) {
      from.push(query.points[2 * i]!, query.points[2 * i + 1]!);
      to.push(frame.points[2 * nearest.index]!, frame.points[2 * nearest.index + 1]!);
    }
  }
  return { from, to };
}

/** Features as bytes for storage: count (u32 LE), then x,y as float32 pairs, then the descriptors. */
export function packFeatures(features: LocalFeatures): Uint8Array {
  const out = new Uint8Array(4 + features.count * (8 + ORB_DESCRIPTOR_BYTES));
  const view = new DataView(out.buffer);
  view.setUint32(0, features.count, true);
  for (let i = 0; i < features.count * 2; i++) view.setFloat32(4 + i * 4, features.points[i]!, true);
  out.set(features.descriptors.subarray(0, features.count * ORB_DESCRIPTOR_BYTES), 4 + features.count * 8);
  return out;
}

export function unpackFeatures(bytes: Uint8Array): LocalFeatures {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.byteLength >= 4 ? view.getUint32(0, true) : 0;
  if (bytes.byteLength !== 4 + count * (8 + ORB_DESCRIPTOR_BYTES)) throw new Error(`packed local features: ${bytes.byteLength} bytes do not hold ${count} features`);
  const points = new Float32Array(count * 2);
  for (let i = 0; i < points.length; i++) points[i] = view.getFloat32(4 + i * 4, true);
  return { count, points, descriptors: Uint8Array.from(bytes.subarray(4 + count * 8)) };
}

/** Inverse of a row-major 3×3 matrix (a homography), or null when it is singular. */
export function invert3x3(m: readonly number[]): number[] | null {
  const [a, b, c, d, e, f, g, h, i] = m as [number, number, number, number, number, number, number, number, number];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  if (Math.abs(det) < 1e-12) return null;
  return [e * i - f * h, c * h - b * i, b * f - c * e, f * g - d * i, a * i - c * g, c * d - a * f, d * h - e * g, b * g - a * h, a * e - b * d].map((v) => v / det);
}

function greyAt(image: RawImage, x: number, y: number): number {
  const o = (y * image.width + x) * image.channels;
  return image.channels === 3 ? 0.299 * image.data[o]! + 0.587 * image.data[o + 1]! + 0.114 * image.data[o + 2]! : image.data[o]!;
}

/**
 * Normalised cross-correlation between a frame and the query warped onto it by `homography`
 * (query → frame), over the frame pixels the query covers. Once the geometry is known this
 * tells neighbouring frames apart by small motion (a mouth, a hand) that inlier counts miss;
 * it ignores brightness and contrast changes. Null when the overlap is too small.
 */
export function alignedCorrelation(query: RawImage, frame: RawImage, homography: readonly number[], step = 2): number | null {
  const inverse = invert3x3(homography);
  if (!inverse) return null;
  const [a, b, c, d, e, f, g, h, i] = inverse as [number, number, number, number, number, number, number, number, number];
  let n = 0;
  let sumQ = 0;
  let sumF = 0;
  let sumQQ = 0;
  let sumFF = 0;
  let sumQF = 0;
  for (let y = 0; y < frame.height; y += step) {
    for (let x = 0; x < frame.width; x += step) {
      const w = g * x + h * y + i;
      if (w <= 0) continue;
      const qx = Math.round((a * x + b * y + c) / w);
      const qy = Math.round((d * x + e * y + f) / w);
      if (qx < 0 || qy < 0 || qx >= query.width || qy >= query.height) continue;
      const q = greyAt(query, qx, qy);
      const v = greyAt(frame, x, y);
      n++;
      sumQ += q;
      sumF += v;
      sumQQ += q * q;
      sumFF += v * v;
      sumQF += q * v;
    }
  }
  if (n < 0.1 * (frame.width / step) * (frame.height / step)) return null;
  const cov = sumQF / n - (sumQ / n) * (sumF / n);
  const varQ = sumQQ / n - (sumQ / n) ** 2;
  const varF = sumFF / n - (sumF / n) ** 2;
  return varQ > 0 && varF > 0 ? cov / Math.sqrt(varQ * varF) : null;
}
