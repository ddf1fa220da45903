// Builds moving, low-texture clips by construction from the motion set's fit-half clip (Tears of
// Steel; Sintel, the report half, is never used) and writes an image-search manifest for them,
// both under os.tmpdir() (media is never put in the repo): issue 18's failure classes with more
// cases than the fit half holds (a 70 % crop of a moving shot, a mirrored screenshot, a recoloured
// frame, on footage where ORB finds few true matches):
// - pan: the clip enlarged 1.5× with a window sliding across it over its length (a camera pan);
// - lowtex_pan: the same pan at 40 % contrast and blurred (fog, snow: few corners for ORB).
// The two clips show the same content; an answer in the twin clip at the right time is a
// look-alike, not a geometry failure. Every query is fit half: rules were fitted on these.
//   npx tsc -p tsconfig.json && node dist/bench/image-search-constructed-set.js [out dir]
//   VIDSEARCH_STAGES=frames node dist/bench/image-search-moments.js <out dir>/constructed.json <store dir>
import { execFile } from 'node:child_process';
import { access, mkdir, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { QUERY_TRANSFORMS } from '../src/eval/image-queries.js';
import { resolveMediaTools } from '../src/media/tools.js';
import { seededRandom } from '../src/seeded-random.js';

const SOURCE = new URL('../../../shared/data/video_blender/clip_01_tears_of_steel.mp4', import.meta.url).pathname;
const DURATION_SEC = 10;
const FPS = 24;
const PAN = "scale=iw*1.5:-2,crop=iw/1.5:ih/1.5:x='(iw-ow)*t/10':y='(ih-oh)/2'";
export const CONSTRUCTED_CLIPS = [
  { id: 'pan', filter: `${PAN},scale=trunc(iw/2)*2:trunc(ih/2)*2` },
  { id: 'lowtex_pan', filter: `${PAN},eq=contrast=0.4:brightness=0.15,gblur=sigma=1.5,scale=trunc(iw/2)*2:trunc(ih/2)*2` },
] as const;
const QUERIES_PER_CLIP = 5 * QUERY_TRANSFORMS.length;
const EDGE_SEC = 0.3;

/** The constructed clip (cached in `dir`): the source put through `filter`, H.264. */
export async function constructedClip(ffmpeg: string, dir: string, clip: (typeof CONSTRUCTED_CLIPS)[number]): Promise<string> {
  const file = path.join(dir, `${clip.id}.mp4`);
  try {
    await access(file);
    return file;
  } catch {
    // Not built yet.
  }
  await mkdir(dir, { recursive: true });
  const partial = `${file}.${process.pid}.part.mp4`;
  await promisify(execFile)(ffmpeg, ['-v', 'error', '-y', '-i', SOURCE, '-vf', clip.filter, '-an', '-c:v', 'libx264', '-crf', '20', partial]);
  await rename(partial, file);
  return file;
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const dir = path.resolve(process.argv[2] ?? path.join(os.tmpdir(), 'vidsearch-constructed-clips'));
  const { ffmpeg } = resolveMediaTools({ ffmpegPath: process.env.VIDSEARCH_FFMPEG ?? null, ffprobePath: null });
  const random = seededRandom(7);
  const videos = [];
  const queries = [];
  for (const clip of CONSTRUCTED_CLIPS) {
    videos.push({ id: clip.id, path: await constructedClip(ffmpeg, dir, clip) });
    for (let i = 0; i < QUERIES_PER_CLIP; i++) {
      const frame = Math.round((EDGE_SEC + random() * (DURATION_SEC - 2 * EDGE_SEC)) * FPS);
      queries.push({ video: clip.id, time: Math.round((frame / FPS) * 1000) / 1000, transform: QUERY_TRANSFORMS[i % QUERY_TRANSFORMS.length], half: 'fit', corpus: 'constructed' });
    }
  }
  await writeFile(path.join(dir, 'constructed.json'), `${JSON.stringify({ task: 'image-search', toleranceSec: 1, videos, queries }, null, 1)}\n`);
  process.stdout.write(`${queries.length} queries in ${path.join(dir, 'constructed.json')}\n`);
}
