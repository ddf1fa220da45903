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
    if (query.count < MIN_MATCHES || frame.count < MIN_MATCHES) return { inliers: 0, matches: 0 };
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
    if (matches < MIN_MATCHES) return { inliers: 0, matches };
    const src = cv.matFromArray(matches, 1, cv.CV_32FC2, from);
    const dst = cv.matFromArray(matches, 1, cv.CV_32FC2, to);
    const mask = new cv.Mat();
    const homography = cv.findHomography(src, dst, cv.RANSAC, RANSAC_PX, mask);
    try {
      let inliers = 0;
      if (!homography.empty()) for (let i = 0; i < mask.rows; i++) inliers += mask.data[i]! ? 1 : 0;
      return { inliers, matches };
    } finally {
      for (const mat of [src, dst, mask, homography]) mat.delete();
    }
  }
}
