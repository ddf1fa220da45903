// Clip export with ffmpeg: cut [start, end) of a video into an MP4. Stream copy (no re-encoding,
// fast and lossless) is only exact when the cut starts on a video keyframe, so callers first ask
// where the keyframes near the start are.
import path from 'node:path';
import { runTool } from './process.js';
import type { MediaTools } from './tools.js';

/** How a clip's video was made: copied packets, or decoded and encoded again (H.264). */
export type ClipMethod = 'STREAM_COPY' | 'REENCODE';

export interface CutClipOptions {
  /** Seconds on the media timeline (PTS minus the file's start time). */
  start: number;
  end: number;
  method: ClipMethod;
  /** Copy the audio as it is (its codec fits MP4); otherwise it is encoded to AAC. */
  copyAudio: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Video keyframe times (media timeline) between `from` and `to`. ffprobe reads packets only (no
 * decoding), starting from the keyframe at or before `from`, so this is cheap on long files.
 */
export async function keyframeTimes(
  tools: MediaTools,
  filePath: string,
  range: { from: number; to: number; startTime: number },
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<number[]> {
  // -read_intervals takes file timestamps, so shift by the file's start time.
  const from = Math.max(0, range.from + range.startTime);
  const to = range.to + range.startTime;
  const out = await runTool(
    tools.ffprobe,
    ['-v', 'error', '-select_streams', 'v:0', '-read_intervals', `${from.toFixed(3)}%${to.toFixed(3)}`, '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', path.resolve(filePath)],
    { timeoutMs: opts.timeoutMs ?? 20_000, signal: opts.signal },
  );
  const times: number[] = [];
  for (const line of out.toString('utf8').split('\n')) {
    const [pts, flags] = line.trim().split(',');
    const time = Number(pts);
    if (flags?.startsWith('K') && pts !== 'N/A' && Number.isFinite(time)) times.push(time - range.startTime);
  }
  return times.sort((a, b) => a - b);
}

/** Writes the clip to `output` (MP4, moov atom first so browsers can play it while downloading). */
export async function cutClip(tools: MediaTools, input: string, output: string, opts: CutClipOptions): Promise<void> {
  const duration = (opts.end - opts.start).toFixed(3);
  // -ss before -i: a fast seek; with re-encoding ffmpeg still decodes from the keyframe before
  // and drops frames up to `start`, so the cut is frame-exact either way.
  const args = ['-hide_banner', '-nostats', '-loglevel', 'error', '-nostdin', '-y', '-ss', opts.start.toFixed(3), '-i', path.resolve(input), '-t', duration];
  args.push('-map', '0:v:0', '-map', '0:a:0?', '-sn', '-dn', '-map_metadata', '-1');
  if (opts.method === 'STREAM_COPY') args.push('-c:v', 'copy', '-avoid_negative_ts', 'make_zero');
  else args.push('-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p');
  args.push(...(opts.copyAudio && opts.method === 'STREAM_COPY' ? ['-c:a', 'copy'] : ['-c:a', 'aac', '-b:a', '128k']));
  args.push('-movflags', '+faststart', '-f', 'mp4', output);
  await runTool(tools.ffmpeg, args, { timeoutMs: opts.timeoutMs ?? 600_000, signal: opts.signal });
}
