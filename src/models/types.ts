// Shared shapes of the inference wrappers. models/ imports nothing of ours but types.

/** Decoded pixels, row-major, interleaved RGB (channels 3) or grey (channels 1). */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type Point = [x: number, y: number];

export interface DetectedFace {
  box: Box;
  score: number;
  /** Five points in image pixels: left eye, right eye, nose tip, left mouth corner, right mouth corner. */
  landmarks: Point[] | null;
}

export interface FaceDetectOptions {
  /**
   * Also look in a tiles×tiles grid of overlapping tiles, each fed to the network at (nearly) its
   * own resolution: small faces in a wide frame shrink below what the network finds otherwise.
   */
  tiles?: number;
}

export interface FaceDetector {
  readonly modelId: string;
  detect(image: RawImage, options?: FaceDetectOptions): Promise<DetectedFace[]>;
}

export interface FaceEmbedder {
  /** Recorded with every stored vector; two models' vectors are never compared. */
  readonly modelId: string;
  readonly dim: number;
  /** L2-normalised embedding of one face (the embedder aligns the crop itself). */
  embed(image: RawImage, face: DetectedFace): Promise<Float32Array>;
}

/**
 * An embedder that runs on a crop aligned from the frame first (`embed` = `embedAligned(align)`):
 * the crop can be cut while the frame goes by and embedded later, once it is known to be needed.
 */
export interface AligningFaceEmbedder extends FaceEmbedder {
  align(image: RawImage, face: DetectedFace): Promise<RawImage>;
  embedAligned(aligned: RawImage): Promise<Float32Array>;
}

export function isAligningEmbedder(embedder: FaceEmbedder): embedder is AligningFaceEmbedder {
  return 'align' in embedder && 'embedAligned' in embedder;
}
