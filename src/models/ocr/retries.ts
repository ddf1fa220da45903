// Detection retries for text the DB detector does not see at its first look (issue 19): white
// glyphs with a thin dark outline over a light, busy background, in a small image such as a
// 640-pixel subtitle band. Upscaled, the outline is wide enough for the detector; inverted, the
// white fill becomes dark text on a darker field. A retry is only made when the first look found
// nothing confident, and its boxes are mapped back to the original image, which the recogniser
// then reads (the original, not the altered picture: inversion can turn a "W" into an "N").
import sharp from 'sharp';
import type { RawImage } from '../types.js';
import { DEFAULT_DB_OPTIONS, type DbDetectorOptions } from './detector.js';
import { cropQuad } from './geometry.js';
import type { Quad, TextCrop } from './types.js';

/**
 * A first look whose best box is at least this sure needs no retry. Chosen on frames of an earlier
 * draft of the short-cue set (v1: larger glyphs, moving backgrounds; not the reported v3 set):
 * readable subtitle boxes scored 0.95–1.0, the stray box found instead of an outlined word on a
 * light background 0.73, nothing at all for another.
 */
export const CONFIDENT_BOX = 0.85;
/** Images taller than this are whole frames, where text is not small; only bands are retried. */
const RETRY_MAX_HEIGHT = 400;
const UPSCALE = 2;

/** The detector that looks at retry views: room for the upscaled image (the default caps the long side at 960). */
export const RETRY_DB_OPTIONS: DbDetectorOptions = { ...DEFAULT_DB_OPTIONS, maxSide: DEFAULT_DB_OPTIONS.maxSide * UPSCALE };

/** One altered picture to detect on, and how its coordinates map back to the original's. */
export interface RetryView {
  name: 'upscaled' | 'inverted';
  image: RawImage;
  scale: number;
}

function bestScore(crops: readonly TextCrop[]): number {
  return Math.max(0, ...crops.map((c) => c.detection.score));
}

/** True when a first look at `image` found nothing confident and a retry may find more. */
export function needsRetry(image: RawImage, crops: readonly TextCrop[]): boolean {
  return image.height <= RETRY_MAX_HEIGHT && bestScore(crops) < CONFIDENT_BOX;
}

async function upscaled(image: RawImage): Promise<RawImage> {
  const width = image.width * UPSCALE;
  const height = image.height * UPSCALE;
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .resize(width, height, { kernel: 'cubic' })
    // sharp widens one grey channel to sRGB unless told to keep it.
    .toColourspace(image.channels === 1 ? 'b-w' : 'srgb')
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data), width, height, channels: image.channels };
}

/** Upscaled and upscaled-inverted views, in the order they are tried. */
export async function retryViews(image: RawImage): Promise<RetryView[]> {
  const big = await upscaled(image);
  const inverted = new Uint8Array(big.data.length);
  for (let i = 0; i < inverted.length; i++) inverted[i] = 255 - big.data[i]!;
  return [
    { name: 'upscaled', image: big, scale: UPSCALE },
    { name: 'inverted', image: { ...big, data: inverted }, scale: UPSCALE },
  ];
}

/** Crops found on a view, re-cut from the original image. */
export function mapBack(original: RawImage, view: RetryView, crops: readonly TextCrop[]): TextCrop[] {
  return crops.map(({ detection }) => {
    const quad = detection.quad.map(([x, y]) => [x / view.scale, y / view.scale]) as Quad;
    return { detection: { quad, score: detection.score }, image: cropQuad(original, quad) };
  });
}

/**
 * The crops of `image`: the first look's, or a retry's that found something more confident. The
 * inverted view is only tried when the upscaled one found some text, but none confidently: an
 * empty band (most retried reads) costs one extra look, not two.
 */
export async function detectWithRetries(
  image: RawImage,
  detect: (image: RawImage) => Promise<TextCrop[]>,
  detectRetry: (image: RawImage) => Promise<TextCrop[]>,
): Promise<TextCrop[]> {
  let best = await detect(image);
  if (!needsRetry(image, best)) return best;
  for (const view of await retryViews(image)) {
    const found = mapBack(image, view, await detectRetry(view.image));
    if (bestScore(found) > bestScore(best)) best = found;
    if (bestScore(best) >= CONFIDENT_BOX || found.length === 0) break;
  }
  return best;
}
