// Stage "technicalCues": technical cues (Rekognition's TECHNICAL_CUE segment types, plus borders,
// freeze frames and silence) from the picture and sound signals the fingerprints stage measured
// in its single low-resolution pass — nothing is decoded here. Rules (per 4 fps sample):
//   BLACK_FRAMES  ≥ 98 % of pixels at luma ≤ 32, mean luma < 40
//   COLOR_BARS    colour-bar score ≥ 0.7 (uniform saturated vertical stripes), ≥ 0.5 s
//   FREEZE_FRAME  mean |Δluma| < 0.5 between samples, not black/bars, ≥ 2 s
//   SLATE         a freeze of ≥ 1 s on a low-colour card with content (spread ≥ 6, saturation < 0.15)
//                 within the first/last 60 s (or 10 %) or next to bars/black: what slates look like
//   LETTERBOX / PILLARBOX  flat near-black bands ≥ 4 % on both opposite sides (symmetric within
//                 3 %), not black frames, ≥ 1 s; runs split where the band moves > 2 %; the
//                 active picture area is the median band over the run, in video pixels
//   SILENCE       loudness < −55 dBFS per 0.1 s, ≥ 1 s
import type { Box } from '../models/types.js';
import type { TechnicalCueRecord, TechnicalCueType } from '../store/technical.js';
import type { FingerprintsStageOutput } from './fingerprints.js';
import type { FrameSignals } from './fingerprints/picture-signals.js';
import { AUDIO_STEP_SEC, VISUAL_STEP_SEC } from './fingerprints/sampling.js';
import type { Stage } from './stage.js';

const BLACK_DARK_SHARE = 0.98;
const BLACK_MAX_LUMA = 40;
const BARS_SCORE = 0.7;
const FREEZE_CHANGE = 0.5;
const SLATE_SATURATION = 0.15;
const SLATE_MIN_SPREAD = 6;
const SLATE_EDGE_SEC = 60;
const BORDER_MIN = 0.04;
const BORDER_ASYMMETRY = 0.03;
const BORDER_MOVE = 0.02;
const SILENCE_DB = -55;
const MIN_SEC: Record<TechnicalCueType, number> = {
  BLACK_FRAMES: VISUAL_STEP_SEC,
  COLOR_BARS: 0.5,
  SLATE: 1,
  FREEZE_FRAME: 2,
  LETTERBOX: 1,
  PILLARBOX: 1,
  SILENCE: 1,
};
/** Black gaps a border run may bridge (a fade through black inside a letterboxed film). */
const BORDER_BRIDGE_SEC = 2;

interface Run {
  first: number;
  last: number;
}

/** Maximal runs of consecutive indices where `test` holds. */
export function runsOf(count: number, test: (i: number) => boolean): Run[] {
  const runs: Run[] = [];
  let first = -1;
  for (let i = 0; i <= count; i++) {
    if (i < count && test(i)) {
      if (first < 0) first = i;
    } else if (first >= 0) {
      runs.push({ first, last: i - 1 });
      first = -1;
    }
  }
  return runs;
}

function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : 0;
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

function cueId(videoId: string, type: TechnicalCueType, start: number): string {
  return `${videoId}:cue:${type}:${Math.round(start * 1000)}`;
}

export function isBlack(f: FrameSignals): boolean {
  return f.darkShare >= BLACK_DARK_SHARE && f.luma < BLACK_MAX_LUMA;
}

type BorderKind = 'LETTERBOX' | 'PILLARBOX';

function borderOf(f: FrameSignals, kind: BorderKind): [number, number] | null {
  const [top, bottom, left, right] = f.borders;
  const [a, b] = kind === 'LETTERBOX' ? [top, bottom] : [left, right];
  return a >= BORDER_MIN && b >= BORDER_MIN && Math.abs(a - b) <= BORDER_ASYMMETRY ? [a, b] : null;
}

export interface VideoSize {
  width: number;
  height: number;
}

