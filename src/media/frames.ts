// Decoded pictures and sound from ffmpeg through pipes: raw frame streams at a chosen rate and
// size (or keyframes only), single frames for thumbnails, and mono PCM for the audio stages.
// Frame times come from ffmpeg's showinfo filter, so they are true presentation times on the
// media timeline (PTS − format start_time) even for variable-rate files and keyframe-only decodes.
import path from 'node:path';
import { probeMedia, type MediaProbe } from './probe.js';
import { MediaProcessError, runTool, streamToolRecords } from './process.js';
import type { MediaTools } from './tools.js';

export type PixelFormat = 'gray' | 'rgb24';

export interface RawFrame {
  /** Seconds on the media timeline. */
  time: number;
  data: Buffer;
  width: number;
  height: number;
}

export interface StreamFramesOptions {
  /** Frames per second to sample; omitted → every decoded frame. */
  fps?: number;
  /** Decode keyframes only (fast scan); `fps` is then ignored. */
  keyframesOnly?: boolean;
  width: number;
  /** Omitted → keeps the displayed aspect ratio (rounded to an even number). */
  height?: number;
  /**
   * A second, smaller size: the frame scaled to `width` (area) is resized again to this width by
   * lanczos in RGB, then converted to `pixFmt` — what sharp's default resize of that frame would
   * give, within a grey level on average, without piping the larger frames out.
   */
  finalWidth?: number;
  pixFmt: PixelFormat;
  start?: number;
  end?: number;
  signal?: AbortSignal;
  /** The file's probe when the caller already has it (saves one ffprobe run). */
  probe?: MediaProbe;
  /**
   * Fail with MediaDecodeError when the decoder reports damaged data after the first frame, or
   * the frames stop well before the stated end: a file that probes fine but is corrupt mid-way.
   */
  strict?: boolean;
}

/** The file decoded badly part-way (damaged data, truncated stream). */
export class MediaDecodeError extends Error {
  override name = 'MediaDecodeError';
  constructor(
    message: string,
    /** Media time of the last good frame before the damage. */
    readonly atSec: number,
  ) {
    super(message);
  }
}

const BYTES_PER_PIXEL: Record<PixelFormat, number> = { gray: 1, rgb24: 3 };
const SHOWINFO = /Parsed_showinfo_\d+ @ [^\]]+\]\s+n:\s*\d+\s+pts:\s*-?\d+\s+pts_time:\s*(-?[\d.]+(?:e[-+]?\d+)?)/;
// Decoder complaints such as "[h264 @ 0x…] error while decoding MB 3 4" or "Invalid NAL unit size".
const DECODER_ERROR = /^\[(?!Parsed_)[\w-]+ @ 0x[0-9a-f]+\].*(error|invalid|corrupt|conceal|truncat)/i;
const ALLOWED_MISSING_TAIL_SEC = 1.0;

function even(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}

/** Output size for a requested width (and optional height), keeping the displayed aspect. */
export function outputSize(probe: Pick<MediaProbe, 'width' | 'height'>, width: number, height?: number): { width: number; height: number } {
  const w = even(width);
  return { width: w, height: height !== undefined ? even(height) : even((w * probe.height) / probe.width) };
}

/** The second size of StreamFramesOptions.finalWidth: the aspect of the first, rounded as sharp rounds a resize. */
function finalSize(scaled: { width: number; height: number }, finalWidth: number): { width: number; height: number } {
  return { width: finalWidth, height: Math.max(1, Math.round((scaled.height * finalWidth) / scaled.width)) };
}

/** Frame times from showinfo lines, handed out in order as the frames arrive on stdout. */
class FrameTimeQueue {
  private readonly times: number[] = [];
  private waiter: (() => void) | null = null;
  private closed = false;

