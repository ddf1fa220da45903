// Local features and a geometric check: ORB keypoints (opencv.js, WASM) matched with a ratio
// test and verified by a RANSAC homography. The inlier count separates the exact frame from its
// neighbours a second away, which global descriptors cannot, and it survives crops, overlays,
// bars, scaling and monotonic colour changes (ORB compares intensities, not values).
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
/** Lowe's ratio test: the best match must be clearly better than the second best. */
const RATIO = 0.8;
/** RANSAC reprojection tolerance in pixels (frames are compared at ~320–640 px wide). */
const RANSAC_PX = 4;
const MIN_MATCHES = 8;

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
interface CvDMatch {
  queryIdx: number;
  trainIdx: number;
  distance: number;
}
interface OpenCv {
  CV_8UC1: number;
  CV_8UC3: number;
  CV_32FC2: number;
  COLOR_RGB2GRAY: number;
  NORM_HAMMING: number;
  RANSAC: number;
  Mat: new () => CvMat;
  KeyPointVector: new () => CvVector<CvKeyPoint>;
  DMatchVectorVector: new () => CvVector<CvVector<CvDMatch>>;
  ORB: new (features: number) => { detectAndCompute(img: CvMat, mask: CvMat, kp: CvVector<CvKeyPoint>, des: CvMat): void };
  BFMatcher: new (norm: number, crossCheck: boolean) => { knnMatch(a: CvMat, b: CvMat, out: CvVector<CvVector<CvDMatch>>, k: number): void };
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

export class OrbMatcher {
  constructor(private readonly maxFeatures = 500) {}

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

  /** Ratio-test matches from `query` to `frame`, then the inliers of a RANSAC homography. */
  async match(query: LocalFeatures, frame: LocalFeatures): Promise<GeometricMatch> {
    if (query.count < MIN_MATCHES || frame.count < MIN_MATCHES) return { inliers: 0, matches: 0, homography: null };
    const { cv } = await openCv();
    const a = cv.matFromArray(query.count, ORB_DESCRIPTOR_BYTES, cv.CV_8UC1, query.descriptors);
    const b = cv.matFromArray(frame.count, ORB_DESCRIPTOR_BYTES, cv.CV_8UC1, frame.descriptors);
    const knn = new cv.DMatchVectorVector();
    const from: number[] = [];
    const to: number[] = [];
    try {
      new cv.BFMatcher(cv.NORM_HAMMING, false).knnMatch(a, b, knn, 2);
      for (let i = 0; i < knn.size(); i++) {
        const pair = knn.get(i);
        if (pair.size() === 2) {
          const best = pair.get(0);
          if (best.distance < RATIO * pair.get(1).distance) {
            from.push(query.points[2 * best.queryIdx]!, query.points[2 * best.queryIdx + 1]!);
            to.push(frame.points[2 * best.trainIdx]!, frame.points[2 * best.trainIdx + 1]!);
          }
        }
        pair.delete();
      }
    } finally {
      knn.delete();
      a.delete();
      b.delete();
    }
    const matches = from.length / 2;
    if (matches < MIN_MATCHES) return { inliers: 0, matches, homography: null };
    const src = cv.matFromArray(matches, 1, cv.CV_32FC2, from);
    const dst = cv.matFromArray(matches, 1, cv.CV_32FC2, to);
    const mask = new cv.Mat();
    const homography = cv.findHomography(src, dst, cv.RANSAC, RANSAC_PX, mask);
    try {
      let inliers = 0;
      if (homography.empty()) return { inliers: 0, matches, homography: null };
      for (let i = 0; i < mask.rows; i++) inliers += mask.data[i]! ? 1 : 0;
      return { inliers, matches, homography: Array.from(homography.data64F) };
    } finally {
      for (const mat of [src, dst, mask, homography]) mat.delete();
    }
  }
}

function invert3x3(m: readonly number[]): number[] | null {
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
