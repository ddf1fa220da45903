// The voices stage on ../shared/data/derived/grid_montage.mp4 (11 GRID clips of 3 s, 10 speakers)
// with the presence manifest's voice samples enrolled: VOICE spans scored with EVAL.md's binning.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { loadConfig } from '../../src/config.js';
import { positiveBins } from '../../src/eval/presence.js';
import { createVoicesStage } from '../../src/indexers/voices.js';
import { createLogger } from '../../src/logger.js';
import { resolveMediaTools } from '../../src/media/tools.js';
import { trackIdentitySource } from '../../src/store/appearances.js';
import { makeVideo } from '../helpers/fake-store.js';
import { sharedData, sharedDataDir } from '../helpers/shared-data.js';
import { voiceServicesPerFile } from '../helpers/voice-services.js';

const manifestFile = sharedData('presence.json');
const tools = resolveMediaTools({ ffmpegPath: null, ffprobePath: null });
const services = voiceServicesPerFile('vidsearch-voice-stage-');
const { work } = services;
const log = createLogger('silent');
let config: Config;

beforeAll(() => {
  config = { ...loadConfig({}, work), mediaRoots: [sharedDataDir, work] };
});

function stageContext(video: ReturnType<typeof makeVideo>) {
  return { video, store: services.store, media: tools, config, log, signal: new AbortController().signal, reportProgress: () => {} };
}

describe.skipIf(!manifestFile)('voices stage on the GRID montage', () => {
  it('finds who speaks when, voice only', async () => {
    const manifest = JSON.parse(readFileSync(manifestFile!, 'utf8')) as {
      actors: { id: string; name: string; voices: string[] }[];
      videos: { path: string; truth: { actor: string; start: number; end: number }[] }[];
      binSec: number;
    };
    const dir = path.dirname(manifestFile!);
    const idOf = new Map<string, string>();
    for (const actor of manifest.actors) {
      const hook = await services.voices.prepare({ voicePaths: actor.voices.map((v) => path.join(dir, v)) }, config.mediaRoots);
      const actorId = `actor-${actor.id}`;
      await hook.commit(actorId);
      idOf.set(actorId, actor.id);
    }
    const videoSpec = manifest.videos[0]!;
    const video = makeVideo({ path: path.join(dir, videoSpec.path), durationSec: 33, hasAudio: true });
    const output = await createVoicesStage().run(stageContext(video), undefined);
    expect(output.skipped).toBeNull();
    expect(output.turns).toBeGreaterThan(5);

    const spans = await services.store.appearances.getSpansOfVideo(video.id);
    expect(spans.every((s) => s.evidence === 'VOICE')).toBe(true);
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const actor of manifest.actors) {
      const truth = positiveBins(videoSpec.truth.filter((t) => t.actor === actor.id), 33, manifest.binSec);
      const predicted = positiveBins(spans.filter((s) => idOf.get(s.actorId) === actor.id), 33, manifest.binSec);
      truth.forEach((t, k) => {
        if (t && predicted[k]) tp++;
        else if (predicted[k]) fp++;
        else if (t) fn++;
      });
    }
    const precision = tp / Math.max(tp + fp, 1);
    const recall = tp / Math.max(tp + fn, 1);
    const f1 = (2 * precision * recall) / Math.max(precision + recall, 1e-9);
    console.log('voice-only presence on grid_montage', JSON.stringify({ precision, recall, f1, clusters: output.clusters.length, turns: output.turns, spans: spans.length }));
    // Speech covers roughly half of each 3-s clip, so recall of "visible or heard" truth is bounded.
    expect(precision).toBeGreaterThan(0.9);
    expect(f1).toBeGreaterThan(0.6);
  });

  it('names an unknown face track after the identified voice it is the active speaker of (voice link)', async () => {
    // Runs after the test above enrolled every voice of the manifest in this store.
    const manifest = JSON.parse(readFileSync(manifestFile!, 'utf8')) as { videos: { path: string; truth: { actor: string; start: number; end: number }[] }[] };
    const videoSpec = manifest.videos[0]!;
    // A speaker heard in one clip only, so the track is alone on screen for all of that voice's speech.
    const once = videoSpec.truth.find((t) => videoSpec.truth.filter((u) => u.actor === t.actor).length === 1)!;
    const video = makeVideo({ path: path.join(path.dirname(manifestFile!), videoSpec.path), durationSec: 33, hasAudio: true });
    const unknown = { id: `${video.id}:track:0`, videoId: video.id, shotIndex: 0, start: once.start, end: once.end, faceCount: 1, actorId: null, clusterId: null, similarity: null, confidence: 0, bestFaceId: `${video.id}:face:0`, embedding: new Float32Array(4), modelId: 'm' };
    await services.store.appearances.replaceVideoFaces(video.id, { tracks: [unknown], faces: [], spans: [], clusters: [] });
    const output = await createVoicesStage().run(stageContext(video), undefined);
    expect(output.tracksNamedByVoice).toBe(1);
    const [named] = await services.store.appearances.getTracksOfVideo(video.id);
    expect(named).toMatchObject({ actorId: `actor-${once.actor}`, similarity: null });
    expect(trackIdentitySource(named!)).toBe('PROPAGATED');
    const faceSpans = (await services.store.appearances.getSpansOfVideo(video.id)).filter((s) => s.evidence === 'FACE');
    expect(faceSpans).toMatchObject([{ actorId: `actor-${once.actor}`, start: once.start, end: once.end, sourceIds: [unknown.id] }]);
  });

  it('reports a video without audio or with an undecodable track as skipped, with no VOICE spans', async () => {
    const silent = makeVideo({ hasAudio: false });
    expect((await createVoicesStage().run(stageContext(silent), undefined)).skipped).toBe('no audio track');
    const broken = makeVideo({ path: path.join(work, 'missing.mp4'), hasAudio: true });
    const output = await createVoicesStage().run(stageContext(broken), undefined);
    expect(output.skipped).toMatch(/^audio not decodable/);
    expect(await services.store.appearances.getSpansOfVideo(broken.id)).toEqual([]);
  });

  it('finds no voice (no spans, no clusters) in music-like tone on 5.1 at 48 kHz or silence on stereo 44.1 kHz', async () => {
    const { spawnSync } = await import('node:child_process');
    const cases = [
      ['tone51.mp4', 'sine=frequency=440:sample_rate=48000', ['-af', 'pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0']],
      ['silence.mkv', 'anullsrc=r=44100:cl=stereo', []],
    ] as const;
    for (const [name, audio, filter] of cases) {
      const file = path.join(work, name);
      const run = spawnSync(tools.ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=black:s=160x120:r=10:d=4', '-f', 'lavfi', '-i', audio, ...filter, '-t', '4', '-c:a', 'aac', file]);
      expect(run.status, run.stderr.toString()).toBe(0);
      const video = makeVideo({ path: file, durationSec: 4, hasAudio: true });
      const output = await createVoicesStage().run(stageContext(video), undefined);
      expect(output).toMatchObject({ skipped: null, turns: 0, clusters: [], voiceSpans: 0 });
      expect(output.audioSec).toBeCloseTo(4, 0);
      expect(await services.store.appearances.getSpansOfVideo(video.id)).toEqual([]);
    }
  });
});
