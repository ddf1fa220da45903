// The generated transitions dev set for shot detection (issue 19): pieces of CC-BY footage from
// ../shared/data (Blender open movies, CC-BY 3.0; GRID corpus, CC-BY 4.0) joined by fades through
// black/white holds, cuts into and out of holds and title cards, dissolves, wipes and a final fade
// to black, with white flashes, decaying flashes, pans and zooms inside shots as negatives. Every
// boundary is known by construction, following ../shared/EVAL.md: a ramp counts at its midpoint
// (fade out and fade in separately, the hold is a shot of its own), a cut into or out of a flat
// frame or a card counts, a dissolve or wipe counts at its midpoint, flashes and camera moves not.
// The set is drawn from a seeded generator and split into two halves: "fit" (thresholds were
// chosen looking at it) and "heldout" (only scored). Rendered media are cached in os.tmpdir().
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { seededRandom } from '../../src/seeded-random.js';
import { runFfmpeg } from './media.js';
import { sharedData } from './shared-data.js';

const FPS = 25;
// Small pictures: the detector looks at 96 px wide frames anyway, and the set renders faster.
const WIDTH = 192;
const HEIGHT = 108;
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

/** A stretch of a source file that lies inside one shot (Blender ranges judged by eye). */
interface Piece {
  file: string;
  from: number;
  to: number;
}

const PIECE_RANGES: [string, number, number][] = [
  ['video_blender/clip_01_tears_of_steel.mp4', 0.95, 2.6],
  ['video_blender/clip_01_tears_of_steel.mp4', 2.8, 7.6],
  ['video_blender/clip_01_tears_of_steel.mp4', 7.75, 8.65],
  ['video_blender/clip_03_sintel.mp4', 0, 2.3],
  ['video_blender/clip_03_sintel.mp4', 8.75, 10],
  ...['bbaf2n', 'brbk7n', 'lbax4n', 'lbbc2a', 'lrwp9a', 'lwbsza', 'pwij3p', 'sbia1a', 'sbwe5n', 'swiz3n'].map(
    (id): [string, number, number] => [`video_people/grid_lipnet/${id}.mpg`, 0, 2.95],
  ),
];

/** The source pieces, or null when ../shared/data is absent. */
export function transitionPieces(): Piece[] | null {
  const pieces: Piece[] = [];
  for (const [rel, from, to] of PIECE_RANGES) {
    const file = sharedData(rel);
    if (!file) return null;
    pieces.push({ file, from, to });
  }
  return pieces;
}

type Colour = 'black' | 'white' | '0x101830';

interface Ramps {
  /** Fade in from `fadeInColour` (default black) over this many seconds at the element's start. */
  fadeIn?: number;
  fadeInColour?: Colour;
  /** Fade out to `fadeOutColour` (default black) over this many seconds at the element's end. */
  fadeOut?: number;
  fadeOutColour?: Colour;
}

export type Element =
  | ({ kind: 'clip'; piece: number; dur: number; motion?: 'pan' | 'zoom'; flashes?: { at: number; decay: boolean }[] } & Ramps)
  | { kind: 'flat'; colour: Colour; dur: number }
  | ({ kind: 'card'; colour: Colour | '0x603010'; textColour: string; text: string; dur: number } & Ramps);

export type Join = { kind: 'cut' } | { kind: 'dissolve' | 'wipe'; dur: number };

export interface TransitionVideoSpec {
  name: string;
  half: 'fit' | 'heldout';
  elements: Element[];
  /** joins[i] joins elements i and i+1. */
  joins: Join[];
}

const frames = (sec: number): number => Math.round(sec * FPS);

/** Boundary times by construction (see the file comment for the convention). */
export function truthOf(spec: TransitionVideoSpec): number[] {
  const out: number[] = [];
  const edgeColour = (e: Element, side: 'start' | 'end'): string | null => {
    if (e.kind === 'flat') return e.colour;
    if (side === 'start') return e.fadeIn ? (e.fadeInColour ?? 'black') : null;
    return e.fadeOut ? (e.fadeOutColour ?? 'black') : null;
  };
  let t = 0;
  spec.elements.forEach((e, i) => {
    const start = t;
    const dur = frames(e.dur) / FPS;
    if (e.kind !== 'flat' && e.fadeIn) out.push(start + e.fadeIn / 2);
    if (e.kind !== 'flat' && e.fadeOut) out.push(start + dur - e.fadeOut / 2);
    t += dur;
    const join = spec.joins[i];
    if (!join) return;
    if (join.kind === 'cut') {
      const a = edgeColour(e, 'end');
      // A cut between two frames of the same flat colour is invisible.
      if (a === null || a !== edgeColour(spec.elements[i + 1]!, 'start')) out.push(t);
    } else {
      t -= frames(join.dur) / FPS;
      out.push(t + frames(join.dur) / FPS / 2);
    }
  });
  return out.sort((a, b) => a - b).map((x) => Math.round(x * 1000) / 1000);
}

