import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { userMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { createJobProgressBar, type JobProgressBar } from './progress.js';

const VIDEO_EXTENSIONS = new Set(['.mp4', '.mkv', '.mov', '.avi', '.webm', '.m4v', '.ts', '.mpg', '.mpeg', '.flv', '.wmv']);

async function videoFiles(target: string): Promise<string[]> {
  const info = await stat(target);
  if (!info.isDirectory()) return [target];
  const entries = await readdir(target, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && VIDEO_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** Indexes each file in turn; prints one JSON line per video to stdout. Returns the exit code. */
export async function indexCommand(
  config: Config,
  log: Logger,
  target: string,
  meta: { title?: string; series?: string; season?: number; episode?: number },
): Promise<number> {
  const files = await videoFiles(path.resolve(target));
  if (files.length === 0) {
    process.stderr.write(`vidsearch: no video files under ${target}\n`);
    return 1;
  }
  let bar: JobProgressBar | null = null;
  // Loaded only now: the app pulls in every model runtime, seconds to find out that a path is wrong.
  const { createApp } = await import('../app.js');
  const app = await createApp(config, { log, runnerEvents: { onProgress: (job) => bar?.update(job) } });
  let failures = 0;
  try {
    for (const file of files) {
      bar = createJobProgressBar(path.basename(file));
      try {
        const video = await app.indexNow({
          path: file,
          // A title only makes sense for a single file; a folder keeps each file's own name.
          title: files.length === 1 ? (meta.title ?? null) : null,
          series: meta.series ?? null,
          season: meta.season ?? null,
          episode: files.length === 1 ? (meta.episode ?? null) : null,
        });
        bar.stop();
        const segments = await app.store.catalog.getSegmentsOfVideo(video.id);
        process.stdout.write(`${JSON.stringify({ id: video.id, path: video.path, durationSec: video.durationSec, segments: segments.length })}\n`);
      } catch (err) {
        bar.stop();
        failures += 1;
        process.stderr.write(`vidsearch: ${file}: ${userMessage(err)}\n`);
      }
    }
  } finally {
    await app.close();
  }
  return failures === 0 ? 0 : 1;
}
