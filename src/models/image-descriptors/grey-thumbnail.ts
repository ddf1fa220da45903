// Small grey thumbnails of sampled frames, for image search's photometric time localisation.
// The frames stage stores one per sampled frame beside its evidence JPEG, so a query reads bytes
// instead of decoding dozens of JPEGs; frames indexed before that get theirs computed the same way
// at query time. Grey levels use toGrey's weights, the query's side. Frames decoded at query time
// (the moment's refinement) get theirs from ffmpeg (StreamFramesOptions.finalWidth): within a
// grey level of these on average, without piping 320-px RGB frames out.
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

/** The thumbnail of an encoded picture (a stored evidence JPEG without its thumbnail). */
export async function greyThumbnailOfEncoded(picture: Uint8Array): Promise<FrameThumbnail> {
  const { data, info } = await sharp(picture).resize({ width: THUMBNAIL_WIDTH }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return thumbnailOf(data, info.width, info.height, info.channels);
}
