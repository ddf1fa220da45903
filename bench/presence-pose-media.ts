// Builds the media of test/fixtures/presence-pose.json (the harder only-watch dev set: small,
// blurred, three-quarter faces, several people per shot) from ../shared/data with ffmpeg, into a
// cache folder under the OS temp dir, and writes two runnable presence manifests there: one per
// half ('fit' and 'report'), and a copy of each with a per-video "cast" (the people labelled in
// that video, as a drama's cast list would name them; strangers are not in it). Nothing generated
// enters the repo.
//   node dist/bench/presence-pose-media.js [--out DIR]   → prints the two manifest paths
//   VIDSEARCH_MEDIA_ROOTS=../shared/data VIDSEARCH_STAGES=faces node dist/src/cli.js eval <manifest> --face-only
// (the manifests name the enrolment pictures in ../shared/data, which must be a media root).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { resolveMediaTools } from '../src/media/tools.js';

export interface PoseItem {
  src: string;
  /** Manifest actor id, or null for a never-enrolled stranger. */
  actor: string | null;
  x: number;
  y: number;
  scale: number;
  blur?: number;
  hflip?: boolean;
  /** Horizontal drift, pixels per second. */
  vx?: number;
  /** Start time inside a video source. */
  ss?: number;
  /** Horizontal box blur (pixels): motion blur of a panning camera. */
  mblur?: number;
}

export interface PoseShot {
  dur: number;
  bg: string;
  items: PoseItem[];
}

export interface PoseVideo {
  name: string;
  half: 'fit' | 'report';
  /** x264 CRF (default 20); higher is blockier, like a phone upload. */
  crf?: number;
  shots: PoseShot[];
}

