// Highlights: per-video normalisation, non-overlapping clip picking within min/max length, and
// editors' feedback changing the weights (persisted in the embedded store) and so the ranking.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { normaliseColumns } from '../../src/indexers/highlights.js';
import { createHighlightsService, pickHighlights, type HighlightsService } from '../../src/services/highlights.js';
import type { HighlightSignalsRecord } from '../../src/store/ads.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { makeVideo } from '../helpers/fake-store.js';

const row = (i: number, features: number[], length = 5): HighlightSignalsRecord => ({ videoId: 'v', segmentId: `s${i}`, start: i * length, end: (i + 1) * length, features });

describe('clip picking', () => {
  it('normalises each feature within the video', () => {
    const z = normaliseColumns([[1, 5], [3, 5]]);
    expect(z).toEqual([[-1 / 3, 0], [1 / 3, 0]].map((r) => r.map((x) => Math.round(x * 1e4) / 1e4)));
  });

  it('grows the best segments to minSec without overlap and caps at maxSec', () => {
    const rows = [0, 1, 2, 3, 4, 5].map((i) => row(i, []));
    const scores = [0.1, 0.9, 0.85, 0.2, 0.3, 0.8];
    const clips = pickHighlights(rows, scores, 3, 8, 10);
    // Seed 5–10 takes its better neighbour (10–15); seed 25–30 takes 20–25; 15–20 is hemmed in (5 s < minSec).
    expect(clips.map((c) => [c.start, c.end])).toEqual([[5, 15], [20, 30]]);
    expect(clips[0]!.score).toBeCloseTo((0.9 + 0.85) / 2, 4);
    expect(clips.every((c) => c.end - c.start <= 10)).toBe(true);
  });
});

describe('feedback learning', () => {
  let dir: string;
  let store: Store;
  let service: HighlightsService;
  const video = makeVideo({ durationSec: 40 });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-hl-'));
    store = await openEmbeddedStore(dir);
    service = createHighlightsService({ store });
    await store.catalog.putVideo(video);
    // Segment 0: loud and moving (the prior likes it); segment 2: lots of speech (the prior barely cares).
    await store.highlights.replaceVideoSignals(video.id, [
      { ...row(0, [1, 1, -1, 1, 0, 0], 10), videoId: video.id },
      { ...row(1, [-1, -1, -1, -1, 0, 0], 10), videoId: video.id },
      { ...row(2, [-0.5, -0.5, 1, -0.5, 0, 0], 10), videoId: video.id },
      { ...row(3, [-1, -1, -1, -1, 0, 0], 10), videoId: video.id },
    ]);
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('learns from good/bad marks until the editors\' favourite ranks first, and keeps the weights', async () => {
    const before = await service.highlights(video.id, 1, 5, 10);
    expect(before[0]!.start).toBe(0);
    for (let k = 0; k < 15; k++) {
      await service.markHighlight(video.id, 20, 30, true);
      await service.markHighlight(video.id, 0, 10, false);
    }
    const after = await service.highlights(video.id, 1, 5, 10);
    expect(after[0]!.start).toBe(20);
    const reopened = createHighlightsService({ store });
    expect((await reopened.model()).updates).toBe(30);
    expect((await reopened.model()).weights.speech).toBeGreaterThan(0.2);
    expect(await store.highlights.countFeedback()).toBe(30);
  });

  it('rejects bad arguments with typed errors', async () => {
    const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof AppError ? e.code : 'other'));
    expect(await code(service.highlights(video.id, 0))).toBe('BAD_USER_INPUT');
    expect(await code(service.highlights(video.id, 3, 20, 10))).toBe('BAD_USER_INPUT');
    expect(await code(service.highlights('missing'))).toBe('NOT_FOUND');
    expect(await code(service.markHighlight(video.id, 5, 2, true))).toBe('BAD_USER_INPUT');
    expect(await code(service.markHighlight(video.id, 500, 600, true))).toBe('BAD_USER_INPUT');
  });
});
