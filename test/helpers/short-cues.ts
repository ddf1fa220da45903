// Generates the short-cue subtitle dev set (issue 19): one-to-four-character cues, Chinese and
// English, burned in as white text with a thin dark outline over brightened, sharpened (busy)
// ../shared clips, half of them held on one frame (a static shot), with exact cue times by construction (drawtext enabled between the cue's start and end).
// Everything is decided by a seeded generator, so the set is the same on every machine that has
// the same fonts; videos alternate between two halves: "fit" (looked at while tuning) and
// "heldout" (only reported). Media is cached under os.tmpdir(), never in the repo.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runFfmpeg } from './media.js';
import { sharedDataDir } from './shared-data.js';

/** Bump when what is generated changes, so stale caches are not reused. */
const SET_VERSION = 3;

export type ShortCueHalf = 'fit' | 'heldout';

export interface ShortCue {
  start: number;
  end: number;
  text: string;
}

export interface ShortCueVideo {
  path: string;
  half: ShortCueHalf;
  cues: ShortCue[];
  /** How it was made (source clip, size, font, outline), for reading failures. */
  recipe: string;
}

export interface ShortCueSet {
  dir: string;
  videos: ShortCueVideo[];
  /** A subtitles-task manifest (EVAL.md) per half, for `vidsearch eval`. */
  manifests: Record<ShortCueHalf, string>;
}

const ENGLISH = ['Yes?', 'No.', 'OK', 'Hi!', 'Go!', 'Why?', 'Run!', 'Wow', 'Oh.', 'Me?', 'Hey!', 'Stop', 'Now!', 'Help', 'Sure', 'Fine', 'Wait', 'Yes', 'Bye.', 'Huh?', 'Sir?', 'Look', 'Hm.', 'Ah!', 'No!', 'Ok.', 'Mom?', 'Dad!', 'Sit.', 'Up!'];
const CHINESE = ['嗯', '好', '是吗？', '走吧', '谢谢', '快跑！', '什么？', '对', '不要', '等等', '好的', '再见', '真的？', '来了', '没事', '为什么', '小心！', '是我', '你好', '停', '谁？', '救命', '快走', '别动！', '好吧', '怎么了', '我来', '当然', '哦', '行'];

/** Clips under ../shared/data used as backgrounds (CC-BY Blender films, GRID montage, talking heads). */
const SOURCES = [
  'video_blender/clip_01_tears_of_steel.mp4',
  'video_blender/clip_03_sintel.mp4',
  'derived/grid_montage.mp4',
  'talking_head/video_retalking/face_1.mp4',
  'talking_head/video_retalking/face_3.mp4',
];

const LATIN_FONTS = ['/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'];
/** CJK-capable fonts; the set needs at least one (Debian: fonts-wqy-microhei / fonts-wqy-zenhei). */
const CJK_FONTS = ['/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc'];

const VIDEOS = 12;
const DURATION_SEC = 12;

/** Why the set cannot be built here (a missing font or source clip), or null. */
export function shortCueSetUnavailable(): string | null {
  if (!CJK_FONTS.some(existsSync)) return `no CJK font at ${CJK_FONTS.join(' or ')} (install fonts-wqy-microhei)`;
  if (!LATIN_FONTS.some(existsSync)) return `no DejaVu font at ${LATIN_FONTS.join(' or ')}`;
  const missing = SOURCES.find((s) => !existsSync(path.join(sharedDataDir, s)));
  return missing ? `../shared/data/${missing} is absent` : null;
}

/** mulberry32: a small seeded generator, so the set is reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round = (v: number): number => Math.round(v * 1000) / 1000;

interface Style {
  width: number;
  height: number;
  /** Glyph height as a share of the frame height. */
  fontShare: number;
  outline: number;
  /** Distance of the text baseline area from the bottom, as a share of the height. */
  marginShare: number;
  brightness: number;
}

function styleFor(random: () => number): Style {
  const wide = random() < 0.4;
  return {
    width: wide ? 1280 : 640,
    height: wide ? 720 : 360,
    fontShare: 0.04 + random() * 0.025,
    outline: wide ? 1 + Math.floor(random() * 3) : 1 + Math.floor(random() * 2),
    marginShare: 0.05 + random() * 0.07,
    brightness: 0.2 + random() * 0.2,
  };
}

function cuesFor(random: () => number, pick: () => string): ShortCue[] {
  const cues: ShortCue[] = [];
  let t = 0.3 + random() * 0.7;
  for (;;) {
    const length = 0.6 + random() * 1.2;
    if (t + length > DURATION_SEC - 0.3) return cues;
    cues.push({ start: round(t), end: round(t + length), text: pick() });
    // A third of the cues are followed at once by the next one (one short line replaced by another).
    t += length + (random() < 0.33 ? 0 : 0.2 + random() * 1.0);
  }
}

