// Issue 20: one picture decode and one sound decode per video. A short clip of real footage
// (the first 7.5 s of ../shared/data's GRID montage: real faces and speech, cuts at 3 s and 6 s)
// is indexed with every stage on; the shot-aware stages (objects, nsfw, quality) read the shot
// keyframes that decode kept, so ffmpeg decodes the picture stream once, with no per-shot seek.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { DECODES_ARTIFACT } from '../../src/indexers/pipeline.js';
import { createLogger } from '../../src/logger.js';
import { watchToolSpawns } from '../../src/media/process.js';
import type { SourceStats } from '../../src/media/source.js';
import { makeTempDir, runFfmpeg } from '../helpers/media.js';
import { sharedData } from '../helpers/shared-data.js';

const montage = sharedData('derived/grid_montage.mp4');
const temps: { cleanup(): Promise<void> }[] = [];

afterAll(async () => {
  for (const temp of temps) await temp.cleanup();
});

/** The clip, cut without re-encoding (the real stream as it is), cached in the temp folder. */
async function realClip(source: string): Promise<string> {
  const clip = path.join(os.tmpdir(), 'vidsearch-one-decode-grid-7.5s.mp4');
  if (!existsSync(clip)) {
    const part = `${clip}.${process.pid}.part.mp4`;
    await runFfmpeg(['-y', '-i', source, '-t', '7.5', '-map', '0:v:0', '-map', '0:a:0', '-c', 'copy', part]);
    await import('node:fs/promises').then((fs) => fs.rename(part, clip));
  }
  return clip;
}

describe.skipIf(!montage)('indexing real footage with every stage on', () => {
  it('decodes the picture stream once and the sound once, and every shot-aware stage gets its keyframes', async () => {
    const clip = await realClip(montage!);
    const temp = await makeTempDir('vidsearch-one-decode-');
    temps.push(temp);
    const base = loadConfig({});
    const config = { ...base, dataDir: path.join(temp.dir, 'store'), mediaRoots: [path.dirname(clip)], indexing: { ...base.indexing, enrichmentStages: null } };
    const app = await createApp(config, { log: createLogger('silent') });
    const runs: string[][] = [];
    const stop = watchToolSpawns((command, args) => {
      if (command === app.media.ffmpeg) runs.push([...args]);
    });
    try {
      const video = await app.indexNow({ path: clip });
      const pictures = runs.filter((a) => a.some((x) => x.includes('0:v:0')));
      const sound = runs.filter((a) => a.some((x) => x.includes('0:a:0')));
      expect(pictures).toHaveLength(1);
      expect(sound).toHaveLength(1);
      expect(pictures.filter((a) => a.includes('-frames:v') || a.includes('-skip_frame'))).toEqual([]);
      const decodes = await app.store.catalog.getArtifact<SourceStats>(video.id, DECODES_ARTIFACT);
      expect(decodes).toMatchObject({ videoDecodes: 1, frameSeeks: 0, audioDecodes: 1 });
      expect(decodes!.keyframeCandidateBytes).toBeGreaterThan(0);

      const shots = await app.store.catalog.getShots(video.id);
      expect(shots.length).toBeGreaterThanOrEqual(3);
      const objects = await app.store.catalog.getArtifact<{ skipped: string | null; keyframes: number; failedKeyframes: number }>(video.id, 'objects');
      expect(objects).toMatchObject({ skipped: null, keyframes: shots.length, failedKeyframes: 0 });
      const quality = await app.store.catalog.getArtifact<{ shots: number }>(video.id, 'quality');
      expect(quality?.shots).toBe(shots.length);
      const nsfw = await app.store.catalog.getArtifact<{ skipped: string | null; frames: number }>(video.id, 'nsfw');
      expect(nsfw?.skipped).toBeNull();
      expect(nsfw!.frames).toBeGreaterThanOrEqual(shots.length);
    } finally {
      stop();
      await app.close();
    }
  }, 240_000);
});
