// One decode for many stages: a shared session gives each output exactly the frames (times and
// pixels) a decode of its own gives, the sound is decoded once at several rates with the samples
// of separate decodes, and a whole indexing job with every stage on decodes the picture stream
// once (the shot-aware stages read the keyframe candidates that decode kept) and the sound once,
// with no per-shot seeks.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { DecodeSession, type EncodedFrameSink, type FrameRequest, type SessionOutput } from '../../src/media/decode-session.js';
import { extractAudioPcm, extractFrame, streamFrames, type RawFrame } from '../../src/media/frames.js';
import { probeMedia } from '../../src/media/probe.js';
import { watchToolSpawns } from '../../src/media/process.js';
import { MediaSource } from '../../src/media/source.js';
import { makeTempDir, makeTestVideo, testTools } from '../helpers/media.js';

let temp: { dir: string; cleanup(): Promise<void> };
let clip: string;

beforeAll(async () => {
  temp = await makeTempDir('vidsearch-shared-decode-');
  clip = (await makeTestVideo({ dir: temp.dir, name: 'clip', durationSec: 4, cuts: [1.3, 2.6], audio: 'tone', fps: 25 })).path;
});

afterAll(async () => {
  await temp?.cleanup();
});

async function collect(frames: AsyncIterable<{ time: number; data: Buffer }>): Promise<{ time: number; data: Buffer }[]> {
  const out: { time: number; data: Buffer }[] = [];
  for await (const f of frames) out.push({ time: f.time, data: f.data });
  return out;
}

