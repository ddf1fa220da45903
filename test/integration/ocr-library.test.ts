// End to end on the embedded store: a video with burned-in subtitles is indexed through the real
// pipeline, its OCR'd lines are searchable, and keyword moderation flags them from the stored cues
// without a second OCR pass when the lists change.
import { mkdtemp, rm } from 'node:fs/promises';
import os, { availableParallelism } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { VideoRecord } from '../../src/domain.js';
import { sharedOcrPool } from '../../src/models/ocr/pool.js';
import { sharedData } from '../helpers/shared-data.js';

const burned = sharedData('derived/burned_subs/tos_clip_zh_burned.mp4');

describe.skipIf(!burned)('OCR text in the library', () => {
  let app: App;
  let dataDir: string;
  let video: VideoRecord;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-ocr-library-'));
    const config = loadConfig({ VIDSEARCH_DATA_DIR: dataDir, VIDSEARCH_MEDIA_ROOTS: path.dirname(burned!) }, process.cwd());
    app = await createApp(config, { log: pino({ level: 'silent' }) });
    video = await app.indexNow({ path: burned! });
  });

  afterAll(async () => {
    await app?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('finds a burned-in line by search, with the OCR cue and its time', async () => {
    const hits = await app.services.search.searchSegments('打破', null, 5, null);
    const hit = hits.edges.find((e) => e.node.video.id === video.id)?.node;
    expect(hit?.cue).toMatchObject({ source: 'OCR', kind: 'SUBTITLE', text: '然后去打破它就OK了' });
    expect(hit!.cue!.start).toBeGreaterThan(2);
    expect(hit!.cue!.start).toBeLessThan(2.5);
  });

  it('flags listed keywords from stored cues, re-checking without any OCR', async () => {
    const pool = sharedOcrPool(Math.max(1, availableParallelism() - 1));
    const before = { ...pool.stats };
    // Traditional characters and a space in the keyword still match the simplified subtitle.
    await app.services.moderation.addKeywords('review', ['技術 上', 'LABO']);
    const flags = await app.services.moderation.flaggedSegments(10, null);
    expect(flags.edges.map((e) => e.node.text).sort()).toEqual(['上次玩LABO我就惊叹不已', '还有一个技术上的问题']);
    expect(flags.edges.every((e) => e.node.segmentId !== null)).toBe(true);
    await app.services.moderation.removeKeywords('review', ['LABO']);
    expect((await app.services.moderation.flaggedSegments(10, null)).totalCount).toBe(1);
    expect(pool.stats).toEqual(before);
  });
});
