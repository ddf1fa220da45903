// Which ffmpeg/ffprobe binaries to run: VIDSEARCH_FFMPEG / VIDSEARCH_FFPROBE win, else the
// binaries shipped in @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe.
import { createRequire } from 'node:module';
import type { Config } from '../config.js';

export interface MediaTools {
  ffmpeg: string;
  ffprobe: string;
}

const require = createRequire(import.meta.url);

function shipped(pkg: string): string {
  return (require(pkg) as { path: string }).path;
}

export function resolveMediaTools(config: Pick<Config, 'ffmpegPath' | 'ffprobePath'>): MediaTools {
  return {
    ffmpeg: config.ffmpegPath ?? shipped('@ffmpeg-installer/ffmpeg'),
    ffprobe: config.ffprobePath ?? shipped('@ffprobe-installer/ffprobe'),
  };
}
