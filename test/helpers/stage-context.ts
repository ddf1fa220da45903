// A stage context for one real media file on a store (fake or real): the video is probed and put in the
// catalog, logging is silent and nothing aborts.
import { pino } from 'pino';
import type { VideoRecord } from '../../src/domain.js';
import { loadConfig } from '../../src/config.js';
import type { StageContext } from '../../src/indexers/stage.js';
import { probeMedia } from '../../src/media/probe.js';
import { resolveMediaTools } from '../../src/media/tools.js';
import type { Store } from '../../src/store/interfaces.js';
import { makeVideo } from './fake-store.js';

export async function stageContextFor(file: string, store: Store): Promise<StageContext> {
  const probe = await probeMedia(resolveMediaTools({ ffmpegPath: null, ffprobePath: null }), file);
  const video = makeVideo({ path: file, durationSec: probe.durationSec, width: probe.width, height: probe.height, fps: probe.fps, status: 'INDEXING' });
  await store.catalog.putVideo(video);
  return stageContextOf(video, store);
}

/** A stage context for a video already in the store's catalog (no media probed). */
export function stageContextOf(video: VideoRecord, store: Store): StageContext {
  return {
    video,
    store,
    media: resolveMediaTools({ ffmpegPath: null, ffprobePath: null }),
    config: loadConfig({}, process.cwd()),
    log: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    reportProgress: () => undefined,
  };
}
