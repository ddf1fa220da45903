// The decoded pictures and sound of the video one indexing job works on, shared by its stages.
// Each stage declares up front what it will read (frame streams at a rate and size, its shots'
// keyframes, PCM at a sample rate). When a stage first asks for frames, one ffmpeg decode starts
// with an output for every declared request of the stages that are running or ready to run, plus
// the small requests of stages that come later (spooled to the temp folder until they start).
// Large requests (faces, OCR) are served only to stages already running, which read their frames
// as the decode goes (those stages await the shots inside their run): held in memory, they pace
// the decode, so nothing large is spooled and no video length needs a second decode; a large
// request of a stage that is not running yet decodes on its own when it starts. Shot keyframes are known only once that decode is over, so
// it also keeps the frames the shots stage picks keyframes among (as JPEGs, at every width the
// shot-aware stages read, with the measures of their luma as decoded that a reader declared,
// taken in that decode where the JPEG's coding would change them); a resumed job whose shots were stored earlier decodes the keyframes by
// a select filter instead. Sound is decoded once, at every declared rate, and kept for the job. A
// request nobody declared decodes on its own.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { DecodeSession, type FrameRequest, type FramesAtRequest, type SessionOutput } from './decode-session.js';
import { extractAudioPcm, extractFrame, outputSize, streamFrames, type RawFrame } from './frames.js';
import { KeyframeCandidates, type LumaMeasure } from './keyframe-candidates.js';
import { probeMedia, type MediaProbe } from './probe.js';
import { startTool } from './process.js';
import { createSpoolFolder } from './spool-folder.js';
import type { MediaTools } from './tools.js';

export type { FrameRequest } from './decode-session.js';

/** What a stage will read from the video. */
export interface MediaNeeds {
  frames?: FrameRequest[];
  /**
   * The first frame at or after each stored shot's keyframe time, at this width; `grey`: the
   * stage reads only their luma (the kept candidates at a width only grey readers ask for then
   * carry no colour, which costs the decode less).
   */
  shotKeyframes?: {
    width: number;
    grey?: boolean;
    /**
     * A measure the kept JPEG copy would change (its own coding): taken on each candidate's
     * luma as decoded, in the same decode, and served with the candidate (ShotKeyframe).
     */
    lumaMeasure?: LumaMeasure;
  };
  /**
   * The frames this stage picks shot keyframes among (every `every`-th frame of its `fps`
   * stream): kept, at each shotKeyframes width, from the decode that serves this stage, so the
   * stages reading shot keyframes need no decode of their own.
   */
  keyframeCandidates?: { fps: number; every: number };
  audioRates?: number[];
}

/** A stage's state in the scheduler, as far as the source cares. */
export type StageState = 'done' | 'running' | 'ready' | 'waiting';

/**
 * Requests this many bytes per media second or fewer are spooled for stages that start later;
 * larger ones (faces, OCR: 3–5 MB per media second at 720p) are paced outputs of running stages.
 */
const SPOOL_BYTES_PER_SEC = 1_000_000;
/** Keyframes-only outputs are sized for one keyframe every this many seconds. */
const ASSUMED_KEYFRAME_SEC = 2;

export function frameRequestKey(request: FrameRequest): string {
  const { pixFmt, width, fps, keyframesOnly, strict } = request;
  return JSON.stringify({ pixFmt, width, fps: keyframesOnly ? undefined : fps, keyframesOnly: !!keyframesOnly, strict: !!strict });
}

const SHOT_KEYFRAMES = 'shot-keyframes';

interface Declared {
  stage: string;
  key: string;
  /** Null for shot keyframes until their times are known. */
  request: FrameRequest | { width: number; shotKeyframes: true; grey: boolean; lumaMeasure?: LumaMeasure };
}

/**
 * A shot keyframe. `lumaMeasure`: the reading stage's declared measure of its luma as decoded,
 * when it comes from a kept JPEG candidate (else the stage measures the pixels it got).
 */