function elementChain(e: Element, input: number | null, index: number): string {
  const n = frames(e.dur);
  const base = `fps=${FPS},format=yuv420p,setsar=1`;
  let chain: string;
  if (e.kind === 'flat') {
    chain = `color=c=${e.colour}:s=${WIDTH}x${HEIGHT}:r=${FPS},${base}`;
  } else if (e.kind === 'card') {
    const text = existsSync(FONT)
      ? `drawtext=fontfile=${FONT}:text='${e.text}':fontcolor=${e.textColour}:fontsize=${Math.round(HEIGHT / 7)}:x=(w-tw)/2:y=(h-th)/2`
      : `drawbox=x=iw/4:y=ih*0.45:w=iw/2:h=ih/10:color=${e.textColour}:t=fill`;
    chain = `color=c=${e.colour}:s=${WIDTH}x${HEIGHT}:r=${FPS},${text},${base}`;
  } else {
    const motion =
      e.motion === 'pan'
        ? `scale=${WIDTH * 2}:${HEIGHT * 2}:force_original_aspect_ratio=increase,crop=${WIDTH}:${HEIGHT}:x='(iw-ow)*t/${e.dur}':y='(ih-oh)/2'`
        : e.motion === 'zoom'
          ? `scale=${WIDTH}:${HEIGHT}:force_original_aspect_ratio=increase,crop=${WIDTH}:${HEIGHT},zoompan=z='1+0.5*on/${n}':d=1:x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':s=${WIDTH}x${HEIGHT}:fps=${FPS}`
          : `scale=${WIDTH}:${HEIGHT}:force_original_aspect_ratio=increase,crop=${WIDTH}:${HEIGHT}`;
    const flashes = (e.flashes ?? []).flatMap((f) => {
      // A flash is 1–2 frames of near-white; a decaying one (a muzzle flash, a photographer's
      // strobe) fades off over a quarter second.
      const levels = f.decay ? [0.9, 0.7, 0.5, 0.35, 0.2, 0.1] : [0.85, 0.85];
      return levels.map((alpha, k) => {
        const from = (frames(f.at) + k) / FPS;
        return `drawbox=x=0:y=0:w=iw:h=ih:color=white@${alpha}:t=fill:enable='between(t,${from.toFixed(3)},${(from + 0.5 / FPS).toFixed(3)})'`;
      });
    });
    chain = [`[${input}:v]fps=${FPS}`, motion, 'setsar=1,format=yuv420p', ...flashes].join(',');
  }
  chain += `,trim=end_frame=${n},setpts=PTS-STARTPTS`;
  if (e.kind !== 'flat') {
    if (e.fadeIn) chain += `,fade=t=in:st=0:d=${e.fadeIn}:color=${e.fadeInColour ?? 'black'}`;
    if (e.fadeOut) chain += `,fade=t=out:st=${(n / FPS - e.fadeOut).toFixed(3)}:d=${e.fadeOut}:color=${e.fadeOutColour ?? 'black'}`;
  }
  return `${chain}[e${index}]`;
}

