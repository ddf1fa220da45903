// The faces stage's per-frame part, which needs no shots and so runs while the job's one decode
// goes by: detect the faces of each sampled frame, score their quality, and cut what embedding
// and thumbnails will need later (the embedder's aligned crop, the 112-px aligned thumbnail crop)
// into a record file. The frame itself is then let go: which faces get embedded is decided per
// shot (face-embedding-plan.ts), once the shots are known (tracks.ts).
import type { RawFrame } from '../../media/frames.js';
import { RecordFile, type RecordRef } from '../../media/record-file.js';
import { alignFace, type FaceModels } from '../../models/faces/index.js';
import { isAligningEmbedder, type DetectedFace, type RawImage } from '../../models/types.js';
import { faceQuality } from '../face-tracking.js';

/** Faces smaller than this (box side, decoded pixels) are too small to recognise reliably. */
export const MIN_FACE_SIDE = 16;

/** A stored picture: where its pixels lie in the record file, and its shape. */
export interface StoredImage {
  ref: RecordRef;
  width: number;
  height: number;
  channels: 1 | 3;
}

export interface DetectedSample {
  face: DetectedFace;
  quality: number;
  /** What the embedder runs on: its aligned crop, or (an embedder that aligns inside) the frame. */
  embedInput: StoredImage;
  /** The aligned 112-px crop a thumbnail is encoded from; null without five landmarks. */
  thumbnail: StoredImage | null;
}

export interface SampledFrame {
  time: number;
  faces: DetectedSample[];
}

export interface FaceSamples {
  frames: SampledFrame[];
  /** Video pixels per decoded pixel (1 when nothing was decoded). */
  scale: number;
  /** Where the crops are; the caller closes it. */
  crops: RecordFile;
}

function store(crops: RecordFile, image: RawImage): StoredImage {
  return { ref: crops.append(image.data), width: image.width, height: image.height, channels: image.channels };
}

export function loadStored(crops: RecordFile, stored: StoredImage): RawImage {
  const data = crops.read(stored.ref);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: stored.width, height: stored.height, channels: stored.channels };
}

/** Detects faces in every frame and keeps their crops; `progress` gets each frame's time. */
export async function sampleFaces(
  frames: AsyncIterable<RawFrame>,
  models: FaceModels,
  opts: { tiles: number; videoWidth: number; progress(time: number): void },
): Promise<FaceSamples> {
  const crops = new RecordFile('face-crops');
  const sampled: SampledFrame[] = [];
  let scale = 1;
  const aligning = isAligningEmbedder(models.embedder) ? models.embedder : null;
  try {
    for await (const frame of frames) {
      scale = opts.videoWidth > 0 ? opts.videoWidth / frame.width : 1;
      const image: RawImage = { data: frame.data, width: frame.width, height: frame.height, channels: 3 };
      const detected = (await models.detector.detect(image, { tiles: opts.tiles })).filter((f) => Math.min(f.box.width, f.box.height) >= MIN_FACE_SIDE);
      // An embedder that aligns inside `embed` needs the frame: kept once for all its faces.
      const wholeFrame = detected.length && !aligning ? store(crops, image) : null;
      const faces: DetectedSample[] = [];
      for (const face of detected) {
        faces.push({
          face,
          quality: faceQuality(image, face),
          embedInput: aligning ? store(crops, await aligning.align(image, face)) : wholeFrame!,
          thumbnail: face.landmarks?.length === 5 ? store(crops, alignFace(image, face.landmarks)) : null,
        });
      }
      sampled.push({ time: frame.time, faces });
      opts.progress(frame.time);
    }
  } catch (err) {
    crops.close();
    throw err;
  }
  return { frames: sampled, scale, crops };
}

/** The embedding of one sampled face, from what sampling kept. */
export async function embedSample(models: FaceModels, crops: RecordFile, sample: DetectedSample): Promise<Float32Array> {
  const input = loadStored(crops, sample.embedInput);
  const { embedder } = models;
  return isAligningEmbedder(embedder) ? embedder.embedAligned(input) : embedder.embed(input, sample.face);
}
