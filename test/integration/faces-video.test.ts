// The faces stage on real video with the shipped models: ../shared/data/derived/grid_montage.mp4
// (ten GRID speakers, one per 3-s segment, grid_s2 twice). Eight actors are enrolled; grid_s2 and
// grid_I are strangers and must end up as unknown clusters — grid_s2's two appearances in ONE
// cluster — and naming that cluster must make its appearances watchable at once.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { VideoRecord } from '../../src/domain.js';
import { positiveBins } from '../../src/eval/presence.js';
import { facesStage, type FacesStageOutput } from '../../src/indexers/faces.js';
import { probeMedia } from '../../src/media/probe.js';
import { resolveMediaTools } from '../../src/media/tools.js';
import { loadFaceModels } from '../../src/models/faces/index.js';
import { createActorService } from '../../src/services/actors.js';
import { createFaceClusterService } from '../../src/services/face-clusters.js';
import { createPresenceService } from '../../src/services/presence.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { sharedData, sharedDataDir } from '../helpers/shared-data.js';

const montage = sharedData('derived/grid_montage.mp4');
const STRANGERS = ['grid_s2', 'grid_I'];

interface Truth {
  actor: string;
  start: number;
  end: number;
}

describe.skipIf(!montage)('faces stage on grid_montage.mp4', () => {
  const log = pino({ level: 'silent' });
  let dataDir: string;
  let store: Store;
  let video: VideoRecord;
  let output: FacesStageOutput;
  let truth: Truth[];
  const actorIds = new Map<string, string>();
  const config = loadConfig({ VIDSEARCH_MEDIA_ROOTS: sharedDataDir });
  const media = resolveMediaTools(config);
  const models = () => loadFaceModels({ modelDir: null });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-faces-video-'));
    store = await openEmbeddedStore(dataDir);
    const manifest = JSON.parse(await readFile(path.join(sharedDataDir, 'presence.json'), 'utf8')) as {
      actors: { id: string; faces: string[] }[];
      videos: { truth: Truth[] }[];
    };
    truth = manifest.videos[0]!.truth;
    const actors = createActorService({ store, config, log, models });
    for (const actor of manifest.actors.filter((a) => !STRANGERS.includes(a.id))) {
      const enrolled = await actors.enrollActor({ name: actor.id, imagePaths: actor.faces.map((f) => path.join(sharedDataDir, f)) });
      actorIds.set(actor.id, enrolled.id);
    }
    const probe = await probeMedia(media, montage!, { timeoutMs: 20_000 });
    const now = new Date().toISOString();
    video = {
      id: 'montage', path: montage!, contentHash: 'montage', title: null, series: null, season: null, episode: null, durationSec: probe.durationSec,
      fps: probe.fps, width: probe.width, height: probe.height, rotation: 0, startTime: probe.startTime, hasAudio: true, status: 'INDEXING', error: null, createdAt: now, updatedAt: now,
    };
    await store.catalog.putVideo(video);
    // The montage's cuts, from its segment list: this test isolates the faces stage from shot
    // detection (the pipeline's shots stage supplies them in production).
    const cuts = [...new Set(truth.flatMap((t) => [t.start, t.end]))].sort((x, y) => x - y);
    const shots = cuts.slice(0, -1).map((start, index) => ({
      id: `montage-shot-${index}`, videoId: video.id, index, start, end: cuts[index + 1]!, keyframeTime: start, transition: index ? ('CUT' as const) : ('START' as const),
    }));
    await store.catalog.replaceStructure(video.id, shots, []);
    output = await facesStage.run({ video, store, media, config, log, signal: new AbortController().signal, reportProgress: () => undefined }, undefined);
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('finds one track per appearance and names the enrolled speakers', () => {
    expect(output.sampledFrames).toBeGreaterThanOrEqual(65);
    expect(output.tracks).toBe(11);
    expect(output.identifiedTracks).toBe(8);
    expect(output.unknownTracks).toBe(3);
  });

  it('answers onlyWatch per actor in agreement with the truth bins', async () => {
    const presence = createPresenceService({ catalog: store.catalog, appearances: store.appearances, actors: store.actors });
    const tally = { tp: 0, fp: 0, fn: 0 };
    for (const [name, actorId] of actorIds) {
      const answer = await presence.onlyWatch({ videoId: video.id, actorIds: [actorId], padSec: 0 });
      const predicted = positiveBins(answer.spans, video.durationSec, 0.5);
      const expected = positiveBins(truth.filter((t) => t.actor === name), video.durationSec, 0.5);
      predicted.forEach((p, k) => {
        if (p && expected[k]) tally.tp++;
        else if (p) tally.fp++;
        else if (expected[k]) tally.fn++;
      });
      expect(answer.spans.every((s) => s.evidence === 'FACE')).toBe(true);
    }
    const precision = tally.tp / (tally.tp + tally.fp);
    const recall = tally.tp / (tally.tp + tally.fn);
    console.info(`[faces-video] enrolled actors, 0.5-s bins: precision ${precision.toFixed(3)} recall ${recall.toFixed(3)} (${JSON.stringify(tally)})`);
    // Only bins straddling a cut may go either way.
    expect(precision).toBeGreaterThan(0.95);
    expect(recall).toBeGreaterThan(0.95);
  });

  it('clusters the strangers (grid_s2 twice → one cluster) and naming it makes them watchable', async () => {
    const faceClusters = createFaceClusterService({
      appearances: store.appearances,
      actors: store.actors,
      vectors: store.vectors,
      currentFaceModelId: async () => (await models()).embedder.modelId,
    });
    const clusters = (await faceClusters.faceClusters(10)).edges.map((e) => e.node);
    expect(clusters.map((c) => c.size).sort()).toEqual([1, 2]);
    const pair = clusters.find((c) => c.size === 2)!;
    const named = await faceClusters.nameFaceCluster(pair.id, { newActorName: 'grid_s2' });
    expect(named.templatesAdded).toBeGreaterThan(0);
    const presence = createPresenceService({ catalog: store.catalog, appearances: store.appearances, actors: store.actors });
    const answer = await presence.onlyWatch({ videoId: video.id, actorIds: [named.actor.id] });
    expect(answer.playlist.map(([s, e]) => [Math.round(s), Math.round(e)])).toEqual([[6, 9], [15, 18]]);
  });

  it('learns a face an editor moves: the same person is recognised in a later video', async () => {
    const faceClusters = createFaceClusterService({
      appearances: store.appearances,
      actors: store.actors,
      vectors: store.vectors,
      currentFaceModelId: async () => (await models()).embedder.modelId,
    });
    const [stranger] = (await faceClusters.faceClusters(10)).edges.map((e) => e.node);
    const actor = await createActorService({ store, config, log, models }).enrollActor({ name: 'grid_I' });
    const [face] = await faceClusters.sampleFaces(stranger!.id, 1);
    const moved = await faceClusters.moveFaces([face!.id], actor.id);
    expect(moved.templatesAdded).toBeGreaterThan(0);
    // A later video (the same file under another id): its grid_I track is named from the learnt faces.
    const later: VideoRecord = { ...video, id: 'montage-later', contentHash: 'montage-later' };
    await store.catalog.putVideo(later);
    const shots = await store.catalog.getShots(video.id);
    await store.catalog.replaceStructure(later.id, shots.map((shot) => ({ ...shot, id: `later-${shot.id}`, videoId: later.id })), []);
    await facesStage.run({ video: later, store, media, config, log, signal: new AbortController().signal, reportProgress: () => undefined }, undefined);
    const presence = createPresenceService({ catalog: store.catalog, appearances: store.appearances, actors: store.actors });
    const answer = await presence.onlyWatch({ videoId: later.id, actorIds: [actor.id] });
    const expected = truth.filter((t) => t.actor === 'grid_I').map((t) => [Math.round(t.start), Math.round(t.end)]);
    expect(answer.playlist.map(([s, e]) => [Math.round(s), Math.round(e)])).toEqual(expected);
  }, 120_000);
});
