// Stage "scenes": documented rules over measured signals → SCENE and MOOD tags per segment
// (source HEURISTIC: no scene model is involved), plus the per-segment signals the highlights
// stage scores and the speech stretches ad breaks avoid.
//
// Signals: frames at 2 fps, 160 px (brightness, motion = mean absolute luma change between
// consecutive samples of one shot, sky = bright bluish pixels in the top third, foliage = green
// pixels); audio at 16 kHz (RMS loudness and spectral flatness per 0.1 s window, Silero VAD speech);
// faces from the faces stage (box height / frame height); objects from the objects stage.
// Rules (score in 0..1 is the rule's confidence):
//   close-up / medium-shot / wide-shot: median largest-face height ≥ 0.30 / ≥ 0.12 / else; no face → wide-shot 0.5
//   single / two-shot / crowd: most faces (or detected persons) at once = 1 / 2 / ≥ 3
//   outdoor vs indoor: 0.5 + 1.2·(sky − 0.05) + 0.6·(foliage − 0.05) ± 0.15 per outdoor/indoor object, clamped
//   day / night: mean luma < 60 (outdoor) or < 35 (indoor) → night, else day
//   motion-low / -medium / -high: mean motion < 3 / < 10 / ≥ 10 (luma levels per sample)
//   dialogue: speech ≥ 30 % of the segment; else silence: RMS < −50 dBFS; else music: flatness < 0.25; else ambient
//   moods: tense = high motion and loud (above the video's median); calm = low motion and quiet or
//   silent; upbeat = music with medium/high motion; intimate = close-up, ≤ 2 people, dialogue or silence
import FFT from 'fft.js';
import type { SegmentRecord, ShotRecord } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { RawFrame } from '../media/frames.js';
import { loadVoiceModels, VOICE_SAMPLE_RATE, type SpeechSegment } from '../models/voice/index.js';
import type { SegmentTagRecord } from '../store/ads.js';
import { awaitPrerequisites, type Stage, type StageContext } from './stage.js';
import { stageAudio, stageFrames } from './stage-media.js';

