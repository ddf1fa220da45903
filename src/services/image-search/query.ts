// Query preparation: the upload checked (size, magic bytes, pixels) and decoded (a GIF or video
// upload gives its first frame), the regions the CNN describes (flat borders trimmed, a frame
// pasted into a player page), and the screenshot's grey levels and ORB features per orientation.
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { BadInputError, PayloadTooLargeError, UnsupportedMediaError } from '../../errors.js';
import { FRAME_DECODE_WIDTH } from '../../indexers/frames.js';
import { findInnerRectangles, trimFlatBorders } from '../../models/image-descriptors/content-rect.js';
import type { LocalFeatures, OrbMatcher } from '../../models/image-descriptors/local-features.js';
import { decodeImage, toGrey } from '../../models/image.js';
import type { Box, RawImage } from '../../models/types.js';
import type { PhaseClock } from './phases.js';
import type { ImageSearchLimits, ImageSearchRequest, OrientedQuery, QueryVariant } from './types.js';

/** Queries are worked on at most this many pixels on the longer side (screenshots can be 4K). */
const QUERY_MAX_SIDE = 640;
/**
 * Inner rectangles (player pages) tried besides the trimmed picture: each costs a CNN pass and a
 * first-stage scan, and on the dev sets a second one never found what the first missed.
 */
const MAX_INNER_RECTANGLES = 1;

type Container = 'jpeg' | 'png' | 'webp' | 'gif' | 'video';

/** What the bytes are, from their magic numbers (the client's content type is not trusted). */
export function sniffContainer(bytes: Buffer): Container | null {
  const ascii = (start: number, end: number) => bytes.subarray(start, end).toString('latin1');
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (bytes.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'gif';
  if (bytes.length >= 12 && ascii(4, 8) === 'ftyp') return 'video'; // MP4, MOV, 3GP
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0x1a45dfa3) return 'video'; // Matroska, WebM
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'AVI ') return 'video';
  return null;
}

function decodeBase64(text: string, maxBytes: number): Buffer {
  const body = text.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  if (Math.floor((body.length * 3) / 4) > maxBytes) throw new PayloadTooLargeError(`imageBase64 is larger than ${maxBytes} bytes`);
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(body)) throw new BadInputError('imageBase64 is not valid base64');
  return Buffer.from(body, 'base64');
}

/** The request's picture, decoded and scaled to at most QUERY_MAX_SIDE; typed errors for bad input. */
export async function loadQuery(request: ImageSearchRequest, limits: ImageSearchLimits, firstFrame: (file: string) => Promise<Buffer>): Promise<RawImage> {
  const hasUpload = request.image !== null && request.image !== undefined;
  const hasBase64 = typeof request.imageBase64 === 'string' && request.imageBase64 !== '';
  if (hasUpload === hasBase64) throw new BadInputError('give exactly one of image (upload) or imageBase64');
  const bytes = hasUpload ? request.image! : decodeBase64(request.imageBase64!, limits.maxBytes);
  if (bytes.length > limits.maxBytes) throw new PayloadTooLargeError(`the image is larger than ${limits.maxBytes} bytes`);
  const container = sniffContainer(bytes);
  if (container === null) throw new BadInputError('the upload is not a JPEG, PNG, WebP, GIF or video file');
  let still = bytes;
  if (container === 'gif' || container === 'video') {
    const file = path.join(os.tmpdir(), `vidsearch-query-${randomUUID()}`);
    await writeFile(file, bytes);
    try {
      still = await firstFrame(file);
    } catch (err) {
      throw new UnsupportedMediaError(`no frame could be decoded from the ${container} upload (${err instanceof Error ? err.message : String(err)})`);
    } finally {
      await rm(file, { force: true });
    }
  }
  return decodeImage(still, { label: 'the query image', maxPixels: limits.maxPixels, maxSide: QUERY_MAX_SIDE });
}