export interface ShotKeyframe extends RawFrame {
  lumaMeasure?: number;
}

export interface MediaSourceOptions {
  tools: MediaTools;
  filePath: string;
  signal: AbortSignal;
  stageState(stage: string): StageState;
  /** The stored shots' keyframe times, or null while this job has not stored its shots yet. */
  shotKeyframeTimes(): Promise<number[] | null>;
  /** What each stage of the job will read; asked once, when the first stage reads the video. */
  declarations(): Promise<{ stage: string; needs: MediaNeeds }[]>;
}

export interface SourceStats {
  /** ffmpeg runs that decoded the picture stream (shared decodes + stray own decodes). */
  videoDecodes: number;
  /** Single frames decoded with a seek of their own (a shot keyframe no decode served). */
  frameSeeks: number;
  audioDecodes: number;
  /** Large outputs (faces, OCR) read as the decode went, held in memory (never spooled). */
  pacedOutputs: number;
  /** Disk the kept shot keyframe candidates took (every width). */
  keyframeCandidateBytes: number;
}

/** The source as one stage sees it. */
export interface StageSource {
  frames(request: FrameRequest & { signal?: AbortSignal }): AsyncIterable<RawFrame>;
  /** The frame at a shot keyframe time (call in time order); other times decode on their own. */
  frameAt(time: number, width: number): Promise<ShotKeyframe>;
  audio(sampleRate: number): Promise<Float32Array>;
}

export class MediaSource {
  private readonly requests: Declared[] = [];
  /** `${stage}:${key}` → the session that has that output. */
  private readonly assigned = new Map<string, DecodeSession>();
  /** Outputs a stage has started reading (a second read decodes on its own). */
  private readonly taken = new Set<string>();
  private readonly sessions: DecodeSession[] = [];
  private readonly audioByRate = new Map<number, Promise<Float32Array>>();
  private readonly audioRates = new Set<number>();
  /** Who picks shot keyframes among which frames (declared by the shots stage). */
  private candidateSpec: { stage: string; fps: number; every: number } | null = null;
  /** Shot keyframe candidates by width, kept from the decode that served the shots stage. */
  private readonly candidates = new Map<number, KeyframeCandidates>();
  private probe: Promise<MediaProbe> | null = null;
  private spoolDir: string | null = null;
  private starting: Promise<void> = Promise.resolve();
  private readonly counts = { videoDecodes: 0, frameSeeks: 0, audioDecodes: 0, pacedOutputs: 0 };

  constructor(private readonly opts: MediaSourceOptions) {}

  private declaring: Promise<void> | null = null;

  private declared(): Promise<void> {
    this.declaring ??= this.opts.declarations().then((all) => all.forEach(({ stage, needs }) => this.declare(stage, needs)));
    return this.declaring;
  }

  private declare(stage: string, needs: MediaNeeds): void {
    for (const request of needs.frames ?? []) this.requests.push({ stage, key: frameRequestKey(request), request });
    if (needs.shotKeyframes) {
      const { width, grey, lumaMeasure } = needs.shotKeyframes;
      this.requests.push({ stage, key: SHOT_KEYFRAMES, request: { width, shotKeyframes: true, grey: !!grey, ...(lumaMeasure ? { lumaMeasure } : {}) } });
    }
    for (const rate of needs.audioRates ?? []) this.audioRates.add(rate);
    if (needs.keyframeCandidates) this.candidateSpec = { stage, ...needs.keyframeCandidates };
  }

  get stats(): SourceStats {
    const keyframeCandidateBytes = [...this.candidates.values()].reduce((sum, kept) => sum + kept.storedBytes, 0);
    return { ...this.counts, keyframeCandidateBytes };
  }

