// ffprobe → the facts the pipeline needs about a file: display size and rotation, frame rate
// (and whether it varies), the media timeline's start, audio and subtitle streams.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { UnsupportedMediaError } from '../errors.js';
import { MediaProcessError, runTool } from './process.js';
import type { MediaTools } from './tools.js';

export interface MediaProbe {
  durationSec: number;
  /** The video stream's own duration when the file states it (audio may run longer). */
  videoDurationSec?: number | null;
  fps: number;
  /** Displayed size: width and height are swapped for 90/270 rotation. */
  width: number;
  height: number;
  rotation: number;
  /** format.start_time: media times are PTS minus this. */
  startTime: number;
  hasVideo: boolean;
  hasAudio: boolean;
  variableFrameRate: boolean;
  formatName: string;
  videoCodec: string | null;
  audioStreams: { index: number; codec: string; channels: number; sampleRate: number; lang: string | null }[];
  subtitleStreams: { index: number; codec: string; lang: string | null; title: string | null }[];
}

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  duration?: string;
  channels?: number;
  sample_rate?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: { side_data_type?: string; rotation?: number }[];
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string; start_time?: string };
}

// Demuxers that read one still picture: a photo is not a video.
const STILL_IMAGE_FORMATS = /^(image2|.*_pipe|webp|bmp|tiff?)$/;

function num(value: string | number | undefined): number | null {
  if (value === undefined || value === 'N/A') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** "30000/1001" → 29.97; "0/0" → null. */
export function parseRate(rate: string | undefined): number | null {
  if (!rate) return null;
  const [a, b] = rate.split('/').map(Number);
  if (a === undefined || !Number.isFinite(a)) return null;
  const value = b === undefined ? a : b === 0 ? NaN : a / b;
  return Number.isFinite(value) && value > 0 ? value : null;
}

/** Matroska keeps stream durations as a "HH:MM:SS.nnnnnnnnn" tag. */
function tagDuration(tags: Record<string, string> | undefined): number | null {
  const raw = tags?.DURATION ?? tags?.duration;
  const m = raw?.match(/^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null;
}

function streamDuration(stream: FfprobeStream): number | null {
  return num(stream.duration) ?? tagDuration(stream.tags);
}

/** Display rotation in 0/90/180/270; the display matrix angle is counter-clockwise, the tag clockwise. */
function rotationOf(stream: FfprobeStream): number {
  const matrix = stream.side_data_list?.find((s) => typeof s.rotation === 'number');
  const degrees = matrix?.rotation !== undefined ? -matrix.rotation : (num(stream.tags?.rotate) ?? 0);
  const snapped = Math.round(degrees / 90) * 90;
  return ((snapped % 360) + 360) % 360;
}

function lang(tags: Record<string, string> | undefined): string | null {
  const value = tags?.language ?? tags?.LANGUAGE;
  return value && value !== 'und' ? value : null;
}

/** Turns ffprobe's JSON into a MediaProbe (exported for tests with hand-made ffprobe output). */
export function interpretProbe(filePath: string, data: FfprobeOutput): MediaProbe {
  const streams = data.streams ?? [];
  const formatName = data.format?.format_name ?? 'unknown';
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video || STILL_IMAGE_FORMATS.test(formatName)) {
    throw new UnsupportedMediaError(`${filePath} has no video stream`);
  }
  const rotation = rotationOf(video);
  const codedWidth = video.width ?? 0;
  const codedHeight = video.height ?? 0;
  if (codedWidth <= 0 || codedHeight <= 0) throw new UnsupportedMediaError(`${filePath}: the video stream has no picture size`);
  const sideways = rotation === 90 || rotation === 270;

  const realRate = parseRate(video.r_frame_rate);
  const averageRate = parseRate(video.avg_frame_rate);
  // r_frame_rate is the lowest rate that represents every timestamp; on variable-rate files it
  // differs from the average (exactly 2× is interlaced field rate, still constant).
  const variableFrameRate =
    realRate !== null && averageRate !== null && Math.abs(realRate - averageRate) / averageRate > 0.01 && Math.abs(realRate / averageRate - 2) > 0.01;
  const fps = averageRate ?? realRate ?? 0;

  const durationSec =
    num(data.format?.duration) ?? streamDuration(video) ?? Math.max(0, ...streams.map((s) => streamDuration(s) ?? 0));
  const audio = streams.filter((s) => s.codec_type === 'audio');
  return {
    durationSec,
    videoDurationSec: streamDuration(video),
    fps,
    width: sideways ? codedHeight : codedWidth,
    height: sideways ? codedWidth : codedHeight,
    rotation,
    startTime: num(data.format?.start_time) ?? 0,
    hasVideo: true,
    hasAudio: audio.length > 0,
    variableFrameRate,
    formatName,
    videoCodec: video.codec_name ?? null,
    audioStreams: audio.map((s) => ({
      index: s.index,
      codec: s.codec_name ?? 'unknown',
      channels: s.channels ?? 0,
      sampleRate: num(s.sample_rate) ?? 0,
      lang: lang(s.tags),
    })),
    subtitleStreams: streams
      .filter((s) => s.codec_type === 'subtitle')
      .map((s) => ({ index: s.index, codec: s.codec_name ?? 'unknown', lang: lang(s.tags), title: s.tags?.title ?? null })),
  };
}

/**
 * Probes a file. Throws UnsupportedMediaError when ffprobe cannot read it (zero bytes, text,
 * truncated header, timeout) or it has no video stream (audio only, a still picture).
 */
export async function probeMedia(
  tools: MediaTools,
  filePath: string,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<MediaProbe> {
  let stdout: Buffer;
  try {
    stdout = await runTool(
      tools.ffprobe,
      // Absolute, so a name starting with "-" is never read as an option.
      ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path.resolve(filePath)],
      { timeoutMs: opts.timeoutMs ?? 20_000, signal: opts.signal },
    );
  } catch (err) {
    if (err instanceof MediaProcessError) {
      const reason = err.timedOut ? 'ffprobe timed out' : (err.stderr.trim().split('\n').pop() ?? err.message);
      throw new UnsupportedMediaError(`${filePath} cannot be read as media: ${reason}`);
    }
    throw err;
  }
  let data: FfprobeOutput;
  try {
    data = JSON.parse(stdout.toString('utf8')) as FfprobeOutput;
  } catch {
    throw new UnsupportedMediaError(`${filePath} cannot be read as media: ffprobe printed no JSON`);
  }
  return interpretProbe(filePath, data);
}

/** sha256 of the file's bytes, streamed (videos are large). */
export async function contentHash(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