/**
 * Trimmed picture plus inner rectangles (player pages), upright, then the trimmed picture
 * mirrored. An inner rectangle is not tried mirrored: a mirrored re-upload is matched through the
 * whole mirrored picture (its CNN pass and scan; ORB then verifies the mirrored screenshot, the
 * page included) and the upright inner pass. All 32 image-search-hard.json queries mirrored (4
 * player pages among them) got the same answers without the mirrored inner pass
 * (bench/README.md); it saves a CNN picture and a first-stage scan of every query the upright
 * pass leaves open (the load bench's no-match queries are player pages).
 */
export function queryVariants(image: RawImage): QueryVariant[] {
  const regions: Box[] = [trimFlatBorders(image)];
  for (const inner of findInnerRectangles(image, MAX_INNER_RECTANGLES)) {
    const region = trimFlatBorders(image, inner.box);
    const duplicate = regions.some((r) => Math.abs(r.x - region.x) + Math.abs(r.y - region.y) + Math.abs(r.width - region.width) + Math.abs(r.height - region.height) < 8);
    if (!duplicate) regions.push(region);
  }
  return [...regions.map((region) => ({ region, mirror: false })), { region: regions[0]!, mirror: true }];
}

/** The pixels of `box` (a copy), e.g. the content region for ColorLayout. */
export function cropImage(image: RawImage, box: Box): RawImage {
  const { channels } = image;
  const data = new Uint8Array(box.width * box.height * channels);
  for (let y = 0; y < box.height; y++) {
    const from = ((box.y + y) * image.width + box.x) * channels;
    data.set(image.data.subarray(from, from + box.width * channels), y * box.width * channels);
  }
  return { data, width: box.width, height: box.height, channels };
}

export async function mirrored(image: RawImage): Promise<RawImage> {
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .flop()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: image.channels };
}

/**
 * The screenshot's ORB features, extracted with its content region at the width of the frames the
 * index stored ORB features of (FRAME_DECODE_WIDTH); the keypoints in the screenshot's own pixels.
 * ORB's 8-level pyramid (×1.2 a level) puts ~4/5 of its keypoints on its 4 finest levels: a
 * screenshot whose picture is twice the stored frame's width (any upload of ≥ 640 px: it is worked
 * on at up to QUERY_MAX_SIDE) matched only with its coarsest levels, ~1/5 of its keypoints, which on
 * low-texture footage left too few matches to verify. A rule (the scale the stored features have),
 * not a fit; never enlarged.
 */
export async function orbFeaturesAtStoredScale(picture: RawImage, contentWidth: number, matcher: Pick<OrbMatcher, 'extract'>): Promise<LocalFeatures> {
  const scale = Math.min(1, FRAME_DECODE_WIDTH / Math.max(1, contentWidth));
  const width = Math.round(picture.width * scale);
  const height = Math.round(picture.height * scale);
  if (width === picture.width || width < 1 || height < 1) return matcher.extract(picture);
  const { data } = await sharp(picture.data, { raw: { width: picture.width, height: picture.height, channels: picture.channels } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const features = await matcher.extract({ data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height, channels: picture.channels });
  const points = Float32Array.from(features.points, (v, i) => v * (i % 2 === 0 ? picture.width / width : picture.height / height));
  return { ...features, points };
}

/** The screenshot's grey levels and ORB features per orientation, each computed once per search. */
export function orientedQueries(image: RawImage, contentWidth: number, matcher: OrbMatcher, clock: PhaseClock): (mirror: boolean) => Promise<OrientedQuery> {
  const queries = new Map<boolean, Promise<OrientedQuery>>();
  return (mirror) => {
    let query = queries.get(mirror);
    if (!query) {
      query = (async () => {
        const picture = mirror ? await mirrored(image) : image;
        return { grey: toGrey(picture), features: await clock.time('orbExtract', () => orbFeaturesAtStoredScale(picture, contentWidth, matcher)) };
      })();
      queries.set(mirror, query);
    }
    return query;
  };
}
