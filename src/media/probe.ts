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

export interface FfprobeStream {
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

export interface FfprobeOutput {
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
  const timeoutMs = opts.timeoutMs ?? 20_000;
  let stdout: Buffer;
  try {
    stdout = await runTool(
      tools.ffprobe,
      // Absolute, so a name starting with "-" is never read as an option.
      ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path.resolve(filePath)],
      { timeoutMs, signal: opts.signal },
    );
  } catch (err) {
    if (!(err instanceof MediaProcessError)) throw err;
    // ffprobe crashed (the shipped static build segfaults on MPEG-TS): ask ffmpeg instead.
    if (err.exitCode === null && !err.timedOut) return interpretProbe(filePath, await probeWithFfmpeg(tools, filePath, { timeoutMs, signal: opts.signal }));
    const reason = err.timedOut ? 'ffprobe timed out' : (err.stderr.trim().split('\n').pop() ?? err.message);
    throw new UnsupportedMediaError(`${filePath} cannot be read as media: ${reason}`);
  }
  let data: FfprobeOutput;
  try {
    data = JSON.parse(stdout.toString('utf8')) as FfprobeOutput;
  } catch {
    throw new UnsupportedMediaError(`${filePath} cannot be read as media: ffprobe printed no JSON`);
  }
  return interpretProbe(filePath, data);
}

const CHANNELS_BY_LAYOUT: Record<string, number> = { mono: 1, stereo: 2, '2.1': 3, quad: 4, '4.0': 4, '5.0': 5, '5.1': 6, '6.1': 7, '7.1': 8 };

/** ffmpeg's input summary ("Input #0 … Duration … Stream #0:0 …") in ffprobe's JSON shape. */
export function parseFfmpegInputInfo(stderr: string): FfprobeOutput {
  const input = /^Input #0, ([^,]+(?:,[^,\s]+)*), from/m.exec(stderr);
  if (!input) return {};
  const format: NonNullable<FfprobeOutput['format']> = { format_name: input[1] };
  const header = /Duration: ([\d:.]+|N\/A)(?:, start: (-?[\d.]+))?/.exec(stderr);
  if (header?.[1] && header[1] !== 'N/A') {
    const [h, m, sec] = header[1].split(':').map(Number);
    format.duration = String((h ?? 0) * 3600 + (m ?? 0) * 60 + (sec ?? 0));
  }
  if (header?.[2]) format.start_time = header[2];
  const streams: FfprobeStream[] = [];
  const lines = stderr.split('\n');
  lines.forEach((line, i) => {
    const m = /Stream #0:(\d+)(?:\[[^\]]*\])?(?:\((\w+)\))?: (Video|Audio|Subtitle|Data|Attachment): (\w+)(.*)$/.exec(line);
    if (!m) return;
    const rest = m[5] ?? '';
    const stream: FfprobeStream = { index: Number(m[1]), codec_type: m[3]!.toLowerCase(), codec_name: m[4], tags: m[2] ? { language: m[2] } : {} };
    if (/\(attached pic\)/.test(rest)) stream.disposition = { attached_pic: 1 };
    const size = /, (\d{2,5})x(\d{2,5})/.exec(rest);
    if (size) [stream.width, stream.height] = [Number(size[1]), Number(size[2])];
    const fps = /, ([\d.]+)k? fps/.exec(rest);
    const tbr = /, ([\d.]+)k? tbr/.exec(rest);
    if (fps) stream.avg_frame_rate = fps[1];
    if (tbr ?? fps) stream.r_frame_rate = (tbr ?? fps)![1];
    const hz = /, (\d+) Hz, ([^,]+)/.exec(rest);
    if (hz) {
      stream.sample_rate = hz[1];
      const layout = hz[2]!.trim().replace(/\(.*\)$/, '');
      stream.channels = CHANNELS_BY_LAYOUT[layout] ?? Number(/(\d+) channels/.exec(layout)?.[1] ?? 0);
    }
    // Metadata and side data follow on indented lines until the next stream.
    for (let j = i + 1; j < lines.length && !/Stream #0:/.test(lines[j]!) && !/^\S/.test(lines[j]!); j++) {
      const rotate = /^\s+rotate\s+: (-?\d+)/.exec(lines[j]!);
      if (rotate) stream.tags!.rotate = rotate[1]!;
      const matrix = /displaymatrix: rotation of (-?[\d.]+) degrees/.exec(lines[j]!);
      if (matrix) stream.side_data_list = [{ side_data_type: 'Display Matrix', rotation: Number(matrix[1]) }];
      const title = /^\s+title\s+: (.+)$/.exec(lines[j]!);
      if (title) stream.tags!.title = title[1]!.trim();
    }
    streams.push(stream);
  });
  return { streams, format };
}

async function probeWithFfmpeg(tools: MediaTools, filePath: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<FfprobeOutput> {
  let stderr = '';
  try {
    // With no output file ffmpeg prints the input summary and exits with an error: expected.
    await runTool(tools.ffmpeg, ['-hide_banner', '-nostdin', '-i', path.resolve(filePath)], { ...opts, onStderrLine: (line) => void (stderr += `${line}\n`) });
  } catch (err) {
    if (!(err instanceof MediaProcessError) || err.timedOut || err.exitCode === null) {
      throw new UnsupportedMediaError(`${filePath} cannot be read as media: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const data = parseFfmpegInputInfo(stderr);
  if (!data.streams) throw new UnsupportedMediaError(`${filePath} cannot be read as media: ${stderr.trim().split('\n').pop() ?? 'unknown format'}`);
  return data;
}

/** sha256 of the file's bytes, streamed (videos are large). */
export async function contentHash(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
