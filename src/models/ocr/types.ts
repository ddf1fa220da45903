// Shapes of the OCR wrappers: a detector finds text lines as rotated boxes and cuts them out
// upright; a recogniser reads cut-out lines. They are separate steps so the work pool can schedule
// them independently (see pool.ts).
import type { Point, RawImage } from '../types.js';

/** A text line's box: four corners clockwise from the top-left of the text as read. */
export type Quad = [Point, Point, Point, Point];

export interface DetectedText {
  quad: Quad;
  /** Mean text probability inside the box. */
  score: number;
}

/** One detected line cut out of its image, straightened so its text runs left to right. */
export interface TextCrop {
  image: RawImage;
  detection: DetectedText;
}

export interface RecognizedText {
  text: string;
  /** Mean probability of the decoded characters (0 when nothing was read). */
  score: number;
  /** True when the angle classifier found the line upside down and it was read turned over. */
  flipped: boolean;
}

export interface TextLine extends RecognizedText {
  quad: Quad;
  detectionScore: number;
}

/** How one image is read. */
export interface ReadOptions {
  /**
   * Longest side of the detector input, below the detector's own limit: a whole frame whose text
   * worth reading is large (titles, signs) is looked at smaller, at a fraction of the cost. The
   * lines are still cut out of the full image for the recogniser.
   */
  detectMaxSide?: number;
  /**
   * Look first at this smaller size (a fraction of the cost) and stop there, with no line found,
   * when not one pixel of it looks like text: most shot keyframes hold no text at all.
   */
  presenceMaxSide?: number;
  /** Look again at enlarged and inverted views when the first look finds nothing confident (retries.ts; default true). */
  retry?: boolean;
  /** Read an image shaped like one line whole when no line is detected in it (default true). */
  wholeLineFallback?: boolean;
}

export interface TextDetector {
  readonly modelId: string;
  detect(image: RawImage, options?: ReadOptions): Promise<TextCrop[]>;
}

export interface TextRecognizer {
  readonly modelId: string;
  /** One result per crop, same order. */
  recognize(crops: readonly RawImage[]): Promise<RecognizedText[]>;
}
