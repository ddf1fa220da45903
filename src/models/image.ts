// Decoding and resizing of still images for the models. Every image that reaches a model goes
// through decodeImage, so a non-image or a decompression bomb fails here with a typed error
// before any pixels are allocated.
import sharp from 'sharp';
import { BadInputError } from '../errors.js';
import type { RawImage } from './types.js';

/** 40 MP: larger than any camera still we expect, small enough to keep one decode under ~120 MB. */
export const DEFAULT_MAX_IMAGE_PIXELS = 40_000_000;

export class NotAnImageError extends BadInputError {
  constructor(readonly source: string, reason: string) {
    super(`${source} is not a decodable image (${reason})`, { file: source });
  }
}

/** Too many pixels is a bad argument (a decompression bomb can be a few kilobytes), not a large payload. */
export class ImageTooLargeError extends BadInputError {
  constructor(
    readonly source: string,
    readonly pixels: number,
    readonly maxPixels: number,
  ) {
    super(`${source} has ${pixels} pixels, more than the limit of ${maxPixels}`, { file: source, pixels, maxPixels });
  }
}

export interface DecodeOptions {
  /** Name used in error messages (a file name or "upload #2"). */
  label?: string;
  maxPixels?: number;
  /**
   * Downscale so neither side exceeds this (never upscale). JPEGs then decode at a reduced DCT
   * scale, several times faster for camera photos.
   */
  maxSide?: number;
}

/**
 * Decodes an encoded image (Buffer) or an image file (path) to interleaved 8-bit RGB, applying
 * the EXIF orientation so faces are upright.
 */
export async function decodeImage(input: Buffer | string, options: DecodeOptions = {}): Promise<RawImage> {
  const label = options.label ?? (typeof input === 'string' ? input : 'image');
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  let width: number;
  let height: number;
  try {
    // Header only: the pixel count is checked before anything is decoded.
    const meta = await sharp(input, { limitInputPixels: false }).metadata();
    width = meta.width ?? 0;
    height = meta.height ?? 0;
  } catch (err) {
    throw new NotAnImageError(label, err instanceof Error ? err.message : String(err));
  }
  if (width <= 0 || height <= 0) throw new NotAnImageError(label, 'no dimensions');
  if (width * height > maxPixels) throw new ImageTooLargeError(label, width * height, maxPixels);
  try {
    let pipeline = sharp(input, { limitInputPixels: maxPixels }).rotate();
    if (options.maxSide) pipeline = pipeline.resize(options.maxSide, options.maxSide, { fit: 'inside', withoutEnlargement: true });
    const { data, info } = await pipeline
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
  } catch (err) {
    throw new NotAnImageError(label, err instanceof Error ? err.message : String(err));
  }
}

/** RGB → grey with the ITU-R BT.601 weights most landmark models were trained with. */
export function toGrey(image: RawImage): RawImage {
  if (image.channels === 1) return image;
  const pixels = image.width * image.height;
  const grey = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) {
    const o = i * 3;
    grey[i] = Math.round(0.299 * image.data[o]! + 0.587 * image.data[o + 1]! + 0.114 * image.data[o + 2]!);
  }
  return { data: grey, width: image.width, height: image.height, channels: 1 };
}

export interface Letterbox {
  image: RawImage;
  /** Source pixels per output pixel. */
  scale: number;
  /** Where the source image's top-left corner landed in the output. */
  offsetX: number;
  offsetY: number;
}

/**
 * Fits `image` inside width×height keeping its aspect ratio, centred on a grey background, with
 * an extra margin of `margin` × the fitted size on each side (tight face crops need context
 * around the face before a detector recognises them). Uses sharp's area-averaging resize, so
 * large photos do not alias.
 */
export async function letterbox(image: RawImage, width: number, height: number, margin = 0): Promise<Letterbox> {
  const scale = Math.max(image.width / width, image.height / height) * (1 + 2 * margin);
  const fittedWidth = Math.max(1, Math.min(width, Math.round(image.width / scale)));
  const fittedHeight = Math.max(1, Math.min(height, Math.round(image.height / scale)));
  const offsetX = Math.floor((width - fittedWidth) / 2);
  const offsetY = Math.floor((height - fittedHeight) / 2);
  const grey = { r: 127, g: 127, b: 127 };
  const { data } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .resize(fittedWidth, fittedHeight, { fit: 'fill' })
    .extend({
      top: offsetY,
      bottom: height - fittedHeight - offsetY,
      left: offsetX,
      right: width - fittedWidth - offsetX,
      background: grey,
    })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    image: { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height, channels: image.channels },
    scale: image.width / fittedWidth,
    offsetX,
    offsetY,
  };
}

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ScaledRegion {
  image: RawImage;
  /** Output pixels per source pixel. */
  scale: number;
  /** Source coordinates of the output's top-left corner. */
  originX: number;
  originY: number;
}

/**
 * Cuts `region` (clamped to the image) out and scales it so that it is at most `maxSide` pixels
 * on its longer side, with area averaging. Lets a later bilinear warp work near 1:1, which it
 * must: bilinear sampling of a 1000-pixel face straight down to 112 pixels aliases badly.
 */
export async function cropRegion(image: RawImage, region: Region, maxSide: number): Promise<ScaledRegion> {
  const left = Math.max(0, Math.floor(region.x));
  const top = Math.max(0, Math.floor(region.y));
  const right = Math.min(image.width, Math.ceil(region.x + region.width));
  const bottom = Math.min(image.height, Math.ceil(region.y + region.height));
  const width = Math.max(1, right - left);
  const height = Math.max(1, bottom - top);
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const outWidth = Math.max(1, Math.round(width * scale));
  const outHeight = Math.max(1, Math.round(height * scale));
  const { data } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .extract({ left: Math.min(left, image.width - 1), top: Math.min(top, image.height - 1), width, height })
    .resize(outWidth, outHeight, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    image: { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: outWidth, height: outHeight, channels: image.channels },
    scale: outWidth / width,
    originX: left,
    originY: top,
  };
}

/**
 * Bytes as floats divided by `divisor` (network inputs). A plain loop: Float32Array.from with a
 * mapping function took 10 ms for one 224×224×3 input, twice the network's own run.
 */
export function scaledFloats(bytes: Uint8Array, divisor: number): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]! / divisor;
  return out;
}
