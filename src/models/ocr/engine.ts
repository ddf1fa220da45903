// Detection + recognition of one image, with the results in reading order. The pool (pool.ts)
// calls the two halves separately; `read` is the simple in-order path for a single image.
import type { RawImage } from '../types.js';
import { DbTextDetector } from './detector.js';
import { CtcTextRecognizer } from './recognizer.js';
import { RETRY_DB_OPTIONS, detectWithRetries } from './retries.js';
import type { Quad, ReadOptions, TextCrop, TextDetector, TextLine, TextRecognizer } from './types.js';

/** Lines read with less confidence than this are noise (PaddleOCR's drop_score). */
export const MIN_TEXT_SCORE = 0.5;

/** An image this flat is probably one cut-out line (a subtitle strip, a caption) by itself. */
export const SINGLE_LINE_MIN_ASPECT = 2.5;
const SINGLE_LINE_MAX_HEIGHT = 120;

export class OcrEngine {
  constructor(
    readonly detector: TextDetector = new DbTextDetector(),
    readonly recognizer: TextRecognizer = new CtcTextRecognizer(),
    /** Looks at the enlarged retry views when the first look found nothing confident (retries.ts). */
    readonly retryDetector: TextDetector = new DbTextDetector(RETRY_DB_OPTIONS),
  ) {}

  /**
   * Line crops of `image`, retried on altered views when nothing confident was found (unless
   * `options.retry` is false). When the detector still finds nothing in an image shaped like a
   * single line, the whole image is that line (DB misses text that touches the image border),
   * unless `options.wholeLineFallback` is false.
   */
  async detect(image: RawImage, options: ReadOptions = {}): Promise<TextCrop[]> {
    const crops =
      options.retry === false
        ? await this.detector.detect(image, options)
        : await detectWithRetries(image, (i) => this.detector.detect(i, options), (i) => this.retryDetector.detect(i));
    if (crops.length > 0 || options.wholeLineFallback === false || !looksLikeOneLine(image)) return crops;
    const w = image.width;
    const h = image.height;
    return [{ image, detection: { quad: [[0, 0], [w, 0], [w, h], [0, h]], score: 0 } }];
  }

  async recognize(crops: readonly TextCrop[]): Promise<TextLine[]> {
    const texts = await this.recognizer.recognize(crops.map((c) => c.image));
    const lines: TextLine[] = [];
    crops.forEach((crop, i) => {
      const text = texts[i]!;
      if (text.text && text.score >= MIN_TEXT_SCORE) lines.push({ ...text, quad: crop.detection.quad, detectionScore: crop.detection.score });
    });
    return sortReadingOrder(lines);
  }

  async read(image: RawImage, options: ReadOptions = {}): Promise<TextLine[]> {
    return this.recognize(await this.detect(image, options));
  }
}

function looksLikeOneLine(image: RawImage): boolean {
  return image.height <= SINGLE_LINE_MAX_HEIGHT && image.width >= SINGLE_LINE_MIN_ASPECT * image.height;
}

function bounds(quad: Quad): { top: number; bottom: number; left: number } {
  const ys = quad.map((p) => p[1]);
  return { top: Math.min(...ys), bottom: Math.max(...ys), left: Math.min(...quad.map((p) => p[0])) };
}

/**
 * Top to bottom, and left to right among lines that share a row (their vertical extents overlap
 * by more than half of the shorter one).
 */
export function sortReadingOrder<T extends { quad: Quad }>(lines: readonly T[]): T[] {
  const withBounds = lines.map((line) => ({ line, ...bounds(line.quad) })).sort((a, b) => a.top - b.top);
  const rows: (typeof withBounds)[] = [];
  for (const item of withBounds) {
    const row = rows[rows.length - 1];
    const anchor = row?.[0];
    if (anchor) {
      const overlap = Math.min(anchor.bottom, item.bottom) - Math.max(anchor.top, item.top);
      const shorter = Math.min(anchor.bottom - anchor.top, item.bottom - item.top);
      if (overlap > shorter / 2) {
        row.push(item);
        continue;
      }
    }
    rows.push([item]);
  }
  return rows.flatMap((row) => row.sort((a, b) => a.left - b.left).map((r) => r.line));
}
