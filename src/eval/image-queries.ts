// Screenshot queries built by construction: the exact frame of a video at a time, put through
// one of the eight transforms of ../shared/EVAL.md (clean, half_jpegq30, crop70, hflip,
// subtitle_overlay, letterbox, pip_ui, gamma_color). Image-search manifests may name a query by
// { video, time, transform } instead of an image file; the picture is then generated here and
// cached under os.tmpdir() (never in the repo), keyed by the source file, time and transform.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { streamFrames } from '../media/frames.js';
import { probeMedia } from '../media/probe.js';
import type { MediaTools } from '../media/tools.js';

export const QUERY_TRANSFORMS = ['clean', 'half_jpegq30', 'crop70', 'hflip', 'subtitle_overlay', 'letterbox', 'pip_ui', 'gamma_color'] as const;
export type QueryTransform = (typeof QUERY_TRANSFORMS)[number];

export function isQueryTransform(name: string): name is QueryTransform {
  return (QUERY_TRANSFORMS as readonly string[]).includes(name);
}

/**
 * Bumped when a transform or the frame taken changes, so cached pictures of an old recipe are not
 * reused. 3: the frame is the one whose presentation time is nearest `time` (ffmpeg's input seek
 * landed 0.24 s late on the MPEG-PS GRID clips, so their pictures did not show their stated time).
 */
const RECIPE_VERSION = 3;
/** Frames decoded before the asked time: the nearest one is found among true frame times, not by a seek. */
const LEAD_SEC = 1;
const CACHE_DIR = path.join(os.tmpdir(), 'vidsearch-image-queries');

/** A subtitle line over the lower part of the picture, white with a dark outline (DejaVu is the fallback font). */
function subtitleSvg(width: number, height: number): Buffer {
  const size = Math.max(12, Math.round(height * 0.07));
  const y = Math.round(height * 0.9);
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<text x="50%" y="${y}" font-family="DejaVu Sans, sans-serif" font-size="${size}" text-anchor="middle" ` +
      `fill="white" stroke="black" stroke-width="${Math.max(1, size / 14)}" paint-order="stroke">我们明天再说吧 — see you tomorrow</text></svg>`,
  );
}

/** A dark video-player page: title bar, the frame within 800×560, a progress bar and a list of related videos. */
async function playerPage(frame: Buffer): Promise<ReturnType<typeof sharp>> {
  const inner = await sharp(frame).resize({ width: 800, height: 560, fit: 'inside' }).toBuffer({ resolveWithObject: true });
  const ui = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="720">` +
      `<rect x="0" y="0" width="1280" height="56" fill="#3c4043"/>` +
      `<rect x="24" y="16" width="120" height="24" rx="4" fill="#ea4335"/>` +
      `<rect x="400" y="14" width="480" height="28" rx="14" fill="#5f6368"/>` +
      `<rect x="60" y="${90 + inner.info.height + 12}" width="${inner.info.width}" height="6" fill="#5f6368"/>` +
      `<rect x="60" y="${90 + inner.info.height + 12}" width="310" height="6" fill="#ea4335"/>` +
      `<text x="60" y="${90 + inner.info.height + 50}" font-family="DejaVu Sans" font-size="22" fill="#e8eaed">第3集 精彩片段</text>` +
      [0, 1, 2, 3].map((i) => `<rect x="900" y="${90 + i * 130}" width="340" height="110" rx="6" fill="#303134"/>`).join('') +
      `</svg>`,
  );
  return sharp({ create: { width: 1280, height: 720, channels: 3, background: '#202124' } }).composite([
    { input: ui, left: 0, top: 0 },
    { input: inner.data, left: 60, top: 90 },
  ]);
}

/** The transform applied to a PNG frame; JPEG out. */
export async function applyTransform(frame: Buffer, transform: QueryTransform): Promise<Buffer> {
  const { width, height } = await sharp(frame).metadata();
  const w = width!;
  const h = height!;
  switch (transform) {
    case 'clean':
      return sharp(frame).jpeg({ quality: 90 }).toBuffer();
    case 'half_jpegq30':
      return sharp(frame).resize({ width: Math.round(w / 2) }).jpeg({ quality: 30 }).toBuffer();
    case 'crop70': {
      // 70 % of each side, a little off centre (people crop by hand).
      const cw = Math.round(w * 0.7);
      const ch = Math.round(h * 0.7);
      return sharp(frame).extract({ left: Math.round((w - cw) * 0.4), top: Math.round((h - ch) * 0.6), width: cw, height: ch }).jpeg({ quality: 90 }).toBuffer();
    }
    case 'hflip':
      return sharp(frame).flop().jpeg({ quality: 90 }).toBuffer();
    case 'subtitle_overlay':
      return sharp(frame).composite([{ input: subtitleSvg(w, h) }]).jpeg({ quality: 90 }).toBuffer();
    case 'letterbox':
      return sharp(frame).resize({ width: 640, height: 360, fit: 'contain', background: '#000000' }).jpeg({ quality: 90 }).toBuffer();
    case 'pip_ui':
      return (await playerPage(frame)).jpeg({ quality: 85 }).toBuffer();
    case 'gamma_color':
      // Brighter mid-tones, warmer and more saturated: a phone's "vivid" filter.
      return sharp(frame).gamma(2.2, 1.6).modulate({ saturation: 1.35, hue: 12 }).linear(1.08, -6).jpeg({ quality: 90 }).toBuffer();
  }
}

/** The full-size frame (PNG) whose presentation time is nearest `time`, on the timeline the indexer uses. */
export async function frameAt(tools: MediaTools, videoFile: string, time: number): Promise<Buffer> {
  const probe = await probeMedia(tools, videoFile);
  let nearest: { time: number; data: Uint8Array; width: number; height: number } | null = null;
  for await (const frame of streamFrames(tools, videoFile, { start: Math.max(0, time - LEAD_SEC), end: time + LEAD_SEC, width: probe.width, pixFmt: 'rgb24', probe })) {
    if (!nearest || Math.abs(frame.time - time) < Math.abs(nearest.time - time)) nearest = { ...frame, data: Uint8Array.from(frame.data) };
    if (frame.time > time) break;
  }
  if (!nearest) throw new Error(`no frame near ${time} s in ${videoFile}`);
  return sharp(nearest.data, { raw: { width: nearest.width, height: nearest.height, channels: 3 } }).png().toBuffer();
}

/** The generated query picture (cached): the frame of `videoFile` at `time` after `transform`. */
export async function generatedQuery(tools: MediaTools, videoFile: string, time: number, transform: QueryTransform): Promise<Buffer> {
  const key = createHash('sha256').update(`${RECIPE_VERSION}\0${path.resolve(videoFile)}\0${time}\0${transform}`).digest('hex').slice(0, 24);
  const file = path.join(CACHE_DIR, `${key}.jpg`);
  try {
    return await readFile(file);
  } catch {
    // Not cached yet.
  }
  const frame = await frameAt(tools, videoFile, time);
  const picture = await applyTransform(frame, transform);
  await mkdir(CACHE_DIR, { recursive: true });
  // Written aside and renamed: a concurrent run never reads half a file.
  const partial = `${file}.${process.pid}.part`;
  await writeFile(partial, picture);
  await rename(partial, file);
  return picture;
}
