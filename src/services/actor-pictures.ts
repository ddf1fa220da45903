// Face pictures for enrolment: the one face a picture is about, and the templates made from it
// (the ArcFace-aligned crop as thumbnail, and its mirror image) with their embeddings.
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { alignFace, ARCFACE_TEMPLATE_112, type FaceModels } from '../models/faces/index.js';
import { decodeImage } from '../models/image.js';
import type { DetectedFace, RawImage } from '../models/types.js';
import type { FaceTemplateRecord } from '../store/actors.js';

/**
 * A picture's largest face is "dominant" when its area is at least this many times the next
 * one's (≈1.22× its side): a group photo of equals cannot say which person is meant.
 */
export const DOMINANT_FACE_AREA_RATIO = 1.5;
/** Faces smaller than this (box side, pixels) carry too little detail to enrol. */
export const MIN_ENROL_FACE_SIDE = 32;
/**
 * Pictures are decoded at most this large: a face filling even a tenth of the frame keeps well
 * over the embedder's 112 pixels, and JPEG shrink-on-load makes big camera photos much cheaper.
 */
export const FACE_PICTURE_MAX_SIDE = 1600;
const THUMBNAIL_QUALITY = 90;

export interface SourceImage {
  label: string;
  load(): Promise<Buffer | string>;
}

export interface PreparedFace {
  template: FaceTemplateRecord;
  vector: Float32Array;
}

/** Explains why a picture cannot be enrolled; enrolment turns it into BAD_USER_INPUT, addFaces into a skip. */
export class UnusablePicture extends Error {}

/** An ArcFace-aligned crop as a detected face: the whole picture, landmarks where the template puts them. */
export function alignedCropFace(crop: RawImage): DetectedFace {
  return { box: { x: 0, y: 0, width: crop.width, height: crop.height }, score: 1, landmarks: ARCFACE_TEMPLATE_112.map(([x, y]) => [(x * crop.width) / 112, (y * crop.height) / 112]) };
}

/** Left-right mirror image. The ArcFace template is symmetric, so a mirrored aligned crop is aligned too. */
function mirrorImage(image: RawImage): RawImage {
  const { width, height, channels } = image;
  const data = Buffer.alloc(image.data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * channels;
      const to = (y * width + (width - 1 - x)) * channels;
      for (let c = 0; c < channels; c++) data[to + c] = image.data[from + c]!;
    }
  }
  return { ...image, data };
}

/** The one face a picture is about, or why there is none. */
export function dominantFace(faces: readonly DetectedFace[]): DetectedFace | string {
  if (faces.length === 0) return 'no face found';
  const byArea = [...faces].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
  const [largest, second] = byArea as [DetectedFace, DetectedFace | undefined];
  if (second && largest.box.width * largest.box.height < DOMINANT_FACE_AREA_RATIO * second.box.width * second.box.height) {
    return `${faces.length} faces of similar size; use a picture of one person`;
  }
  if (Math.min(largest.box.width, largest.box.height) < MIN_ENROL_FACE_SIDE) {
    return `the face is smaller than ${MIN_ENROL_FACE_SIDE} pixels`;
  }
  return largest;
}

/** The templates a picture gives an actor (its aligned face and that face's mirror image), or UnusablePicture. */
export async function prepareFace(models: FaceModels, source: SourceImage, actorId: string, maxPixels: number): Promise<PreparedFace[]> {
  const image = await decodeImage(await source.load(), { label: source.label, maxPixels, maxSide: FACE_PICTURE_MAX_SIDE });
  const face = dominantFace(await models.detector.detect(image));
  if (typeof face === 'string') throw new UnusablePicture(face);
  const vector = await models.embedder.embed(image, face);
  const aligned = face.landmarks?.length === 5 ? alignFace(image, face.landmarks) : null;
  const now = Date.now();
  // The mirror image is stamped a millisecond later, so the picture as taken stays the actor's first (its thumbnail).
  const template = (thumbnail: Buffer | null, label: string, at: number): FaceTemplateRecord => ({ id: randomUUID(), actorId, modelId: models.embedder.modelId, source: label, thumbnail, createdAt: new Date(at).toISOString() });
  const prepared: PreparedFace[] = [{ vector, template: template(aligned ? await encodeJpeg(aligned) : null, source.label, now) }];
  // Flip augmentation: a turned or mirrored face in video often matches the mirror image of its
  // enrolment photo better (issue 16: recall on the harder set's fit half 0.633 → 0.667, no
  // change in precision or in faces.json / faces-pose.json; see src/models/faces/README.md).
  if (aligned) {
    const mirrored = mirrorImage(aligned);
    prepared.push({ vector: await models.embedder.embed(mirrored, alignedCropFace(mirrored)), template: template(await encodeJpeg(mirrored), `${source.label} (mirrored)`, now + 1) });
  }
  return prepared;
}

async function encodeJpeg(image: RawImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } }).jpeg({ quality: THUMBNAIL_QUALITY }).toBuffer();
}