/** The ffmpeg arguments that render `spec` (without the output file). */
function renderArgs(spec: TransitionVideoSpec, pieces: readonly Piece[]): string[] {
  const inputs: string[] = [];
  const chains: string[] = [];
  const parts: string[] = [];
  let inputCount = 0;
  spec.elements.forEach((e, i) => {
    let input: number | null = null;
    if (e.kind === 'clip') {
      const piece = pieces[e.piece]!;
      inputs.push('-ss', piece.from.toFixed(3), '-t', (e.dur + 0.5).toFixed(3), '-i', piece.file);
      input = inputCount++;
    }
    chains.push(elementChain(e, input, i));
    const head = i > 0 && spec.joins[i - 1]!.kind !== 'cut' ? frames((spec.joins[i - 1] as { dur: number }).dur) : 0;
    const join = spec.joins[i];
    const tail = join && join.kind !== 'cut' ? frames(join.dur) : 0;
    const n = frames(e.dur);
    const segs = [head ? `[h${i}]` : '', `[b${i}]`, tail ? `[t${i}]` : ''].filter(Boolean);
    chains.push(`[e${i}]split=${segs.length}${segs.map((s) => s.replace(']', 'x]')).join('')}`);
    const trim = (label: string, from: number, to: number): void => {
      chains.push(`[${label}x]trim=start_frame=${from}:end_frame=${to},setpts=PTS-STARTPTS[${label}]`);
    };
    if (head) trim(`h${i}`, 0, head);
    trim(`b${i}`, head, n - tail);
    if (tail) trim(`t${i}`, n - tail, n);
    // The overlap of a dissolve or wipe with the previous element comes first.
    if (head) {
      const d = (head / FPS).toFixed(3);
      const p = `min(1,T/${d})`;
      const kind = spec.joins[i - 1]!.kind;
      const mix = kind === 'wipe' ? `if(lt(X/W,${p}),B,A)` : `A*(1-${p})+B*${p}`;
      chains.push(`[t${i - 1}][h${i}]blend=all_expr='${mix}'[m${i}]`);
      parts.push(`[m${i}]`);
    }
    parts.push(`[b${i}]`);
  });
  chains.push(`${parts.join('')}concat=n=${parts.length}:v=1:a=0,format=yuv420p[vout]`);
  return [...inputs, '-filter_complex', chains.join(';'), '-map', '[vout]', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '20', '-g', String(FPS * 2), '-pix_fmt', 'yuv420p'];
}

