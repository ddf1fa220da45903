// One decode at any video length, on real footage: a job with faces and OCR on runs one picture
// ffmpeg and one sound ffmpeg, and the large streams (faces at 960 px RGB, OCR at 960 px grey) are
// read as that decode goes (paced in memory), never spooled for later nor decoded a second time —
// the path the old source took past its spool budget for a long video. The faces and OCR results
// are exactly those of each stage run on its own, with a decode of its own, on the stored shots.
// Footage: ../shared/data's burned-subtitle clip (people, Chinese subtitles) with a LibriSpeech
// utterance as its sound, muxed by construction and cached in the temp folder.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { DECODES_ARTIFACT } from '../../src/indexers/pipeline.js';
import { facesStage } from '../../src/indexers/faces.js';
import { ocrStage } from '../../src/indexers/ocr.js';
import type { StageContext } from '../../src/indexers/stage.js';
import { watchToolSpawns } from '../../src/media/process.js';
import type { SourceStats } from '../../src/media/source.js';
import { runFfmpeg } from '../helpers/media.js';
import { sharedData } from '../helpers/shared-data.js';

const footage = sharedData('derived/burned_subs/tos_clip_zh_burned.mp4');
const speech = sharedData('speech_speakers/librispeech_test-other/2609/2609-156975-0002.flac');

async function clipWithSound(): Promise<string> {
  const dir = path.join(os.tmpdir(), 'vidsearch-one-decode-real');
  const file = path.join(dir, 'tos_burned_speech.mp4');
  if (existsSync(file)) return file;
  await mkdir(dir, { recursive: true });
  const partial = `${file}.${process.pid}.mp4`;
  await runFfmpeg(['-y', '-i', footage!, '-i', speech!, '-map', '0:v:0', '-map', '1:a:0', '-c:v', 'copy', '-c:a', 'aac', '-shortest', partial]);
  await import('node:fs/promises').then((fs) => fs.rename(partial, file));
  return file;
}

describe.skipIf(!footage || !speech)('a whole job on real footage', () => {
  let dataDir = '';
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('decodes the picture and the sound once, never spools faces or OCR, and matches each stage run alone', async () => {
    const clip = await clipWithSound();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-one-decode-'));
    const base = loadConfig({ VIDSEARCH_MEDIA_ROOTS: path.dirname(clip) });
    // The stages that read the large streams, and one that reads the sound (the rest are covered by
    // one-decode-real.test.ts; leaving them out keeps this test cheap).
    const config = { ...base, dataDir, indexing: { ...base.indexing, enrichmentStages: ['faces', 'ocr', 'fingerprints'] } };
    const app = await createApp(config, { log: createLogger('silent') });
    const runs: string[][] = [];
    const stop = watchToolSpawns((command, args) => {
      if (command === app.media.ffmpeg) runs.push([...args]);
    });
    try {
      const video = await app.indexNow({ path: clip });
      stop();
      expect(runs.filter((a) => a.some((x) => x.includes('0:v:0')))).toHaveLength(1);
      expect(runs.filter((a) => a.some((x) => x.includes('0:a:0')))).toHaveLength(1);
      const { store } = app;
      const decodes = (await store.catalog.getArtifact<SourceStats>(video.id, DECODES_ARTIFACT))!;
      expect(decodes).toMatchObject({ videoDecodes: 1, audioDecodes: 1, pacedOutputs: 2 });

      const inJob = {
        faces: await store.catalog.getArtifact<Record<string, unknown>>(video.id, 'faces'),
        ocr: await store.catalog.getArtifact<Record<string, unknown>>(video.id, 'ocr'),
        tracks: (await store.appearances.getTracksOfVideo(video.id)).map((t) => [t.shotIndex, t.start, t.end, t.faceCount, t.actorId]),
        cues: (await store.catalog.getCues(video.id)).filter((c) => c.source === 'OCR').map((c) => [c.kind, c.start, c.end, c.text, c.segmentId]),
      };
      expect(inJob.faces).not.toHaveProperty('failed');
      expect(inJob.ocr).not.toHaveProperty('failed');
      expect(inJob.tracks.length).toBeGreaterThan(0);
      expect(inJob.cues.length).toBeGreaterThan(0);

      // Each stage on its own (no shared source: a decode of its own), on the shots the job stored.
      const ctx: StageContext = {
        video, store, media: app.media, config, log: createLogger('silent'), signal: new AbortController().signal, reportProgress: () => undefined,
      };
      expect(await facesStage.run(ctx, undefined)).toEqual(inJob.faces);
      expect(await ocrStage.run(ctx, undefined)).toEqual(inJob.ocr);
      expect((await store.appearances.getTracksOfVideo(video.id)).map((t) => [t.shotIndex, t.start, t.end, t.faceCount, t.actorId])).toEqual(inJob.tracks);
      expect((await store.catalog.getCues(video.id)).filter((c) => c.source === 'OCR').map((c) => [c.kind, c.start, c.end, c.text, c.segmentId])).toEqual(inJob.cues);
    } finally {
      stop();
      await app.close();
    }
  }, 600_000);
});