describe('a shared decode session', () => {
  it('gives every output the frames of its own decode, spooled or live', async () => {
    const probe = await probeMedia(testTools, clip);
    const requests: FrameRequest[] = [
      { fps: 10, width: 96, pixFmt: 'rgb24', strict: true },
      { fps: 2, width: 160, pixFmt: 'gray' },
      { keyframesOnly: true, width: 128, pixFmt: 'rgb24' },
    ];
    const times = [0.5, 1.31, 3.0];
    const spoolDir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-spool-test-'));
    // Keyframe candidates at two widths: they share r0's 10 fps sampling inside the graph; and
    // the 128 ones again for a grey-only reader.
    const jpegs = new Map<number, { time: number; jpeg: Buffer }[]>([[64, []], [128, []]]);
    const greyJpegs: { time: number; jpeg: Buffer }[] = [];
    const sinkOf = (kept: { time: number; jpeg: Buffer }[]): EncodedFrameSink => ({ add: (time, jpeg) => void kept.push({ time, jpeg }), end: () => undefined });
    const encoded: SessionOutput[] = [...jpegs].map(([width, kept]) => ({ key: `c${width}`, request: { encode: 'mjpeg' as const, width, fps: 10, every: 5 }, sink: sinkOf(kept) }));
    encoded.push({ key: 'g128', request: { encode: 'mjpeg', width: 128, fps: 10, every: 5, grey: true } as const, sink: sinkOf(greyJpegs) });
    const session = new DecodeSession({
      tools: testTools, filePath: clip, probe, spoolDir, signal: new AbortController().signal,
      outputs: [...requests.map((request, i) => ({ key: `r${i}`, request })), { key: 'at', request: { pixFmt: 'rgb24', width: 64, times } }, ...encoded],
    });
    session.start();
    // r0 is read live from the start; the others spool and are read after it ended.
    const live = await collect(session.channel('r0')!.consume());
    const own = await collect(streamFrames(testTools, clip, { ...requests[0]!, probe }));
    expect(live.map((f) => f.time)).toEqual(own.map((f) => f.time));
    expect(live.every((f, i) => f.data.equals(own[i]!.data))).toBe(true);
    // Every 5th frame of the 10 fps stream, at each width (the JPEG's own header says its size).
    for (const [width, kept] of jpegs) {
      expect(kept.map((k) => k.time)).toEqual(live.filter((_, i) => i % 5 === 0).map((f) => f.time));
      for (const { jpeg } of kept) expect(await sharp(jpeg).metadata()).toMatchObject({ width, height: (width * 9) / 16 });
    }
    // Grey candidates: the same frames, R = G = B = the colour JPEG's luma (within its rounding,
    // where no channel of the colour one is clipped: clipping loses luma there, not here).
    const colour = jpegs.get(128)!;
    expect(greyJpegs.map((k) => k.time)).toEqual(colour.map((k) => k.time));
    for (const [k, { jpeg }] of greyJpegs.entries()) {
      const grey = await sharp(jpeg).removeAlpha().toColourspace('srgb').raw().toBuffer();
      const rgb = await sharp(colour[k]!.jpeg).removeAlpha().toColourspace('srgb').raw().toBuffer();
      let coloured = 0;
      let worst = 0;
      for (let p = 0; p < grey.length; p += 3) {
        if (grey[p] !== grey[p + 1] || grey[p] !== grey[p + 2]) coloured++;
        if ([rgb[p]!, rgb[p + 1]!, rgb[p + 2]!].some((v) => v === 0 || v === 255)) continue;
        const luma = (rgb[p]! * 299 + rgb[p + 1]! * 587 + rgb[p + 2]! * 114) / 1000;
        worst = Math.max(worst, Math.abs(grey[p]! - luma));
      }
      expect(coloured).toBe(0);
      expect(worst).toBeLessThanOrEqual(2);
    }
    for (const [i, request] of requests.entries()) {
      if (i === 0) continue;
      const shared = await collect(session.channel(`r${i}`)!.consume());
      const alone = await collect(streamFrames(testTools, clip, { ...request, probe }));
      expect(shared.length).toBeGreaterThan(0);
      expect(shared.map((f) => f.time)).toEqual(alone.map((f) => f.time));
      expect(shared.every((f, k) => f.data.equals(alone[k]!.data))).toBe(true);
    }
    const at = await collect(session.channel('at')!.consume());
    expect(at).toHaveLength(times.length);
    for (const [k, time] of times.entries()) {
      const seeked: RawFrame = await extractFrame(testTools, clip, time, { width: 64, format: 'rgb24' });
      expect(at[k]!.time).toBeGreaterThanOrEqual(time - 1e-3);
      expect(at[k]!.data.equals(seeked.data)).toBe(true);
    }
    await rm(spoolDir, { recursive: true, force: true });
  });

  it('keeps grey candidates at a width only grey readers ask for, colour ones where any reader wants colour', async () => {
    const spawns: string[][] = [];
    const stop = watchToolSpawns((_, args) => spawns.push([...args]));
    const shots: FrameRequest = { fps: 10, width: 96, pixFmt: 'rgb24', strict: true };
    const source = new MediaSource({
      tools: testTools, filePath: clip, signal: new AbortController().signal,
      stageState: () => 'running', shotKeyframeTimes: async () => null,
      declarations: async () => [
        { stage: 'shots', needs: { frames: [shots], keyframeCandidates: { fps: 10, every: 5 } } },
        { stage: 'greyOnly', needs: { shotKeyframes: { width: 128, grey: true } } },
        { stage: 'greyToo', needs: { shotKeyframes: { width: 64, grey: true } } },
        { stage: 'colour', needs: { shotKeyframes: { width: 64 } } },
      ],
    });
    try {
      const frames = await collect(source.forStage('shots').frames(shots));
      const graph = spawns.find((a) => a.includes('-filter_complex'))!.join(' ');
      expect(graph).toContain('scale=128:72:flags=bicubic,format=gray,format=yuvj420p');
      expect(graph).toContain('scale=64:36:flags=bicubic,format=yuvj420p');
      expect(graph).not.toContain('scale=64:36:flags=bicubic,format=gray');
      const grey = await source.forStage('greyOnly').frameAt(frames[5]!.time, 128);
      const colour = await source.forStage('colour').frameAt(frames[5]!.time, 64);
      const isGrey = (data: Buffer): boolean => data.every((v, i) => i % 3 === 0 || v === data[i - (i % 3)]);
      expect(isGrey(grey.data)).toBe(true);
      expect(isGrey(colour.data)).toBe(false);
    } finally {
      stop();
      source.close();
    }
  });

  it('decodes the sound once for several rates, sample for sample', async () => {
    const spawns: string[][] = [];
    const stop = watchToolSpawns((_, args) => spawns.push([...args]));
    const source = new MediaSource({
      tools: testTools, filePath: clip, signal: new AbortController().signal,
      stageState: () => 'running', shotKeyframeTimes: async () => [],
      declarations: async () => [{ stage: 'a', needs: { audioRates: [16000, 8000] } }],
    });
    const [wide, narrow] = await Promise.all([source.forStage('a').audio(16000), source.forStage('b').audio(8000)]);
    stop();
    source.close();
    expect(spawns.filter((a) => a.some((x) => x.includes('0:a:0')))).toHaveLength(1);
    expect(wide).toEqual(await extractAudioPcm(testTools, clip, { sampleRate: 16000, channels: 1 }));
    expect(narrow).toEqual(await extractAudioPcm(testTools, clip, { sampleRate: 8000, channels: 1 }));
  });
});

describe('an indexing job with every stage on', () => {
  it('decodes the picture stream once and the sound once, with no per-shot seeks', async () => {
    const dir = path.join(temp.dir, 'job');
    const video = await makeTestVideo({ dir: temp.dir, name: 'job', durationSec: 6, cuts: [2, 4], audio: 'tone' });
    const config = { ...loadConfig({}), dataDir: path.join(dir, 'store'), mediaRoots: [temp.dir], indexing: { ...loadConfig({}).indexing, enrichmentStages: null } };
    const app = await createApp(config, { log: createLogger('silent') });
    const runs: string[][] = [];
    const stop = watchToolSpawns((command, args) => {
      if (command === app.media.ffmpeg) runs.push([...args]);
    });
    try {
      await app.indexNow({ path: video.path });
    } finally {
      stop();
      await app.close();
    }
    const pictures = runs.filter((a) => a.some((x) => x.includes('0:v:0')));
    const sound = runs.filter((a) => a.some((x) => x.includes('0:a:0')));
    expect(pictures).toHaveLength(1);
    expect(pictures.filter((a) => a.includes('-frames:v') || a.includes('-skip_frame'))).toEqual([]);
    expect(sound).toHaveLength(1);
  }, 180_000);
});
