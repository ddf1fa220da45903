// How much of a picture is bare skin that no face explains. nsfwjs's Porn and Sexy classes fire on
// face close-ups and crowds of faces (measured: tight crops of the ../shared face photos reach
// Porn 0.9+, a whole-face frame 0.76), while nudity shows skin beyond faces. So the nsfw stage
// weighs a frame's Porn/Sexy probability by this share (see src/indexers/nsfw-risk.ts).
import type { Box, RawImage } from '../types.js';

/**
 * The classic YCbCr skin rule (Chai & Ngan 1999: Cb 77–127, Cr 133–173), which holds across skin
 * tones because it ignores luma. Cheap and crude, which is why it only gates the classifier.
 */
export function isSkin(r: number, g: number, b: number): boolean {
  const cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
  const cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
  return cb >= 77 && cb <= 127 && cr >= 133 && cr <= 173;
}

/**
 * The part of the head-and-neck a face box stands for: a quarter of the box on each side and
 * above (hair line, ears), the neck below down to one box height.
 */
export function headRegion(face: Box): Box {
  return { x: face.x - 0.25 * face.width, y: face.y - 0.25 * face.height, width: 1.5 * face.width, height: 2.25 * face.height };
}

/** Fraction of the picture's pixels that are skin outside every face's head region (0..1). */
export function skinOutsideFaces(image: RawImage, faces: readonly Box[]): number {
  const { data, width, height, channels } = image;
  if (channels < 3 || width === 0 || height === 0) return 0;
  const heads = faces.map(headRegion);
  let outside = 0;
  for (let y = 0; y < height; y++) {
    const rowHeads = heads.filter((h) => y >= h.y && y < h.y + h.height);
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      if (!isSkin(data[o]!, data[o + 1]!, data[o + 2]!)) continue;
      if (!rowHeads.some((h) => x >= h.x && x < h.x + h.width)) outside++;
    }
  }
  return outside / (width * height);
}
