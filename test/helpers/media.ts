// Generates small test media with ffmpeg's lavfi sources into a temp dir: shots of distinct
// synthetic content joined by hard cuts, dissolves or fades through black, optional flashes and
// camera pans, a tone track, sidecar subtitles in a chosen encoding. Every generator returns the
// ground truth it built, so tests score against what was made rather than against numbers.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import iconv from 'iconv-lite';
import { loadConfig } from '../../src/config.js';
import { resolveMediaTools, type MediaTools } from '../../src/media/tools.js';

const run = promisify(execFile);

export const testTools: MediaTools = resolveMediaTools(loadConfig({}));

export type TransitionKind = 'dissolve' | 'black';

export interface GradualTransition {
  /** Centre of the transition (a dissolve's boundary; a fade through black has one per ramp). */
  at: number;
  durationSec: number;
  kind?: TransitionKind;
}

export interface TestVideoSpec {
  dir: string;
  name?: string;
  durationSec: number;
  /** Hard cut times. */
  cuts?: number[];
  /** Gradual transitions (dissolve, or fade out to black and in again). */
  fades?: GradualTransition[];
  /** Start times of short white flashes (2 frames) that are not shot changes. */
  flashes?: number[];
  /** Pan across a wide picture inside every shot (camera motion, no shot change). */
  pan?: boolean;
  size?: { width: number; height: number };
  fps?: number;
  audio?: 'tone' | 'none';
  /** SRT text written beside the video as <name>.srt. */
  srt?: string;
  encoding?: 'utf8' | 'utf8bom' | 'utf16le' | 'gbk';
  /** Display rotation tag (note: the bundled 2018 muxer stores 90 as 270 and vice versa). */
  rotation?: 0 | 90 | 180 | 270;
  extension?: 'mp4' | 'mkv';
}

export interface TestVideo {
  path: string;
  srtPath: string | null;
  /**
   * Every shot boundary in time order, as ../shared/EVAL.md counts them: cut times, dissolve
   * centres, and for a fade through black the midpoints of its out and in ramps (two boundaries).
   */
  boundaries: number[];
}

/** The boundaries of one transition centred at `at`: a fade through black counts each ramp's midpoint. */
function transitionBoundaries(kind: 'cut' | TransitionKind, at: number, durationSec: number): number[] {
  return kind === 'black' ? [at - durationSec / 4, at + durationSec / 4] : [at];
}

/** A fresh temp dir and its cleanup. */
export async function makeTempDir(prefix = 'vidsearch-test-'): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function runFfmpeg(args: readonly string[]): Promise<void> {
  await run(testTools.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 16 * 1024 * 1024 });
}

/** Distinct synthetic pictures, one per shot, cycling (colour, texture and layout all differ). */
function shotSource(index: number, w: number, h: number, fps: number, dur: number, pan: boolean): string {
  // A pan shows a window moving across a picture twice as wide.
  const sw = pan ? w * 2 : w;
  const d = `d=${dur.toFixed(3)}`;
  const sources = [
    `testsrc2=s=${sw}x${h}:r=${fps}:${d}`,
    `smptehdbars=s=${sw}x${h}:r=${fps}:${d}`,
    `mandelbrot=s=${sw}x${h}:r=${fps},trim=duration=${dur.toFixed(3)}`,
    `cellauto=s=${sw}x${h}:r=${fps}:rule=110,trim=duration=${dur.toFixed(3)},hue=H=1.5:s=4,colorbalance=rs=0.6:bs=-0.4`,
    `color=c=0x2a6e3f:s=${sw}x${h}:r=${fps}:${d},noise=alls=40:allf=t,drawbox=x=iw/4:y=ih/4:w=iw/3:h=ih/2:color=0xe0c030:t=fill`,
    `rgbtestsrc=s=${sw}x${h}:r=${fps}:${d},hue=h=90`,
    `life=s=${sw}x${h}:r=${fps}:mold=10:ratio=0.3:life_color=0xff6040:death_color=0x102060,trim=duration=${dur.toFixed(3)}`,
    `color=c=0x8040a0:s=${sw}x${h}:r=${fps}:${d},drawbox=x=0:y=ih/2:w=iw:h=ih/2:color=0x20c0d0:t=fill,noise=alls=25:allf=t`,
  ];
  const base = sources[index % sources.length]!;
  const panned = pan ? `,crop=${w}:${h}:x='(iw-ow)*t/${dur.toFixed(3)}':y=0` : '';
  return `${base},format=yuv420p${panned},setsar=1`;
}

interface Boundary {
  at: number;
  durationSec: number;
  kind: 'cut' | TransitionKind;
}

