// Small grey thumbnails of sampled frames, for image search's photometric time localisation.
// The frames stage stores one per sampled frame beside its evidence JPEG, so a query reads bytes
// instead of decoding dozens of JPEGs; frames indexed before that (and ffmpeg-decoded ones) get
// theirs computed the same way at query time. Grey levels use toGrey's weights, the query's side.
import sharp from 'sharp';
import type { FrameThumbnail } from '../../store/interfaces.js';
import { toGrey } from '../image.js';
import type { RawImage } from '../types.js';

/** Thumbnail width: half the sampled 320 px, where a talking head's mouth still spans pixels. */
export const THUMBNAIL_WIDTH = 160;

function thumbnailOf(data: Uint8Array, width: number, height: number, channels: number): FrameThumbnail {
  const grey = toGrey({ data, width, height, channels: channels === 1 ? 1 : 3 });
  return { width, height, grey: grey.data };
}

/** The thumbnail of a decoded RGB (or grey) frame. */
export async function greyThumbnail(image: RawImage): Promise<FrameThumbnail> {
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .resize({ width: THUMBNAIL_WIDTH })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return thumbnailOf(data, info.width, info.height, info.channels);
}

/**
 * Rows of a frame's edge repeated above and below it, per source pixel a thumbnail pixel spans,
 * when frames are resized stacked: lanczos3 (sharp's default) reads 3 output pixels either side,
 * and sharp extends a picture's edge by repeating it, so with these rows each frame's output is
 * that of its own resize bit for bit (test/unit/image-descriptors/grey-thumbnail.test.ts), while
 * no row of a neighbour reaches it.
 */
const STACK_PAD_PER_FACTOR = 3;

/**
 * The thumbnails of decoded frames of one size, identical to greyThumbnail's frame by frame, in
 * one resize: a sharp call costs ~2–3 ms of set-up for a 320-px frame, several times its
 * resampling (a moment's refinement decodes up to 180 frames a query). Frames are stacked into
 * one tall picture, each between copies of its edge rows; only a whole factor between the
 * frame's width and the thumbnail's keeps every frame's rows on the same sampling grid, so other
 * sizes (and mixed sizes) are resized one by one.
 */
export async function greyThumbnails(images: readonly RawImage[]): Promise<FrameThumbnail[]> {
  const first = images[0];
  if (!first) return [];
  const factor = first.width / THUMBNAIL_WIDTH;
  const stackable = Number.isInteger(factor) && first.height % factor === 0 && images.every((i) => i.width === first.width && i.height === first.height && i.channels === first.channels);
  if (!stackable || images.length === 1) return Promise.all(images.map(greyThumbnail));
  const { width, height, channels } = first;
  const pad = STACK_PAD_PER_FACTOR * factor;
  const row = width * channels;
  const slab = (height + 2 * pad) * row;
  const stacked = Buffer.alloc(slab * images.length);
  images.forEach((image, k) => {
    const top = image.data.subarray(0, row);
    const bottom = image.data.subarray((height - 1) * row, height * row);
    for (let i = 0; i < pad; i++) {
      stacked.set(top, k * slab + i * row);
      stacked.set(bottom, k * slab + (pad + height + i) * row);
    }
    stacked.set(image.data.subarray(0, height * row), k * slab + pad * row);
  });
  const { data, info } = await sharp(stacked, { raw: { width, height: (height + 2 * pad) * images.length, channels } })
    .resize({ width: THUMBNAIL_WIDTH })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const outRow = info.width * info.channels;
  const outHeight = height / factor;
  const outSlab = (outHeight + (2 * pad) / factor) * outRow;
  return images.map((_, k) => {
    const start = k * outSlab + (pad / factor) * outRow;
    return thumbnailOf(data.subarray(start, start + outHeight * outRow), info.width, outHeight, info.channels);
  });
}

/** The thumbnail of an encoded picture (a stored evidence JPEG without its thumbnail). */
export async function greyThumbnailOfEncoded(picture: Uint8Array): Promise<FrameThumbnail> {
  const { data, info } = await sharp(picture).resize({ width: THUMBNAIL_WIDTH }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return thumbnailOf(data, info.width, info.height, info.channels);
}