  push(time: number): void {
    this.times.push(time);
    this.wake();
  }
  close(): void {
    this.closed = true;
    this.wake();
  }
  /** The next frame's PTS in seconds, or null when ffmpeg ended without printing it. */
  async next(): Promise<number | null> {
    while (this.times.length === 0 && !this.closed) {
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    return this.times.shift() ?? null;
  }
  private wake(): void {
    const resolve = this.waiter;
    this.waiter = null;
    resolve?.();
  }
}

export async function* streamFrames(tools: MediaTools, filePath: string, opts: StreamFramesOptions): AsyncGenerator<RawFrame> {
  const probe = opts.probe ?? (await probeMedia(tools, filePath, { signal: opts.signal }));
  const scaled = outputSize(probe, opts.width, opts.height);
  const { width, height } = opts.finalWidth ? finalSize(scaled, opts.finalWidth) : scaled;
  const start = Math.max(0, opts.start ?? 0);
  const end = opts.end ?? Number.POSITIVE_INFINITY;

  const filters: string[] = [];
  if (!opts.keyframesOnly && opts.fps) filters.push(`fps=${opts.fps}`);
  // showinfo for the frame times only: its per-plane checksums cost a sixth of a decode's CPU.
  filters.push(`scale=${scaled.width}:${scaled.height}:flags=area`);
  if (opts.finalWidth) filters.push('format=rgb24', `scale=${width}:${height}:flags=lanczos`);
  filters.push(`format=${opts.pixFmt}`, 'showinfo=checksum=0');
  const args = ['-hide_banner', '-nostats', '-loglevel', 'info', '-nostdin'];
  if (opts.keyframesOnly) args.push('-skip_frame', 'nokey');
  // -copyts keeps original timestamps, so showinfo's pts_time − start_time is the media time.
  if (start > 0) args.push('-ss', String(start));
  args.push('-copyts', '-i', path.resolve(filePath), '-map', '0:v:0', '-an', '-sn', '-dn', '-vf', filters.join(','));
  args.push('-vsync', '0', '-f', 'rawvideo', '-pix_fmt', opts.pixFmt, 'pipe:1');

  const times = new FrameTimeQueue();
  let lastTime = start;
  let framesSeen = 0;
  let decodeProblem: { message: string; at: number } | null = null;
  const frameBytes = width * height * BYTES_PER_PIXEL[opts.pixFmt];
  const records = streamToolRecords(tools.ffmpeg, args, frameBytes, {
    signal: opts.signal,
    onStderrLine(line) {
      const shown = SHOWINFO.exec(line);
      if (shown) return times.push(Number(shown[1]) - probe.startTime);
      if (!decodeProblem && framesSeen > 0 && DECODER_ERROR.test(line)) decodeProblem = { message: line.trim(), at: lastTime };
    },
    onClose: () => times.close(),
  });
  const stepSec = 1 / (opts.fps || probe.fps || 25);
  try {
    for await (const data of records) {
      const time = (await times.next()) ?? lastTime + stepSec;
      framesSeen += 1;
      lastTime = time;
      if (opts.strict && decodeProblem) break;
      if (time < start - 1e-6) continue;
      if (time > end) return;
      yield { time, data, width, height };
    }
  } catch (err) {
    if (opts.strict && err instanceof MediaProcessError) {
      throw new MediaDecodeError(`decoding failed after ${lastTime.toFixed(2)} s: ${err.message}`, lastTime);
    }
    throw err;
  }
  if (!opts.strict) return;
  const problem = decodeProblem as { message: string; at: number } | null;
  if (problem) throw new MediaDecodeError(`damaged data after ${problem.at.toFixed(2)} s: ${problem.message}`, problem.at);
  const statedEnd = Math.min(end, probe.videoDurationSec ?? probe.durationSec);
  if (!opts.keyframesOnly && framesSeen === 0) throw new MediaDecodeError('no frame could be decoded', start);
  if (!opts.keyframesOnly && Number.isFinite(statedEnd) && statedEnd - lastTime > ALLOWED_MISSING_TAIL_SEC + stepSec) {
    throw new MediaDecodeError(`frames stop at ${lastTime.toFixed(2)} s of ${statedEnd.toFixed(2)} s (truncated or damaged)`, lastTime);
  }
}

export type StillFormat = 'jpeg' | 'png';

/**
 * One frame at `time` (accurate seek), scaled to `width` keeping the aspect. JPEG/PNG give the
 * encoded picture; rgb24 gives raw pixels with their size.
 */
export async function extractFrame(
  tools: MediaTools,
  filePath: string,
  time: number,
  opts: { width?: number; format: StillFormat; signal?: AbortSignal },
): Promise<Buffer>;
export async function extractFrame(
  tools: MediaTools,
  filePath: string,
  time: number,
  opts: { width?: number; format: 'rgb24'; signal?: AbortSignal },
): Promise<RawFrame>;
export async function extractFrame(
  tools: MediaTools,
  filePath: string,
  time: number,
  opts: { width?: number; format: StillFormat | 'rgb24'; signal?: AbortSignal },
): Promise<Buffer | RawFrame> {
  const args = ['-hide_banner', '-nostats', '-loglevel', 'error', '-nostdin', '-ss', String(Math.max(0, time)), '-i', path.resolve(filePath)];
  args.push('-map', '0:v:0', '-frames:v', '1', '-an', '-sn', '-dn');
  if (opts.format === 'rgb24') {
    const probe = await probeMedia(tools, filePath, { signal: opts.signal });
    const size = outputSize(probe, opts.width ?? probe.width);
    args.push('-vf', `scale=${size.width}:${size.height}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
    const data = await runTool(tools.ffmpeg, args, { signal: opts.signal, timeoutMs: 60_000 });
    if (data.length !== size.width * size.height * 3) throw new MediaProcessError(`no frame at ${time} s in ${filePath}`, 0, '');
    return { time, data, width: size.width, height: size.height };
  }
  if (opts.width) args.push('-vf', `scale=${even(opts.width)}:-2`);
  if (opts.format === 'jpeg') args.push('-f', 'image2pipe', '-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-q:v', '3', 'pipe:1');
  else args.push('-f', 'image2pipe', '-c:v', 'png', 'pipe:1');
  const data = await runTool(tools.ffmpeg, args, { signal: opts.signal, timeoutMs: 60_000 });
  if (data.length === 0) throw new MediaProcessError(`no frame at ${time} s in ${filePath}`, 0, '');
  return data;
}

export interface AudioPcmOptions {
  sampleRate: number;
  channels: 1;
  signal?: AbortSignal;
  /** Which audio stream (0 = first). */
  streamIndex?: number;
}

function pcmArgs(filePath: string, opts: AudioPcmOptions): string[] {
  return [
    '-hide_banner', '-nostats', '-loglevel', 'error', '-nostdin', '-i', path.resolve(filePath),
    '-map', `0:a:${opts.streamIndex ?? 0}`, '-vn', '-sn', '-dn',
    // Pads with silence from the media start, so sample k is at time k / sampleRate on the
    // media timeline even when the audio stream starts late.
    '-af', 'aresample=async=1:first_pts=0',
    '-ac', String(opts.channels), '-ar', String(opts.sampleRate), '-f', 'f32le', 'pipe:1',
  ];
}

function toFloat32(bytes: Buffer): Float32Array {
  // A fresh, aligned copy: Buffer offsets inside Node's pool need not be multiples of 4.
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length - (bytes.length % 4)));
}

/** Mono float PCM in chunks of `chunkSamples` (any channel layout is downmixed, any rate resampled). */
export async function* streamAudioPcm(
  tools: MediaTools,
  filePath: string,
  opts: AudioPcmOptions & { chunkSamples?: number },
): AsyncGenerator<Float32Array> {
  const chunkBytes = (opts.chunkSamples ?? opts.sampleRate) * 4;
  for await (const chunk of streamToolRecords(tools.ffmpeg, pcmArgs(filePath, opts), chunkBytes, { signal: opts.signal, allowPartialTail: true })) {
    yield toFloat32(chunk);
  }
}

/** The whole audio track as one mono Float32Array at `sampleRate`. */
export async function extractAudioPcm(tools: MediaTools, filePath: string, opts: AudioPcmOptions): Promise<Float32Array> {
  const chunks: Float32Array[] = [];
  let total = 0;
  for await (const chunk of streamAudioPcm(tools, filePath, opts)) {
    chunks.push(chunk);
    total += chunk.length;
  }
  const pcm = new Float32Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    pcm.set(chunk, offset);
    offset += chunk.length;
  }
  return pcm;
}