  forStage(stage: string): StageSource {
    const cursor = new KeyframeCursor();
    return {
      frames: (request) => this.frames(stage, request),
      frameAt: (time, width) => this.frameAt(stage, cursor, time, width),
      audio: (rate) => this.audio(rate),
    };
  }

  /** A stage ended: outputs it did not read (fully) are no longer kept. */
  stageFinished(stage: string): void {
    for (const [id, session] of this.assigned) if (id.startsWith(`${stage}:`)) session.channel(id)?.drop();
  }

  /** Ends every decode and removes the spool files. */
  close(): void {
    for (const session of this.sessions) session.stop();
    for (const kept of this.candidates.values()) kept.close();
    if (this.spoolDir) rmSync(this.spoolDir, { recursive: true, force: true });
  }

  private probed(): Promise<MediaProbe> {
    this.probe ??= probeMedia(this.opts.tools, this.opts.filePath, { signal: this.opts.signal });
    return this.probe;
  }

  private async *frames(stage: string, request: FrameRequest & { signal?: AbortSignal }): AsyncGenerator<RawFrame> {
    const key = frameRequestKey(request);
    const channel = await this.channelFor(stage, key);
    const probe = await this.probed();
    if (!channel) {
      this.counts.videoDecodes++;
      yield* streamFrames(this.opts.tools, this.opts.filePath, { ...request, probe, signal: request.signal ?? this.opts.signal });
      return;
    }
    const { width, height } = outputSize(probe, request.width);
    for await (const record of channel.consume()) yield { time: record.time, data: record.data, width, height };
  }

  private async frameAt(stage: string, cursor: KeyframeCursor, time: number, width: number): Promise<ShotKeyframe> {
    const kept = this.candidates.get(width);
    const candidate = await kept?.frameAt(time);
    if (candidate) {
      const lumaMeasure = candidate.lumaMeasures.get(stage);
      return lumaMeasure === undefined ? candidate.frame : { ...candidate.frame, lumaMeasure };
    }
    // Every candidate is kept, and this time is none (a shot shorter than their spacing): a seek.
    if (kept?.complete) return this.seek(time, width);
    if (!cursor.started) {
      const channel = await this.channelFor(stage, SHOT_KEYFRAMES);
      const probe = await this.probed();
      const times = (channel ? await this.keyframeTimesToDecode(width) : null) ?? [];
      const size = outputSize(probe, width);
      cursor.start(channel ? channel.consume() : null, times, width, size);
    }
    const frame = await cursor.frameAt(time, width);
    return frame ?? this.seek(time, width);
  }

  private seek(time: number, width: number): Promise<RawFrame> {
    this.counts.frameSeeks++;
    return extractFrame(this.opts.tools, this.opts.filePath, time, { width, format: 'rgb24', signal: this.opts.signal });
  }

  /** The stored shots' keyframe times at this width that no kept candidate serves. */
  private async keyframeTimesToDecode(width: number): Promise<number[] | null> {
    const times = await this.opts.shotKeyframeTimes();
    const kept = this.candidates.get(width);
    return times && kept ? times.filter((t) => !kept.has(t)) : times;
  }

  /** The channel serving (stage, key), starting a shared decode if none serves it yet. */
  private async channelFor(stage: string, key: string): Promise<ReturnType<DecodeSession['channel']>> {
    await this.declared();
    if (!this.requests.some((d) => d.stage === stage && d.key === key)) return null;
    // One session starts at a time: a second asker waits, then finds its output in it.
    const previous = this.starting;
    let release = (): void => undefined;
    this.starting = new Promise<void>((resolve) => (release = resolve));
    try {
      await previous;
      const id = `${stage}:${key}`;
      if (this.taken.has(id)) return null;
      if (!this.assigned.has(id)) await this.startSession(stage, key);
      this.taken.add(id);
      const channel = this.assigned.get(id)?.channel(id) ?? null;
      // Given up while the stage waited (too much to keep): the stage decodes on its own.
      return channel?.isDropped ? null : channel;
    } finally {
      release();
    }
  }