export const SCENE_FRAME_FPS = 2;
export const SCENE_FRAME_WIDTH = 160;
const SCENE_FRAMES = { fps: SCENE_FRAME_FPS, width: SCENE_FRAME_WIDTH, pixFmt: 'rgb24' } as const;
const AUDIO_WINDOW_SEC = 0.1;
const FFT_SIZE = 1024;
const SILENCE_DB = -50;
const OUTDOOR_OBJECTS = new Set(['car', 'bus', 'truck', 'train', 'airplane', 'boat', 'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'horse', 'sheep', 'cow', 'elephant', 'zebra', 'giraffe', 'kite', 'skis', 'snowboard', 'surfboard', 'bicycle', 'motorcycle']);
const INDOOR_OBJECTS = new Set(['couch', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'keyboard', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'potted plant', 'chair', 'remote']);

/** Raw per-segment measurements (also what the highlights stage normalises and scores). */
export interface SegmentSignals {
  segmentId: string;
  start: number;
  end: number;
  shotIndex: number;
  /** Mean RMS loudness, dBFS (−100 when silent or no audio). */
  loudnessDb: number;
  /** Largest change of 1 s loudness inside the segment or from the second before it, dB. */
  loudnessChangeDb: number;
  speechFraction: number;
  /** Mean spectral flatness 0 (tonal) .. 1 (noise) over non-silent windows; null if none. */
  flatness: number | null;
  motion: number;
  brightness: number;
  sky: number;
  foliage: number;
  /** Median over samples of the largest face's height / frame height; 0 without faces. */
  faceHeight: number;
  /** Most faces (or detected persons) seen at once. */
  people: number;
}

export interface ScenesStageOutput {
  skippedAudio: string | null;
  speech: SpeechSegment[];
  segments: SegmentSignals[];
  tags: number;
}

export interface ScenesStageDeps {
  frames(ctx: StageContext): AsyncIterable<RawFrame>;
  audio(ctx: StageContext): Promise<Float32Array>;
  speech(ctx: StageContext, pcm: Float32Array): Promise<SpeechSegment[]>;
}

const defaultDeps: ScenesStageDeps = {
  frames: (ctx) => stageFrames(ctx, SCENE_FRAMES),
  audio: (ctx) => stageAudio(ctx, VOICE_SAMPLE_RATE),
  speech: async (ctx, pcm) => (await loadVoiceModels({ modelDir: ctx.config.modelDir })).vad.detect(pcm, {}, ctx.signal),
};

interface FrameStats {
  time: number;
  brightness: number;
  motion: number | null;
  sky: number;
  foliage: number;
}

/** Brightness, sky and foliage shares of one RGB frame; motion against the previous luma plane. */
export function frameStats(frame: RawFrame, previousLuma: Uint8Array | null): { stats: Omit<FrameStats, 'time'>; luma: Uint8Array } {
  const { width, height, data } = frame;
  const luma = new Uint8Array(width * height);
  let sum = 0;
  let sky = 0;
  let foliage = 0;
  const topRows = Math.floor(height / 3);
  for (let i = 0, p = 0; i < width * height; i++, p += 3) {
    const r = data[p]!;
    const g = data[p + 1]!;
    const b = data[p + 2]!;
    const y = (r * 299 + g * 587 + b * 114) / 1000;
    luma[i] = y;
    sum += y;
    if (i < topRows * width && b > 110 && b > r + 15 && b >= g) sky += 1;
    if (g > 60 && g > r + 15 && g > b + 15) foliage += 1;
  }
  let motion: number | null = null;
  if (previousLuma && previousLuma.length === luma.length) {
    let diff = 0;
    for (let i = 0; i < luma.length; i++) diff += Math.abs(luma[i]! - previousLuma[i]!);
    motion = diff / luma.length;
  }
  return { stats: { brightness: sum / luma.length, motion, sky: topRows ? sky / (topRows * width) : 0, foliage: foliage / (width * height) }, luma };
}

interface AudioWindows {
  db: Float32Array;
  flatness: Float32Array;
}

/** RMS dBFS and spectral flatness per AUDIO_WINDOW_SEC window. */
export function audioWindows(pcm: Float32Array, sampleRate: number): AudioWindows {
  const step = Math.round(sampleRate * AUDIO_WINDOW_SEC);
  const count = Math.floor(pcm.length / step);
  const db = new Float32Array(count);
  const flatness = new Float32Array(count);
  const fft = new FFT(FFT_SIZE);
  const input = new Array<number>(FFT_SIZE).fill(0);
  const out = fft.createComplexArray() as number[];
  for (let w = 0; w < count; w++) {
    let energy = 0;
    for (let i = w * step; i < (w + 1) * step; i++) energy += pcm[i]! * pcm[i]!;
    const rms = Math.sqrt(energy / step);
    db[w] = rms > 1e-5 ? 20 * Math.log10(rms) : -100;
    for (let i = 0; i < FFT_SIZE; i++) input[i] = pcm[w * step + i] ?? 0;
    fft.realTransform(out, input);
    let logSum = 0;
    let linSum = 0;
    const bins = FFT_SIZE / 2;
    for (let k = 1; k <= bins; k++) {
      const power = out[2 * k]! * out[2 * k]! + out[2 * k + 1]! * out[2 * k + 1]! + 1e-12;
      logSum += Math.log(power);
      linSum += power;
    }
    flatness[w] = Math.exp(logSum / bins) / (linSum / bins);
  }
  return { db, flatness };
}

function median(values: number[]): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function overlap(aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  return Math.max(0, Math.min(aEnd, bEnd) - Math.max(aStart, bStart));
}

/** Faces per sampled time: the largest face's height ratio and the count. */
export interface FaceSample {
  time: number;
  heightRatio: number;
}

/** The rules in the file header: signals of one segment (+ its objects) → SCENE and MOOD tags. */
export function sceneTags(
  s: SegmentSignals,
  objects: readonly string[],
  videoMedianLoudnessDb: number,
  base: Pick<SegmentTagRecord, 'videoId' | 'segmentId'>,
): SegmentTagRecord[] {
  const tags: SegmentTagRecord[] = [];
  const tag = (kind: 'SCENE' | 'MOOD', label: string, score: number): void => {
    tags.push({ ...base, kind, label, score: Math.round(clamp01(score) * 1000) / 1000, source: 'HEURISTIC', box: null });
  };
  const shot = s.faceHeight >= 0.3 ? 'close-up' : s.faceHeight >= 0.12 ? 'medium-shot' : 'wide-shot';
  tag('SCENE', shot, s.faceHeight === 0 ? 0.5 : shot === 'close-up' ? 0.6 + s.faceHeight : shot === 'medium-shot' ? 0.7 : 0.6);
  if (s.people === 1) tag('SCENE', 'single', 0.8);
  else if (s.people === 2) tag('SCENE', 'two-shot', 0.8);
  else if (s.people >= 3) tag('SCENE', 'crowd', Math.min(1, 0.5 + s.people / 10));

  const outdoorObjects = objects.filter((o) => OUTDOOR_OBJECTS.has(o)).length;
  const indoorObjects = objects.filter((o) => INDOOR_OBJECTS.has(o)).length;
  const outdoor = clamp01(0.5 + 1.2 * (s.sky - 0.05) + 0.6 * (s.foliage - 0.05) + 0.15 * outdoorObjects - 0.15 * indoorObjects);
  if (outdoor >= 0.5) tag('SCENE', 'outdoor', outdoor);
  else tag('SCENE', 'indoor', 1 - outdoor);
  const nightBelow = outdoor >= 0.5 ? 60 : 35;
  if (s.brightness < nightBelow) tag('SCENE', 'night', 0.5 + (nightBelow - s.brightness) / (2 * nightBelow));
  else tag('SCENE', 'day', Math.min(1, 0.5 + (s.brightness - nightBelow) / 200));

  const motionLabel = s.motion < 3 ? 'motion-low' : s.motion < 10 ? 'motion-medium' : 'motion-high';
  tag('SCENE', motionLabel, 0.8);

  let audio: string;
  if (s.speechFraction >= 0.3) audio = 'dialogue';
  else if (s.loudnessDb < SILENCE_DB) audio = 'silence';
  else if (s.flatness !== null && s.flatness < 0.25) audio = 'music';
  else audio = 'ambient';
  tag('SCENE', audio, audio === 'dialogue' ? 0.5 + s.speechFraction / 2 : 0.7);

  const loud = s.loudnessDb > videoMedianLoudnessDb;
  if (motionLabel === 'motion-high' && loud) tag('MOOD', 'tense', 0.7);
  if (motionLabel === 'motion-low' && (!loud || audio === 'silence')) tag('MOOD', 'calm', 0.7);
  if (audio === 'music' && motionLabel !== 'motion-low') tag('MOOD', 'upbeat', 0.6);
  if (shot === 'close-up' && s.people <= 2 && (audio === 'dialogue' || audio === 'silence')) tag('MOOD', 'intimate', 0.6);
  return tags;
}

export function createScenesStage(overrides: Partial<ScenesStageDeps> = {}): Stage<unknown, ScenesStageOutput> {
  const deps: ScenesStageDeps = { ...defaultDeps, ...overrides };
  return {
    name: 'scenes',
    weight: 2,
    needs: ['segments'],
    // Pictures and sound are measured while the faces and objects stages still run; their stored
    // results are read once they are done.
    awaits: ['faces', 'objects'],
    media: () => ({ frames: [SCENE_FRAMES], audioRates: [VOICE_SAMPLE_RATE] }),
    async run(ctx) {
      const { store, video, log } = ctx;
      const [shots, segments] = await Promise.all([store.catalog.getShots(video.id), store.catalog.getSegmentsOfVideo(video.id)]);

      // Pictures: one pass at low rate and size.
      const frames: FrameStats[] = [];
      let previous: { luma: Uint8Array; shot: number } | null = null;
      for await (const frame of deps.frames(ctx)) {
        const shot = shotIndexAt(shots, frame.time);
        const { stats, luma } = frameStats(frame, previous && previous.shot === shot ? previous.luma : null);
        frames.push({ time: frame.time, ...stats });
        previous = { luma, shot };
        if (video.durationSec > 0) ctx.reportProgress(Math.min(0.6, (0.6 * frame.time) / video.durationSec));
      }

      // Sound: loudness, flatness, speech. A video without (decodable) audio gets silence.
      let windows: AudioWindows = { db: new Float32Array(0), flatness: new Float32Array(0) };
      let speech: SpeechSegment[] = [];
      let skippedAudio: string | null = video.hasAudio ? null : 'no audio stream';
      if (video.hasAudio) {
        try {
          const pcm = await deps.audio(ctx);
          windows = audioWindows(pcm, VOICE_SAMPLE_RATE);
          speech = await deps.speech(ctx, pcm);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          skippedAudio = errorMessage(err);
          log.warn({ err: skippedAudio }, 'audio not analysed; scenes use pictures only');
        }
      }
      ctx.reportProgress(0.9);

      await awaitPrerequisites(ctx);
      const [tracks, objectTags] = await Promise.all([store.appearances.getTracksOfVideo(video.id), store.tags.getTagsOfVideo(video.id)]);

      // Faces: the largest face per sampled time (faces stage output, stored).
      const faces = tracks.length ? await store.appearances.getFacesOfTracks(tracks.map((t) => t.id)) : [];
      const frameHeight = video.rotation % 180 === 0 ? video.height : video.width;
      const faceTimes = new Map<number, { largest: number; count: number }>();
      for (const face of faces) {
        const key = Math.round(face.time * 100);
        const entry = faceTimes.get(key) ?? { largest: 0, count: 0 };
        entry.largest = Math.max(entry.largest, frameHeight ? face.box.height / frameHeight : 0);
        entry.count += 1;
        faceTimes.set(key, entry);
      }
      const objectsBySegment = new Map<string, string[]>();
      for (const t of objectTags) if (t.kind === 'OBJECT') objectsBySegment.set(t.segmentId, [...(objectsBySegment.get(t.segmentId) ?? []), t.label]);
      const personsBySegment = new Map<string, number>();
      for (const t of objectTags) if (t.kind === 'OBJECT' && t.label === 'person') personsBySegment.set(t.segmentId, 1);

      const signals = segments.map((segment) => segmentSignals(segment, frames, windows, speech, faceTimes, personsBySegment.get(segment.id) ?? 0));
      const medianLoudness = median(signals.map((s) => s.loudnessDb));
      const tags = signals.flatMap((s) => sceneTags(s, objectsBySegment.get(s.segmentId) ?? [], medianLoudness, { videoId: video.id, segmentId: s.segmentId }));
      await store.tags.replaceVideoTags(video.id, ['SCENE', 'MOOD'], tags);
      log.info({ segments: signals.length, tags: tags.length, speechTurns: speech.length }, 'scenes tagged');
      return { skippedAudio, speech, segments: signals, tags: tags.length };
    },
  };
}

function shotIndexAt(shots: readonly ShotRecord[], time: number): number {
  let index = 0;
  for (const shot of shots) if (shot.start <= time + 1e-6) index = shot.index;
  return index;
}

function segmentSignals(
  segment: SegmentRecord,
  frames: readonly FrameStats[],
  windows: AudioWindows,
  speech: readonly SpeechSegment[],
  faceTimes: ReadonlyMap<number, { largest: number; count: number }>,
  persons: number,
): SegmentSignals {
  const inSegment = frames.filter((f) => f.time >= segment.start && f.time < segment.end);
  const mean = (values: number[]): number => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);
  const first = Math.floor(segment.start / AUDIO_WINDOW_SEC);
  const last = Math.min(windows.db.length, Math.ceil(segment.end / AUDIO_WINDOW_SEC));
  const db: number[] = [];
  const flat: number[] = [];
  for (let w = first; w < last; w++) {
    db.push(windows.db[w]!);
    if (windows.db[w]! >= SILENCE_DB) flat.push(windows.flatness[w]!);
  }
  // Loudness of 1 s blocks from one second before the segment: the biggest jump is the "change".
  const perSecond = Math.round(1 / AUDIO_WINDOW_SEC);
  const blocks: number[] = [];
  for (let w = Math.max(0, first - perSecond); w < last; w += perSecond) {
    const slice = Array.from(windows.db.subarray(w, Math.min(last, w + perSecond)));
    if (slice.length) blocks.push(mean(slice));
  }
  let change = 0;
  for (let i = 1; i < blocks.length; i++) change = Math.max(change, Math.abs(blocks[i]! - blocks[i - 1]!));
  const speechSec = speech.reduce((sum, s) => sum + overlap(s.start, s.end, segment.start, segment.end), 0);
  const faceSamples = [...faceTimes.entries()].filter(([key]) => key / 100 >= segment.start && key / 100 < segment.end).map(([, v]) => v);
  return {
    segmentId: segment.id,
    start: segment.start,
    end: segment.end,
    shotIndex: segment.shotIndex,
    loudnessDb: db.length ? mean(db) : -100,
    loudnessChangeDb: change,
    speechFraction: segment.end > segment.start ? Math.min(1, speechSec / (segment.end - segment.start)) : 0,
    flatness: flat.length ? mean(flat) : null,
    motion: mean(inSegment.flatMap((f) => (f.motion === null ? [] : [f.motion]))),
    brightness: mean(inSegment.map((f) => f.brightness)),
    sky: mean(inSegment.map((f) => f.sky)),
    foliage: mean(inSegment.map((f) => f.foliage)),
    faceHeight: median(faceSamples.map((f) => f.largest)),
    people: Math.max(persons, ...faceSamples.map((f) => f.count), 0),
  };
}

export const scenesStage = createScenesStage();