/** Renders one video (or reuses the cached render of the same spec) and returns its path and truth. */
export async function renderTransitionVideo(spec: TransitionVideoSpec, pieces: readonly Piece[]): Promise<{ path: string; truth: number[] }> {
  const args = renderArgs(spec, pieces);
  const key = createHash('sha1').update(JSON.stringify(args)).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), 'vidsearch-transitions-set');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${spec.name}-${key}.mp4`);
  if (!existsSync(file)) {
    const partial = `${file}.${process.pid}.partial.mp4`;
    await runFfmpeg([...args, partial]);
    await rename(partial, file);
  }
  return { path: file, truth: truthOf(spec) };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** A transition event placed between two clips (or at the end of a video). */
type Event =
  | { kind: 'fade'; out: number; hold: number; in: number; colour: Colour }
  | { kind: 'hold'; hold: number; colour: Colour; out: number; in: number }
  | { kind: 'card'; style: number; dur: number; enter: 'cut' | number; leave: 'cut' | number; text: string }
  | { kind: 'dissolve' | 'wipe'; dur: number }
  | { kind: 'cut' };

const CARD_STYLES: { colour: Colour | '0x603010'; textColour: string }[] = [
  { colour: 'black', textColour: 'white' },
  { colour: 'white', textColour: 'black' },
  { colour: '0x603010', textColour: '0xf0e0a0' },
  { colour: 'black', textColour: '0xc0c0c0' },
];
const CARD_TEXTS = ['Chapter One', 'Later', 'THE END?', 'Act II', 'Meanwhile', 'Part 3', 'Ten years after', 'Epilogue'];

/**
 * The events of the whole set: ramps 0.3–2 s and holds 0.1–3 s spread over their ranges (shuffled
 * so ramp and hold lengths pair up differently), cuts into/out of holds with or without a ramp on
 * one side, title cards entered and left by cut, fade or dissolve, dissolves and wipes 0.3–2 s.
 */
function allEvents(rand: () => number): Event[] {
  const spread = (lo: number, hi: number, count: number): number[] => {
    const values = Array.from({ length: count }, (_, i) => round2(lo + ((hi - lo) * (i + rand())) / count));
    return values.sort(() => rand() - 0.5);
  };
  const events: Event[] = [];
  const ramps = spread(0.3, 2, 16);
  const rampsIn = spread(0.3, 2, 16);
  const holds = spread(0.1, 3, 16);
  const colours: Colour[] = ['black', 'black', 'black', 'white', 'black', '0x101830', 'black', 'black'];
  for (let i = 0; i < 16; i++) events.push({ kind: 'fade', out: ramps[i]!, hold: holds[i]!, in: rampsIn[i]!, colour: colours[i % colours.length]! });
  const cutHolds = spread(0.1, 3, 12);
  const oneRamp = spread(0.3, 2, 12);
  for (let i = 0; i < 12; i++) {
    // Cut in and out; cut in, fade out of it; fade in, cut out of it.
    const side = i % 3;
    events.push({ kind: 'hold', hold: cutHolds[i]!, colour: i % 4 === 3 && cutHolds[i]! >= 0.5 ? 'white' : 'black', out: side === 2 ? oneRamp[i]! : 0, in: side === 1 ? oneRamp[i]! : 0 });
  }
  const cardDurs = spread(0.8, 3, 12);
  const cardRamps = spread(0.3, 1.5, 12);
  for (let i = 0; i < 12; i++) {
    const how = (k: number): 'cut' | number => (k === 0 ? 'cut' : k === 1 ? cardRamps[i]! : -cardRamps[i]!);
    // enter/leave: 'cut', a fade through black (positive) or a dissolve (negative).
    events.push({ kind: 'card', style: i % CARD_STYLES.length, dur: cardDurs[i]!, enter: how(i % 3), leave: how((i + 1 + (i >> 2)) % 3), text: CARD_TEXTS[i % CARD_TEXTS.length]! });
  }
  for (const d of spread(0.3, 2, 10)) events.push({ kind: 'dissolve', dur: d });
  for (const d of spread(0.3, 1.5, 6)) events.push({ kind: 'wipe', dur: d });
  for (let i = 0; i < 12; i++) events.push({ kind: 'cut' });
  return events.sort(() => rand() - 0.5);
}

interface Builder {
  elements: Element[];
  joins: Join[];
}

/**
 * Appends a clip from a piece unlike the last one, long enough for what enters it (`incoming`:
 * a fade in or the second half of a dissolve) and what leaves it; returns how long the leaving
 * ramp or overlap may be (shortened only when no other piece is long enough).
 */
function pushClip(b: Builder, rand: () => number, pieces: readonly { from: number; to: number }[], incoming: number, outgoing: number, last: { index: number }): { clip: Element & { kind: 'clip' }; outgoing: number } {
  const body = 0.9 + rand() * 1.2;
  const others = pieces.map((p, i) => ({ len: p.to - p.from, i })).filter(({ i }) => i !== last.index);
  const fitting = others.filter(({ len }) => len >= incoming + outgoing + 0.9);
  const choice = fitting.length ? fitting[Math.floor(rand() * fitting.length)]! : others.reduce((a, c) => (c.len > a.len ? c : a));
  last.index = choice.i;
  const out = round2(Math.min(outgoing, choice.len - incoming - 0.5));
  const clip: Element & { kind: 'clip' } = { kind: 'clip', piece: choice.i, dur: round2(Math.min(incoming + out + body, choice.len - 0.05)) };
  // Negatives inside a shot, away from its ends: camera moves and flashes.
  const roll = rand();
  const free = clip.dur - incoming - out;
  if (roll < 0.18) clip.motion = 'pan';
  else if (roll < 0.3) clip.motion = 'zoom';
  else if (roll < 0.55 && free > 0.8) clip.flashes = [{ at: round2(incoming + 0.4 + rand() * (free - 0.8)), decay: rand() < 0.5 }];
  b.elements.push(clip);
  return { clip, outgoing: out };
}

/** The whole set: `count` videos, alternately in the fit and held-out halves. */
export function transitionSetSpecs(pieces: readonly { from: number; to: number }[], count = 16, seed = 19): TransitionVideoSpec[] {
  const rand = seededRandom(seed);
  const events = allEvents(rand);
  const specs: TransitionVideoSpec[] = [];
  for (let v = 0; v < count; v++) {
    const mine = events.filter((_, i) => i % count === v);
    // Half the videos end with a fade to black (and a black tail of 0.2–1 s).
    const finalFade = v % 2 === 0 ? round2(0.3 + rand() * 1.7) : 0;
    // Halves: fit, held-out, held-out, fit, … so both halves have videos with and without a final fade.
    const half = (v + (v >> 1)) % 2 === 0 ? 'fit' : 'heldout';
    specs.push({ name: `transitions-${String(v).padStart(2, '0')}`, half, ...buildVideo(mine, finalFade, rand, pieces) });
  }
  return specs;
}

function buildVideo(events: Event[], finalFade: number, rand: () => number, pieces: readonly { from: number; to: number }[]): Builder {
  const b: Builder = { elements: [], joins: [] };
  const last = { index: -1 };
  // What the next clip starts with: a fade in, or the second half of a dissolve/wipe.
  let fadeIn: { ramp: number; colour: Colour } | null = null;
  let overlap = 0;
  /** A clip leaving by `outgoing` seconds of ramp/overlap; returns the length it got. */
  const clip = (outgoing: number, fadeOutColour: Colour | null): number => {
    const incoming = fadeIn?.ramp ?? overlap;
    const made = pushClip(b, rand, pieces, incoming, outgoing, last);
    if (fadeIn) Object.assign(made.clip, { fadeIn: fadeIn.ramp, fadeInColour: fadeIn.colour });
    if (fadeOutColour && made.outgoing > 0) Object.assign(made.clip, { fadeOut: made.outgoing, fadeOutColour });
    fadeIn = null;
    overlap = 0;
    return made.outgoing;
  };
  const hold = (colour: Colour, dur: number): void => {
    b.joins.push({ kind: 'cut' });
    b.elements.push({ kind: 'flat', colour, dur });
    b.joins.push({ kind: 'cut' });
  };
  for (const ev of events) {
    if (ev.kind === 'cut') {
      clip(0, null);
      b.joins.push({ kind: 'cut' });
    } else if (ev.kind === 'dissolve' || ev.kind === 'wipe') {
      overlap = clip(ev.dur, null);
      b.joins.push({ kind: ev.kind, dur: overlap });
    } else if (ev.kind === 'fade' || ev.kind === 'hold') {
      // A clip and the held colour share the fade colour (fade out, or fade in after).
      if (ev.out) clip(ev.out, ev.colour);
      else clip(0, null);
      hold(ev.colour, ev.hold);
      if (ev.in) fadeIn = { ramp: ev.in, colour: ev.colour };
    } else if (ev.kind === 'card') {
      pushCard(b, ev, clip, (ramp) => (fadeIn = { ramp, colour: 'black' }), (d) => (overlap = d));
    }
  }
  const tailFade = clip(finalFade, 'black');
  if (tailFade) {
    b.joins.push({ kind: 'cut' });
    b.elements.push({ kind: 'flat', colour: 'black', dur: round2(0.2 + rand() * 0.8) });
  }
  return b;
}

/** A title card entered and left by a cut, a fade through a short black hold or a dissolve. */
function pushCard(
  b: Builder,
  ev: Event & { kind: 'card' },
  clip: (outgoing: number, fadeOutColour: Colour | null) => number,
  fadeNextIn: (ramp: number) => void,
  overlapNext: (dur: number) => void,
): void {
  const style = CARD_STYLES[ev.style]!;
  const card: Element & { kind: 'card' } = { kind: 'card', colour: style.colour, textColour: style.textColour, text: ev.text, dur: ev.dur };
  const { enter, leave } = ev;
  if (enter === 'cut') {
    clip(0, null);
    b.joins.push({ kind: 'cut' });
  } else if (enter > 0) {
    // Fade out to black, a short black hold, the card fading in.
    const ramp = clip(enter, 'black');
    b.joins.push({ kind: 'cut' });
    b.elements.push({ kind: 'flat', colour: 'black', dur: 0.3 });
    b.joins.push({ kind: 'cut' });
    card.fadeIn = ramp || undefined;
  } else {
    const d = clip(-enter, null);
    b.joins.push({ kind: 'dissolve', dur: d });
    card.dur += d;
  }
  if (leave !== 'cut' && leave > 0) card.fadeOut = leave;
  card.dur = round2(card.dur + (card.fadeIn ?? 0) + (card.fadeOut ?? 0) + (leave !== 'cut' && leave < 0 ? -leave : 0));
  if (!card.fadeIn) delete card.fadeIn;
  b.elements.push(card);
  if (leave === 'cut') {
    b.joins.push({ kind: 'cut' });
  } else if (leave > 0) {
    b.joins.push({ kind: 'cut' });
    b.elements.push({ kind: 'flat', colour: 'black', dur: 0.3 });
    b.joins.push({ kind: 'cut' });
    fadeNextIn(leave);
  } else {
    b.joins.push({ kind: 'dissolve', dur: -leave });
    overlapNext(-leave);
  }
}