/** Technical cues of one video from its sampled signals (time order). */
export function detectTechnicalCues(videoId: string, frames: readonly FrameSignals[], audioDb: readonly number[], size: VideoSize, durationSec: number): TechnicalCueRecord[] {
  const cues: TechnicalCueRecord[] = [];
  const endOf = (i: number): number => Math.min(durationSec || Number.POSITIVE_INFINITY, frames[i]!.time + VISUAL_STEP_SEC);
  const add = (type: TechnicalCueType, start: number, end: number, confidence: number, activeArea: Box | null = null): void => {
    if (end - start + 1e-6 < MIN_SEC[type]) return;
    const s = Math.round(start * 1000) / 1000;
    cues.push({ id: cueId(videoId, type, s), videoId, type, start: s, end: Math.round(end * 1000) / 1000, confidence: Math.round(clamp01(confidence) * 1000) / 1000, activeArea });
  };
  const n = frames.length;
  const black = frames.map(isBlack);
  const bars = frames.map((f) => f.bars >= BARS_SCORE);

  for (const run of runsOf(n, (i) => black[i]!)) {
    const share = mean(frames.slice(run.first, run.last + 1).map((f) => f.darkShare));
    add('BLACK_FRAMES', frames[run.first]!.time, endOf(run.last), 0.5 + 0.5 * clamp01((share - BLACK_DARK_SHARE) / (1 - BLACK_DARK_SHARE)));
  }
  const barRuns = runsOf(n, (i) => bars[i]!);
  for (const run of barRuns) add('COLOR_BARS', frames[run.first]!.time, endOf(run.last), mean(frames.slice(run.first, run.last + 1).map((f) => f.bars)));

  // A freeze run: sample i repeats sample i−1, so the still picture starts at i−1.
  const still = (i: number): boolean => {
    const f = frames[i]!;
    return f.change !== null && f.change < FREEZE_CHANGE && !black[i] && !bars[i] && !black[i - 1] && !bars[i - 1];
  };
  const nearEdge = (start: number, end: number): boolean => {
    const edge = Math.max(SLATE_EDGE_SEC, 0.1 * durationSec);
    return start < edge || end > durationSec - edge;
  };
  const nextToBarsOrBlack = (first: number, last: number): boolean => {
    const around = [first - 1, first - 2, first - 3, first - 4, last + 1, last + 2, last + 3, last + 4].filter((i) => i >= 0 && i < n);
    return around.some((i) => black[i] || bars[i]);
  };
  for (const run of runsOf(n, still)) {
    const first = run.first - 1;
    const stretch = frames.slice(first, run.last + 1);
    const start = frames[first]!.time;
    const end = endOf(run.last);
    const stillness = 1 - mean(stretch.slice(1).map((f) => f.change ?? 0)) / FREEZE_CHANGE;
    const card = stretch.every((f) => f.saturation < SLATE_SATURATION && f.spread >= SLATE_MIN_SPREAD);
    if (card && (nearEdge(start, end) || nextToBarsOrBlack(first, run.last)) && end - start >= MIN_SEC.SLATE) {
      add('SLATE', start, end, 0.5 + 0.5 * stillness);
    } else {
      add('FREEZE_FRAME', start, end, 0.5 + 0.5 * stillness);
    }
  }

  for (const kind of ['LETTERBOX', 'PILLARBOX'] as const) {
    // Runs of bordered frames whose band stays put; black frames in between are bridged.
    let current: { first: number; last: number; bands: [number, number][] } | null = null;
    const flush = (): void => {
      if (!current) return;
      const a = median(current.bands.map((b) => b[0]));
      const b = median(current.bands.map((x) => x[1]));
      const area: Box =
        kind === 'LETTERBOX'
          ? { x: 0, y: Math.round(a * size.height), width: size.width, height: Math.round(size.height * (1 - a - b)) }
          : { x: Math.round(a * size.width), y: 0, width: Math.round(size.width * (1 - a - b)), height: size.height };
      add(kind, frames[current.first]!.time, endOf(current.last), 0.5 + 0.5 * (current.bands.length / (current.last - current.first + 1)), area);
      current = null;
    };
    for (let i = 0; i < n; i++) {
      if (black[i]) {
        if (current && frames[i]!.time - frames[current.last]!.time > BORDER_BRIDGE_SEC) flush();
        continue;
      }
      const band = borderOf(frames[i]!, kind);
      if (!band) {
        flush();
        continue;
      }
      if (current) {
        const ref = current.bands[current.bands.length - 1]!;
        if (Math.abs(ref[0] - band[0]) > BORDER_MOVE || Math.abs(ref[1] - band[1]) > BORDER_MOVE) flush();
      }
      if (current) {
        current.last = i;
        current.bands.push(band);
      } else {
        current = { first: i, last: i, bands: [band] };
      }
    }
    flush();
  }

  for (const run of runsOf(audioDb.length, (i) => audioDb[i]! < SILENCE_DB)) {
    const level = mean(audioDb.slice(run.first, run.last + 1).map((d) => Math.max(-100, d)));
    const end = Math.min(durationSec || Number.POSITIVE_INFINITY, (run.last + 1) * AUDIO_STEP_SEC);
    add('SILENCE', run.first * AUDIO_STEP_SEC, end, 0.5 + 0.5 * clamp01((SILENCE_DB - level) / 30));
  }
  return cues.sort((x, y) => x.start - y.start || x.type.localeCompare(y.type));
}

export interface TechnicalCuesStageOutput {
  /** Why no cues were looked for (the fingerprints stage failed), else null. */
  skipped: string | null;
  cues: number;
  byType: Partial<Record<TechnicalCueType, number>>;
}

export const technicalCuesStage: Stage<{ fingerprints: FingerprintsStageOutput }, TechnicalCuesStageOutput> & { name: 'technicalCues' } = {
  name: 'technicalCues',
  weight: 0.2,
  needs: ['fingerprints'],
  async run(ctx, { fingerprints }) {
    const { video } = ctx;
    // A failed enrichment stage leaves a { failed, reason } checkpoint instead of its output.
    if (!Array.isArray(fingerprints?.frames)) return { skipped: 'no picture/sound signals (fingerprints stage failed)', cues: 0, byType: {} };
    const cues = detectTechnicalCues(video.id, fingerprints.frames, fingerprints.audioDb, { width: video.width, height: video.height }, video.durationSec);
    await ctx.store.technical.replaceCues(video.id, cues);
    const byType: Partial<Record<TechnicalCueType, number>> = {};
    for (const cue of cues) byType[cue.type] = (byType[cue.type] ?? 0) + 1;
    ctx.log.info({ cues: cues.length, byType }, 'technical cues');
    return { skipped: null, cues: cues.length, byType };
  },
};