export interface PoseFixture {
  binSec: number;
  evidence: 'face' | 'any';
  canvas: [number, number];
  fps: number;
  actors: { id: string; faces: string[]; facesFromFrames?: { video: string; time: number }[] }[];
  videos: PoseVideo[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repo root from both bench/ (ts) and dist/bench/ (js). */
const repoRoot = path.basename(path.resolve(here, '..')) === 'dist' ? path.resolve(here, '../..') : path.resolve(here, '..');
export const POSE_FIXTURE = path.join(repoRoot, 'test/fixtures/presence-pose.json');

const isVideo = (src: string): boolean => /\.(mp4|mpg|avi|mov|mkv)$/i.test(src);

function run(ffmpeg: string, args: string[]): void {
  const result = spawnSync(ffmpeg, ['-v', 'error', '-y', ...args]);
  if (result.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${result.stderr.toString()}`);
}

/**
 * Makes `out` through `make(scratch)` on a scratch name of this process, then renames it into
 * place: the cache trusts any file that exists, so a build killed half-way, or two processes
 * (a bench and a test) building the same set at once, must never leave a half-written file there.
 */
function writeOnce(out: string, make: (scratch: string) => void): string {
  if (existsSync(out)) return out;
  const scratch = `${out}.${process.pid}.tmp${path.extname(out)}`;
  try {
    make(scratch);
    renameSync(scratch, out);
  } finally {
    rmSync(scratch, { force: true });
  }
  return out;
}

/** One shot: a coloured canvas with every item scaled, filtered and overlaid. */
function renderShot(ffmpeg: string, shared: string, fixture: PoseFixture, shot: PoseShot, crf: number, out: string): void {
  const [width, height] = fixture.canvas;
  const inputs = ['-f', 'lavfi', '-i', `color=c=${shot.bg}:s=${width}x${height}:r=${fixture.fps}:d=${shot.dur}`];
  const filters: string[] = [];
  let base = '[0:v]';
  shot.items.forEach((item, k) => {
    const file = path.join(shared, item.src);
    if (isVideo(item.src)) inputs.push('-ss', String(item.ss ?? 0), '-t', String(shot.dur), '-i', file);
    else inputs.push('-loop', '1', '-framerate', String(fixture.fps), '-t', String(shot.dur), '-i', file);
    const chain = [`scale=trunc(iw*${item.scale}/2)*2:-2`, ...(item.hflip ? ['hflip'] : []), ...(item.blur ? [`gblur=sigma=${item.blur}`] : []), ...(item.mblur ? [`avgblur=sizeX=${item.mblur}:sizeY=1`] : [])];
    filters.push(`[${k + 1}:v]${chain.join(',')}[s${k}]`);
    const next = `[o${k}]`;
    filters.push(`${base}[s${k}]overlay=x='${item.x}+${item.vx ?? 0}*t':y=${item.y}:eof_action=repeat${next}`);
    base = next;
  });
  run(ffmpeg, [...inputs, '-filter_complex', filters.join(';'), '-map', base, '-t', String(shot.dur), '-r', String(fixture.fps), '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(crf), '-pix_fmt', 'yuv420p', out]);
}

export interface BuiltPoseSet {
  dir: string;
  manifests: Record<'fit' | 'report', string>;
  /** The same manifests with each video's cast list (closed-set identification). */
  castManifests: Record<'fit' | 'report', string>;
}

/** Renders (or reuses, keyed by the fixture's hash) every video and writes the two manifests. */
export function buildPresencePose(shared: string, ffmpeg: string, outRoot = os.tmpdir(), fixtureFile = POSE_FIXTURE): BuiltPoseSet {
  const text = readFileSync(fixtureFile, 'utf8');
  const fixture = JSON.parse(text) as PoseFixture;
  const dir = path.join(outRoot, `vidsearch-presence-pose-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`);
  mkdirSync(dir, { recursive: true });
  const actors = fixture.actors.map((actor) => {
    const frames = (actor.facesFromFrames ?? []).map((frame, k) =>
      writeOnce(path.join(dir, `${actor.id}-enrol-${k}.png`), (scratch) => run(ffmpeg, ['-ss', String(frame.time), '-i', path.join(shared, frame.video), '-frames:v', '1', scratch])),
    );
    return { id: actor.id, faces: [...actor.faces.map((f) => path.join(shared, f)), ...frames] };
  });
  const manifests = {} as Record<'fit' | 'report', string>;
  const castManifests = {} as Record<'fit' | 'report', string>;
  for (const half of ['fit', 'report'] as const) {
    const videos = fixture.videos.filter((v) => v.half === half).map((video) => ({ path: renderVideo(ffmpeg, shared, fixture, video, dir), truth: truthOf(video), cast: castOf(video) }));
    const head = { task: 'presence', binSec: fixture.binSec, evidence: fixture.evidence, actors };
    manifests[half] = path.join(dir, `presence-pose-${half}.json`);
    writeFileSync(manifests[half], JSON.stringify({ ...head, videos: videos.map(({ cast: _cast, ...video }) => video) }, null, 1));
    castManifests[half] = path.join(dir, `presence-pose-${half}-cast.json`);
    writeFileSync(castManifests[half], JSON.stringify({ ...head, videos }, null, 1));
  }
  return { dir, manifests, castManifests };
}

function renderVideo(ffmpeg: string, shared: string, fixture: PoseFixture, video: PoseVideo, dir: string): string {
  return writeOnce(path.join(dir, `${video.name}.mp4`), (scratch) => {
    // The shots and their list are this process's own too, and go once the video is joined.
    const parts = video.shots.map((shot, k) => {
      const part = `${scratch}-shot${k}.mp4`;
      renderShot(ffmpeg, shared, fixture, shot, video.crf ?? 20, part);
      return part;
    });
    const list = `${scratch}.txt`;
    const joined = `${scratch}-joined.mp4`;
    writeFileSync(list, parts.map((p) => `file '${p}'`).join('\n'));
    try {
      run(ffmpeg, ['-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', joined]);
      run(ffmpeg, ['-i', joined, '-c', 'copy', scratch]);
    } finally {
      for (const file of [...parts, list, joined]) rmSync(file, { force: true });
    }
  });
}

/** Every labelled item is on screen for its whole shot. */
export function truthOf(video: PoseVideo): { actor: string; start: number; end: number }[] {
  const truth: { actor: string; start: number; end: number }[] = [];
  let start = 0;
  for (const shot of video.shots) {
    for (const item of shot.items) if (item.actor) truth.push({ actor: item.actor, start, end: start + shot.dur });
    start += shot.dur;
  }
  return truth;
}

/** A video's cast list: every labelled person in it, in order of first appearance. */
export function castOf(video: PoseVideo): string[] {
  return [...new Set(video.shots.flatMap((shot) => shot.items.flatMap((item) => (item.actor ? [item.actor] : []))))];
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const shared = path.resolve(repoRoot, '../shared/data');
  const built = buildPresencePose(shared, resolveMediaTools(loadConfig({})).ffmpeg, values.out ?? os.tmpdir());
  console.log(JSON.stringify(built));
}