/** ffmpeg filter escaping for a value inside a filter argument. */
const escapeFilterValue = (value: string): string => value.replace(/\\/g, '\\\\').replace(/:/g, '\\:').replace(/'/g, "\\'");

async function buildVideo(index: number, dir: string): Promise<ShortCueVideo> {
  const random = seeded(1900 + index);
  const half: ShortCueHalf = index % 2 === 0 ? 'fit' : 'heldout';
  const chinese = index % 4 < 2;
  const pool = chinese ? CHINESE : ENGLISH;
  const fonts = (chinese ? CJK_FONTS : [...LATIN_FONTS, ...CJK_FONTS]).filter(existsSync);
  const font = fonts[Math.floor(random() * fonts.length)]!;
  const style = styleFor(random);
  const source = SOURCES[index % SOURCES.length]!;
  // Half the videos hold one frame (a static shot: no background motion that would send the band
  // to OCR anyway), half play the clip; each half of the set gets both kinds.
  const still = Math.floor(index / 2) % 2 === 0;
  const cues = cuesFor(random, () => pool[Math.floor(random() * pool.length)]!);
  const fontSize = Math.round(style.height * style.fontShare);
  const draws = await Promise.all(
    cues.map(async (cue, i) => {
      const textFile = path.join(dir, `v${index}_cue${i}.txt`);
      await writeFile(textFile, cue.text);
      return (
        `drawtext=fontfile=${escapeFilterValue(font)}:textfile=${escapeFilterValue(textFile)}:fontsize=${fontSize}:fontcolor=white` +
        `:borderw=${style.outline}:bordercolor=0x202020:x=(w-text_w)/2:y=h-text_h-${Math.round(style.height * style.marginShare)}` +
        `:enable='between(t,${cue.start},${cue.end})'`
      );
    }),
  );
  // Light and busy: brightness up, contrast down, then sharpened so the background keeps its texture.
  const background =
    `scale=${style.width}:${style.height}:force_original_aspect_ratio=increase,crop=${style.width}:${style.height},` +
    `eq=brightness=${style.brightness.toFixed(2)}:contrast=0.75:saturation=0.7,unsharp=5:5:1.2,fps=25` +
    (still ? ',trim=start_frame=12,loop=loop=-1:size=1:start=0,setpts=N/25/TB' : '');
  const file = path.join(dir, `short_cues_${String(index).padStart(2, '0')}.mp4`);
  const recipe = `${path.basename(source)}${still ? ' (still)' : ''} ${style.width}x${style.height} ${path.basename(font)} ${fontSize}px outline ${style.outline} brightness ${style.brightness.toFixed(2)}`;
  // A video finished by an interrupted earlier build is reused (written under a partial name first).
  if (existsSync(file)) return { path: file, half, cues, recipe };
  const partial = `${file}.partial.mp4`;
  await runFfmpeg([
    '-stream_loop', '-1', '-i', path.join(sharedDataDir, source), '-t', String(DURATION_SEC), '-an',
    '-vf', [background, ...draws].join(','), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', partial,
  ]);
  await rename(partial, file);
  return { path: file, half, cues, recipe };
}

/** Builds (or reuses from the temp cache) the short-cue set. Call shortCueSetUnavailable() first. */
export async function buildShortCueSet(): Promise<ShortCueSet> {
  const dir = path.join(os.tmpdir(), `vidsearch-short-cues-v${SET_VERSION}`);
  const index = path.join(dir, 'set.json');
  const manifests = { fit: path.join(dir, 'fit.json'), heldout: path.join(dir, 'heldout.json') };
  if (existsSync(index)) return { dir, manifests, videos: JSON.parse(await readFile(index, 'utf8')) as ShortCueVideo[] };
  await mkdir(dir, { recursive: true });
  const videos: ShortCueVideo[] = [];
  for (let i = 0; i < VIDEOS; i++) videos.push(await buildVideo(i, dir));
  for (const half of ['fit', 'heldout'] as const) {
    const entries = videos.filter((v) => v.half === half).map((v) => ({ path: v.path, cues: v.cues }));
    await writeFile(manifests[half], JSON.stringify({ task: 'subtitles', videos: entries }, null, 1));
  }
  // Written last: its presence means the whole set is there.
  await writeFile(index, JSON.stringify(videos, null, 1));
  return { dir, manifests, videos };
}
