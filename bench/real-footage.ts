// A few minutes of real 720p footage with sound for the indexing bench, built from the media in
// ../shared/data: talking heads, the GRID speakers, the grid montage, Blender open movies (one with
// burned-in Chinese subtitles), a clip of fades/dissolves/titles. Every clip is scaled into a
// 1280x720 frame (letterboxed), re-encoded at 25 fps with AAC stereo (silence where the clip has
// none) and the clips are joined, repeated until the wanted length. Cached in os.tmpdir(): the
// file name carries the length and the clip list, so a changed recipe builds a new file.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Folders of ../shared/data whose videos go into the footage, in this order. */
const SOURCE_FOLDERS = [
  'talking_head/sadtalker',
  'derived/burned_subs',
  'video_blender',
  'talking_head/video_retalking',
  'derived/transitions',
  'derived/grid_montage.mp4',
  'video_people/grid_lipnet',
];
const VIDEO_EXT = /\.(mp4|mpg|mkv|webm|mov)$/i;

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function sourceClips(dataDir: string): Promise<string[]> {
  const clips: string[] = [];
  for (const entry of SOURCE_FOLDERS) {
    const full = path.join(dataDir, entry);
    if (VIDEO_EXT.test(entry)) {
      if (await exists(full)) clips.push(full);
      continue;
    }
    const names = await readdir(full).catch(() => [] as string[]);
    clips.push(...names.filter((n) => VIDEO_EXT.test(n)).sort().map((n) => path.join(full, n)));
  }
  return clips;
}

export async function runFfmpeg(ffmpeg: string, args: string[]): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(ffmpeg, ['-hide_banner', '-nostdin', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stderr) : reject(new Error(`ffmpeg ${args.join(' ').slice(0, 200)}: ${stderr.slice(-400)}`))));
  });
}

async function hasAudio(ffmpeg: string, clip: string): Promise<boolean> {
  // `ffmpeg -i` lists the streams on stderr and exits 1 (no output named): read the listing.
  const listing = await runFfmpeg(ffmpeg, ['-i', clip]).catch((err: unknown) => String(err));
  return /Stream #\d+:\d+.*: Audio:/.test(listing);
}

/** One clip as a 1280x720 25 fps H.264 + AAC file with the same encoding settings as the rest. */
async function normalise(ffmpeg: string, clip: string, out: string): Promise<void> {
  const audio = (await hasAudio(ffmpeg, clip)) ? ['-map', '0:a:0'] : ['-f', 'lavfi', '-i', 'anullsrc=r=44100:cl=stereo', '-map', '1:a', '-shortest'];
  const [audioInput, audioMap] = audio[0] === '-f' ? [audio.slice(0, 4), audio.slice(4)] : [[], audio];
  await runFfmpeg(ffmpeg, [
    '-i', clip, ...audioInput, '-map', '0:v:0', ...audioMap,
    '-vf', 'scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25,format=yuv420p',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '21', '-g', '250', '-c:a', 'aac', '-ar', '44100', '-ac', '2', '-b:a', '128k', out,
  ]);
}

export interface RealFootage {
  file: string;
  clips: string[];
}

/** Builds (or reuses) about `durationSec` of real 720p footage; null when ../shared/data has no videos. */
export async function realFootage(ffmpeg: string, dataDir: string, durationSec: number): Promise<RealFootage | null> {
  const clips = await sourceClips(dataDir);
  if (clips.length === 0) return null;
  const key = createHash('sha1').update(JSON.stringify({ clips: clips.map((c) => path.relative(dataDir, c)), durationSec, v: 1 })).digest('hex').slice(0, 10);
  const cache = path.join(os.tmpdir(), 'vidsearch-bench-real');
  const file = path.join(cache, `real720p-${durationSec}s-${key}.mp4`);
  if (await exists(file)) return { file, clips };
  await mkdir(cache, { recursive: true });
  const parts: string[] = [];
  for (const [i, clip] of clips.entries()) {
    const part = path.join(cache, `part-${key}-${i}.mp4`);
    if (!(await exists(part))) await normalise(ffmpeg, clip, part);
    parts.push(part);
  }
  // The concat demuxer joins identically encoded parts without re-encoding; the list repeats
  // them until the length is reached, then -t cuts it there.
  const list = path.join(cache, `list-${key}.txt`);
  const repeats = Math.max(1, Math.ceil(durationSec / 150));
  await writeFile(list, Array.from({ length: repeats }, () => parts.map((p) => `file '${p}'`).join('\n')).join('\n'));
  const partial = `${file}.partial.mp4`;
  await runFfmpeg(ffmpeg, ['-f', 'concat', '-safe', '0', '-i', list, '-t', String(durationSec), '-c', 'copy', '-movflags', '+faststart', partial]);
  await rename(partial, file);
  return { file, clips };
}
