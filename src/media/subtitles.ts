// Embedded subtitle streams → SRT text through ffmpeg's pipe (times come out on the media
// timeline: ffmpeg subtracts the file's start time). Picture-based formats cannot become text.
import path from 'node:path';
import { runTool } from './process.js';
import type { MediaTools } from './tools.js';

/** Subtitle codecs that are bitmaps: they need OCR, not a text conversion. */
const IMAGE_SUBTITLE_CODECS = new Set(['hdmv_pgs_subtitle', 'dvd_subtitle', 'dvb_subtitle', 'xsub', 'dvb_teletext']);

export function isImageSubtitleCodec(codec: string): boolean {
  return IMAGE_SUBTITLE_CODECS.has(codec);
}

/** The stream with absolute index `streamIndex` as SRT text (UTF-8). */
export async function extractSubtitleStream(
  tools: MediaTools,
  filePath: string,
  streamIndex: number,
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<string> {
  const args = ['-hide_banner', '-nostats', '-loglevel', 'error', '-nostdin', '-i', path.resolve(filePath), '-map', `0:${streamIndex}`, '-f', 'srt', 'pipe:1'];
  const srt = await runTool(tools.ffmpeg, args, { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 120_000 });
  return srt.toString('utf8');
}