  private async startSession(stage: string, key: string): Promise<void> {
    const probe = await this.probed();
    const pending = this.requests.filter((d) => !this.assigned.has(`${d.stage}:${d.key}`) && this.opts.stageState(d.stage) !== 'done');
    const chosen: SessionOutput[] = [];
    for (const d of pending) {
      const state = d.stage === stage && d.key === key ? 'running' : this.opts.stageState(d.stage);
      if ('shotKeyframes' in d.request) {
        // Few frames (one per shot): decoded for waiting stages too, once the shots are known.
        const times = await this.keyframeTimesToDecode(d.request.width);
        if (times?.length) chosen.push({ key: `${d.stage}:${d.key}`, request: { pixFmt: 'rgb24', width: d.request.width, times } satisfies FramesAtRequest });
        continue;
      }
      const large = bytesPerSecond(d.request, probe) > SPOOL_BYTES_PER_SEC;
      // A large output of a stage not running yet would hold the decode (or fill the disk) for a
      // reader that may wait for a slot: it decodes on its own later.
      if (large && state !== 'running') continue;
      chosen.push({ key: `${d.stage}:${d.key}`, request: d.request, paced: large });
    }
    if (chosen.length === 0) return;
    this.spoolDir ??= createSpoolFolder();
    chosen.push(...this.candidateOutputs(chosen, this.spoolDir));
    const session = new DecodeSession({ tools: this.opts.tools, filePath: this.opts.filePath, probe, outputs: chosen, spoolDir: this.spoolDir, signal: this.opts.signal });
    session.start();
    this.counts.videoDecodes++;
    this.sessions.push(session);
    for (const output of chosen) this.assigned.set(output.key, session);
    this.counts.pacedOutputs += chosen.filter((o) => 'paced' in o && o.paced).length;
  }

  /**
   * When this decode serves the stage that picks shot keyframes, an output of its candidate
   * frames at each width a shot-keyframe reader of this job asks for (and of their luma, where
   * a reader declared a measure of it).
   */
  private candidateOutputs(chosen: readonly SessionOutput[], spoolDir: string): SessionOutput[] {
    const spec = this.candidateSpec;
    if (!spec || !chosen.some((o) => o.key.startsWith(`${spec.stage}:`))) return [];
    // width → whether every reader at that width reads only grey, and the readers' luma measures
    const widths = new Map<number, { grey: boolean; measures: Map<string, LumaMeasure> }>();
    for (const d of this.requests) {
      if (!('shotKeyframes' in d.request) || this.opts.stageState(d.stage) === 'done' || this.candidates.has(d.request.width)) continue;
      const readers = widths.get(d.request.width) ?? { grey: true, measures: new Map<string, LumaMeasure>() };
      readers.grey &&= d.request.grey;
      if (d.request.lumaMeasure) readers.measures.set(d.stage, d.request.lumaMeasure);
      widths.set(d.request.width, readers);
    }
    return [...widths].flatMap(([width, { grey, measures }]) => {
      const sink = new KeyframeCandidates(KeyframeCandidates.spoolFile(spoolDir, width), measures);
      this.candidates.set(width, sink);
      const request = { encode: 'mjpeg', width, fps: spec.fps, every: spec.every, ...(grey ? { grey } : {}) } as const;
      const jpegs = { key: `keyframe-candidates:${width}`, request, sink } satisfies SessionOutput;
      return measures.size ? [jpegs, { key: `keyframe-candidate-luma:${width}`, request: { lumaOf: request }, sink } satisfies SessionOutput] : [jpegs];
    });
  }