/** Builds the video described by `spec` and returns its path and truth. */
export async function makeTestVideo(spec: TestVideoSpec): Promise<TestVideo> {
  const { width, height } = spec.size ?? { width: 320, height: 180 };
  const fps = spec.fps ?? 25;
  const dur = spec.durationSec;
  const name = spec.name ?? 'clip';
  const boundaries: Boundary[] = [
    ...(spec.cuts ?? []).map((at) => ({ at, durationSec: 0, kind: 'cut' as const })),
    ...(spec.fades ?? []).map((f) => ({ at: f.at, durationSec: f.durationSec, kind: f.kind ?? ('dissolve' as const) })),
  ].sort((a, b) => a.at - b.at);

  // Each shot is its own full-length source; the picture switches from the running composite to
  // the next source with a linear mix whose weight ramps 0 → 1 (a step for a hard cut).
  const pan = spec.pan ?? false;
  const chains: string[] = [`${shotSource(0, width, height, fps, dur, pan)}[v0]`];
  let last = 'v0';
  const mix = (from: string, to: string, out: string, start: number, length: number): void => {
    const weight = length > 0 ? `min(1,max(0,(T-${start.toFixed(3)})/${length.toFixed(3)}))` : `gte(T,${start.toFixed(3)})`;
    chains.push(`[${from}][${to}]blend=all_expr='A*(1-${weight})+B*${weight}'[${out}]`);
  };
  boundaries.forEach((b, i) => {
    const src = `s${i + 1}`;
    chains.push(`${shotSource(i + 1, width, height, fps, dur, pan)}[${src}]`);
    if (b.kind === 'cut') {
      mix(last, src, `o${i + 1}`, b.at, 0);
    } else if (b.kind === 'dissolve') {
      mix(last, src, `o${i + 1}`, b.at - b.durationSec / 2, b.durationSec);
    } else {
      // Fade out to black over the first half, then in from black over the second.
      chains.push(`color=c=black:s=${width}x${height}:r=${fps}:d=${dur.toFixed(3)},format=yuv420p,setsar=1[k${i + 1}]`);
      mix(last, `k${i + 1}`, `b${i + 1}`, b.at - b.durationSec / 2, b.durationSec / 2);
      mix(`b${i + 1}`, src, `o${i + 1}`, b.at, b.durationSec / 2);
    }
    last = `o${i + 1}`;
  });
  const flashes = (spec.flashes ?? [])
    .map((t) => `drawbox=x=0:y=0:w=iw:h=ih:color=white@0.85:t=fill:enable='between(t,${t.toFixed(3)},${(t + 1.5 / fps).toFixed(3)})'`)
    .join(',');
  chains.push(`[${last}]format=yuv420p${flashes ? `,${flashes}` : ''}[vout]`);

  const file = path.join(spec.dir, `${name}.${spec.extension ?? 'mp4'}`);
  const args = ['-filter_complex', chains.join(';')];
  if ((spec.audio ?? 'none') === 'tone') args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${dur}`);
  args.push('-map', '[vout]');
  if (spec.audio === 'tone') args.push('-map', '0:a', '-c:a', 'aac', '-b:a', '64k');
  args.push('-t', String(dur), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(fps), '-pix_fmt', 'yuv420p');
  if (spec.rotation) {
    // ffmpeg drops the rotate tag when it encodes, so set it on a stream copy.
    const unrotated = path.join(spec.dir, `${name}.unrotated.${spec.extension ?? 'mp4'}`);
    await runFfmpeg([...args, unrotated]);
    await runFfmpeg(['-i', unrotated, '-map', '0', '-c', 'copy', '-metadata:s:v:0', `rotate=${spec.rotation}`, file]);
    await rm(unrotated);
  } else {
    await runFfmpeg([...args, file]);
  }

  let srtPath: string | null = null;
  if (spec.srt !== undefined) {
    srtPath = path.join(spec.dir, `${name}.srt`);
    await writeFile(srtPath, encodeText(spec.srt, spec.encoding ?? 'utf8'));
  }
  return { path: file, srtPath, boundaries: boundaries.flatMap((b) => transitionBoundaries(b.kind, b.at, b.durationSec)) };
}

/** Text in the requested encoding, as subtitle files found in the wild are. */
export function encodeText(text: string, encoding: 'utf8' | 'utf8bom' | 'utf16le' | 'gbk'): Buffer {
  switch (encoding) {
    case 'utf8':
      return Buffer.from(text, 'utf8');
    case 'utf8bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    case 'utf16le':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, 'utf16le')]);
    case 'gbk':
      return iconv.encode(text, 'gbk');
  }
}

/** An audio-only file (for "no video stream" cases). */
export async function makeAudioOnly(dir: string, name = 'audio'): Promise<string> {
  const file = path.join(dir, `${name}.m4a`);
  await runFfmpeg(['-f', 'lavfi', '-i', 'sine=frequency=300:duration=1', '-c:a', 'aac', file]);
  return file;
}

/** A 5.1 audio + video file (for downmix tests): a tone only in the centre channel. */
export async function makeSurroundVideo(dir: string, durationSec = 2): Promise<string> {
  const file = path.join(dir, 'surround.mkv');
  await runFfmpeg([
    '-f', 'lavfi', '-i', `testsrc2=s=160x90:r=25:d=${durationSec}`,
    '-f', 'lavfi', '-i', `sine=frequency=1000:sample_rate=48000:duration=${durationSec}`,
    '-filter_complex', '[1:a]pan=5.1|FL=0*c0|FR=0*c0|FC=c0|LFE=0*c0|BL=0*c0|BR=0*c0[a]',
    '-map', '0:v', '-map', '[a]', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'pcm_s16le', file,
  ]);
  return file;
}

export interface CompositePiece {
  /** A source video; the range [from, to) should lie inside one of its shots. */
  file: string;
  from: number;
  to: number;
}

export interface CompositeTransition {
  kind: 'cut' | TransitionKind;
  /** 0 for a cut. */
  durationSec: number;
}

/**
 * Joins pieces of real footage with known transitions (transitions[i] joins pieces i and i+1):
 * real motion and content, truth by construction. A dissolve or fade of length d uses the last
 * d seconds of one piece and the first d of the next; its boundary is its middle.
 */
export async function makeCompositeVideo(spec: {
  dir: string;
  name: string;
  pieces: CompositePiece[];
  transitions: CompositeTransition[];
  flashes?: number[];
  size?: { width: number; height: number };
  fps?: number;
}): Promise<TestVideo> {
  const { width, height } = spec.size ?? { width: 320, height: 180 };
  const fps = spec.fps ?? 25;
  if (spec.transitions.length !== spec.pieces.length - 1) throw new Error('one transition between each pair of pieces');
  const chains: string[] = [];
  const parts: string[] = [];
  const boundaries: number[] = [];
  // Each piece is normalised once and split: its body, and its ends that feed transitions.
  spec.pieces.forEach((_, i) => {
    chains.push(`[${i}:v]fps=${fps},scale=${width}:${height},setsar=1,format=yuv420p,split=3[p${i}body][p${i}head][p${i}tail]`);
  });
  const cut = (label: string, out: string, from: number, to: number): void => {
    chains.push(`[${label}]trim=start=${from.toFixed(3)}:end=${to.toFixed(3)},setpts=PTS-STARTPTS[${out}]`);
  };
  let outputTime = 0;
  spec.pieces.forEach((piece, i) => {
    const head = i > 0 ? spec.transitions[i - 1]!.durationSec : 0;
    const tail = i < spec.transitions.length ? spec.transitions[i]!.durationSec : 0;
    cut(`p${i}body`, `body${i}`, piece.from + head, piece.to - tail);
    parts.push(`[body${i}]`);
    outputTime += piece.to - tail - (piece.from + head);
    // Unused split outputs must still be consumed.
    if (i === 0 || head === 0) chains.push(`[p${i}head]nullsink`);
    if (i === spec.pieces.length - 1) {
      chains.push(`[p${i}tail]nullsink`);
      return;
    }
    const t = spec.transitions[i]!;
    if (t.kind === 'cut' || t.durationSec === 0) {
      chains.push(`[p${i}tail]nullsink`);
      boundaries.push(outputTime);
      return;
    }
    const next = spec.pieces[i + 1]!;
    const d = t.durationSec.toFixed(3);
    cut(`p${i}tail`, `ta${i}`, piece.to - t.durationSec, piece.to);
    cut(`p${i + 1}head`, `tb${i}`, next.from, next.from + t.durationSec);
    const wa = t.kind === 'dissolve' ? `(1-min(1,T/${d}))` : `max(0,1-2*T/${d})`;
    const wb = t.kind === 'dissolve' ? `min(1,T/${d})` : `max(0,2*T/${d}-1)`;
    // Chroma mixes around its neutral 128, so a fade through black stays black, not green.
    chains.push(`[ta${i}][tb${i}]blend=c0_expr='A*${wa}+B*${wb}':c1_expr='128+(A-128)*${wa}+(B-128)*${wb}':c2_expr='128+(A-128)*${wa}+(B-128)*${wb}'[mix${i}]`);
    parts.push(`[mix${i}]`);
    boundaries.push(...transitionBoundaries(t.kind, outputTime + t.durationSec / 2, t.durationSec));
    outputTime += t.durationSec;
  });
  const flashes = (spec.flashes ?? [])
    .map((t) => `drawbox=x=0:y=0:w=iw:h=ih:color=white@0.85:t=fill:enable='between(t,${t.toFixed(3)},${(t + 1.5 / fps).toFixed(3)})'`)
    .join(',');
  chains.push(`${parts.join('')}concat=n=${parts.length}:v=1:a=0${flashes ? `,${flashes}` : ''}[vout]`);
  const file = path.join(spec.dir, `${spec.name}.mp4`);
  const inputs = spec.pieces.flatMap((p) => ['-i', p.file]);
  await runFfmpeg([...inputs, '-filter_complex', chains.join(';'), '-map', '[vout]', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(fps * 2), '-pix_fmt', 'yuv420p', file]);
  return { path: file, srtPath: null, boundaries };
}