  private async audio(sampleRate: number): Promise<Float32Array> {
    await this.declared();
    const known = this.audioByRate.get(sampleRate);
    if (known) return known;
    const rates = this.audioRates.has(sampleRate) ? [...this.audioRates] : [sampleRate];
    const decoded = rates.length === 1 ? [extractAudioPcm(this.opts.tools, this.opts.filePath, { sampleRate, channels: 1, signal: this.opts.signal })] : this.decodeAudioRates(rates);
    this.counts.audioDecodes++;
    rates.forEach((rate, i) => {
      decoded[i]!.catch(() => undefined); // observed by whoever asks for that rate
      this.audioByRate.set(rate, decoded[i]!);
    });
    return this.audioByRate.get(sampleRate)!;
  }

  /** One ffmpeg, one decode of the sound, one mono f32 output per rate. */
  private decodeAudioRates(rates: number[]): Promise<Float32Array>[] {
    const args = audioArgs(this.opts.filePath, rates);
    const chunks = rates.map(() => [] as Buffer[]);
    const tool = startTool(this.opts.tools.ffmpeg, args, { signal: this.opts.signal, extraOutputs: rates.length });
    tool.stdout.resume();
    const closed = tool.outputs.map((stream, i) => {
      stream.on('data', (c: Buffer) => chunks[i]!.push(c));
      return new Promise<void>((resolve) => stream.once('close', () => resolve()));
    });
    const run = Promise.all([tool.exited, ...closed]);
    return rates.map((_, i) => run.then(() => toFloat32(Buffer.concat(chunks[i]!))));
  }
}

export function audioArgs(filePath: string, rates: readonly number[]): string[] {
  const split = `[0:a:0]asplit=${rates.length}${rates.map((_, i) => `[s${i}]`).join('')}`;
  // Pads with silence from the media start, as extractAudioPcm does (sample k at k / rate).
  const branches = rates.map((_, i) => `[s${i}]aresample=async=1:first_pts=0[a${i}]`);
  const args = ['-hide_banner', '-nostats', '-loglevel', 'error', '-nostdin', '-i', path.resolve(filePath), '-filter_complex', [split, ...branches].join(';')];
  rates.forEach((rate, i) => args.push('-map', `[a${i}]`, '-ac', '1', '-ar', String(rate), '-f', 'f32le', `pipe:${3 + i}`));
  return args;
}

function toFloat32(bytes: Buffer): Float32Array {
  const usable = bytes.length - (bytes.length % 4);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + usable));
}

function bytesPerSecond(request: FrameRequest, probe: MediaProbe): number {
  const { width, height } = outputSize(probe, request.width);
  const perFrame = width * height * (request.pixFmt === 'gray' ? 1 : 3);
  const rate = request.keyframesOnly ? 1 / ASSUMED_KEYFRAME_SEC : request.fps ?? probe.fps ?? 25;
  return perFrame * rate;
}

/** Walks the shot-keyframe output in time order; a frame may stand for several targets. */
class KeyframeCursor {
  started = false;
  private frames: AsyncIterator<{ time: number; data: Buffer }> | null = null;
  private times: number[] = [];
  private width = 0;
  private size = { width: 0, height: 0 };
  private current: { time: number; data: Buffer } | null = null;
  private lastAsked = Number.NEGATIVE_INFINITY;

  start(frames: AsyncIterable<{ time: number; data: Buffer }> | null, times: number[], width: number, size: { width: number; height: number }): void {
    this.started = true;
    this.frames = frames?.[Symbol.asyncIterator]() ?? null;
    this.times = times;
    this.width = width;
    this.size = size;
  }

  /** The decoded frame for a target time, or null when this cursor cannot serve it. */
  async frameAt(time: number, width: number): Promise<RawFrame | null> {
    const target = this.times.some((t) => Math.abs(t - time) < 1e-6);
    if (!this.frames || width !== this.width || !target || time < this.lastAsked) return null;
    this.lastAsked = time;
    while (!this.current || this.current.time < time - 1e-4) {
      const next = await this.frames.next();
      if (next.done) return null;
      this.current = next.value;
    }
    return { time: this.current.time, data: this.current.data, ...this.size };
  }
}
