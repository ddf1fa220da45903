// Hostile and unusual media, end to end over HTTP with the real app (embedded store, ffmpeg, every
// indexing stage): paths that try to leave the media roots (`..`, symlinked files and folders),
// uploads that are not images or are decompression bombs, and files that are corrupt, truncated,
// empty, audio-only, video-only, rotated or variable-frame-rate. A refused file never creates a
// job; a file that breaks part-way fails its job with a reason and leaves nothing half-stored.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { JobRecord } from '../../src/domain.js';
import { runIndexPipeline, StageTimeoutError, type PipelineStage } from '../../src/indexers/pipeline.js';
import { runTool } from '../../src/media/process.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createServices } from '../../src/services/index.js';
import { createFakeStore, makeVideo } from '../helpers/fake-store.js';
import { makeAudioOnly, makeTestVideo, runFfmpeg, testTools } from '../helpers/media.js';

const EDITOR = { authorization: 'Bearer e-key' };

interface GraphqlBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function post(url: string, query: string, variables: Record<string, unknown> = {}): Promise<GraphqlBody> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...EDITOR }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as GraphqlBody;
}

const INDEX = 'mutation($p: String!) { indexVideo(input: { path: $p }) { id status video { id } } }';

/** A PNG whose header claims width × height grey pixels, with almost no pixel data behind it. */
function pngBomb(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit grey, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.alloc(64 * 1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Frame timestamps (s) of the first video stream. */
async function frameTimes(file: string): Promise<number[]> {
  const { stdout } = await promisify(execFile)(testTools.ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', file]);
  return stdout.split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
}

describe('media safety over HTTP with the real app', () => {
  let root: string;
  let media: string;
  let app: App;
  let server: RunningServer;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'vidsearch-media-safety-'));
    media = path.join(root, 'media');
    await mkdir(media);
    const config = loadConfig(
      { VIDSEARCH_DATA_DIR: path.join(root, 'data'), VIDSEARCH_MEDIA_ROOTS: media, VIDSEARCH_API_KEYS: 'e-key:editor', VIDSEARCH_RATE_PER_SEC: '1000', VIDSEARCH_RATE_BURST: '1000' },
      root,
    );
    app = await createApp(config, { log: pino({ level: 'silent' }) });
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await server?.close();
    await app?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function jobCount(): Promise<number> {
    const res = await post(server.url, '{ jobs { totalCount } }');
    return (res.data!.jobs as { totalCount: number }).totalCount;
  }

  /** indexVideo, then run the job to its end in this process; the job and video as the API reports them. */
  async function indexToEnd(file: string): Promise<{ job: { status: string; error: string | null }; video: VideoView }> {
    const queued = await post(server.url, INDEX, { p: file });
    expect(queued.errors, JSON.stringify(queued.errors)).toBeUndefined();
    const job = queued.data!.indexVideo as { id: string; video: { id: string } };
    await app.runner.runUntilIdle();
    const res = await post(
      server.url,
      `query($job: ID!, $video: ID!) {
        job(id: $job) { status error }
        video(id: $video) { status error durationSec rotation width height hasAudio
          shots { totalCount } segments(first: 100) { totalCount edges { node { id start end } } } }
      }`,
      { job: job.id, video: job.video.id },
    );
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return { job: res.data!.job as { status: string; error: string | null }, video: res.data!.video as VideoView };
  }

  interface VideoView {
    status: string;
    error: string | null;
    durationSec: number;
    rotation: number;
    width: number;
    height: number;
    hasAudio: boolean;
    shots: { totalCount: number };
    segments: { totalCount: number; edges: { node: { id: string; start: number; end: number } }[] };
  }

  /** Segments tile the video: start at 0, no gaps, no overlaps, end at its duration. */
  function expectSegmentsTile(video: VideoView): void {
    const segments = video.segments.edges.map((e) => e.node);
    expect(segments.length).toBe(video.segments.totalCount);
    expect(segments.length).toBeGreaterThan(0);
    expect(new Set(segments.map((s) => s.id)).size).toBe(segments.length);
    expect(segments[0]!.start).toBeCloseTo(0, 1);
    for (let i = 1; i < segments.length; i += 1) expect(segments[i]!.start).toBeCloseTo(segments[i - 1]!.end, 2);
    expect(segments.at(-1)!.end).toBeCloseTo(video.durationSec, 0);
  }

  describe('paths must stay inside the media roots', () => {
    let outsideFile: string;
    beforeAll(async () => {
      const outside = path.join(root, 'outside');
      await mkdir(outside);
      outsideFile = (await makeTestVideo({ dir: outside, name: 'secret', durationSec: 1 })).path;
    });

    it('refuses `..` that climbs out of a root (BAD_USER_INPUT, no job)', async () => {
      const climbing = `${media}/../outside/secret.mp4`;
      const res = await post(server.url, INDEX, { p: climbing });
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/outside the media roots/);
      expect(await jobCount()).toBe(0);
    });

    it('refuses a symlinked file and a symlinked folder that point outside', async () => {
      await symlink(outsideFile, path.join(media, 'innocent.mp4'));
      await symlink(path.dirname(outsideFile), path.join(media, 'shows'));
      for (const p of [path.join(media, 'innocent.mp4'), path.join(media, 'shows', 'secret.mp4')]) {
        const res = await post(server.url, INDEX, { p });
        expect(res.errors?.[0]?.extensions?.code, p).toBe('BAD_USER_INPUT');
        expect(res.errors?.[0]?.message).toMatch(/outside the media roots/);
      }
      expect(await jobCount()).toBe(0);
    });

    it('refuses the root itself, a NUL byte and a missing file', async () => {
      for (const p of [media, `${media}/a\0b.mp4`, path.join(media, 'missing.mp4')]) {
        expect((await post(server.url, INDEX, { p })).errors?.[0]?.extensions?.code, JSON.stringify(p)).toBe('BAD_USER_INPUT');
      }
    });
  });

  describe('uploads are checked by content and pixel count', () => {
    const bomb = pngBomb(60_000, 60_000); // 3.6 gigapixels behind a few hundred bytes

    it('searchByImage: a text file is not an image; a decompression bomb is refused from its header', async () => {
      const text = await post(server.url, 'query($b: String!) { searchByImage(imageBase64: $b) { at } }', { b: Buffer.from('just some text, honestly').toString('base64') });
      expect(text.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(text.errors?.[0]?.message).toMatch(/not a JPEG, PNG, WebP, GIF or video/);

      expect(bomb.length).toBeLessThan(2000);
      const rssBefore = process.memoryUsage().rss;
      const started = performance.now();
      const res = await post(server.url, 'query($b: String!) { searchByImage(imageBase64: $b) { at } }', { b: bomb.toString('base64') });
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/3600000000 pixels, more than the limit/);
      // Refused before decoding: no time spent and no gigabytes allocated.
      expect(performance.now() - started).toBeLessThan(2000);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
    });

    it('enrollActor: the same bomb and a renamed text file, as a multipart upload', async () => {
      for (const [name, bytes] of [['bomb.png', bomb], ['notes.jpg', Buffer.from('not a picture')]] as const) {
        const form = new FormData();
        form.set('operations', JSON.stringify({ query: 'mutation($f: Upload!) { enrollActor(input: { name: "X", images: [$f] }) { id } }', variables: { f: null } }));
        form.set('map', JSON.stringify({ 0: ['variables.f'] }));
        form.set('0', new Blob([new Uint8Array(bytes)]), name);
        const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'apollo-require-preflight': '1', ...EDITOR }, body: form });
        const body = (await res.json()) as GraphqlBody;
        expect(body.errors?.[0]?.extensions?.code, name).toBe('BAD_USER_INPUT');
        expect(body.errors?.[0]?.message).toMatch(name === 'bomb.png' ? /more than the limit/ : /not a decodable image/);
      }
      expect((await post(server.url, '{ actors { totalCount } }')).data).toEqual({ actors: { totalCount: 0 } });
    });
  });

  describe('broken files are refused before a job exists', () => {
    it('UNSUPPORTED_MEDIA for random bytes, an empty file, a file cut before its index, and audio only', async () => {
      const random = path.join(media, 'random.mp4');
      await writeFile(random, Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7919 + 13) % 251)));
      const empty = path.join(media, 'empty.mp4');
      await writeFile(empty, Buffer.alloc(0));
      // Without faststart the index (moov) is written last: half a file has none.
      const whole = await makeTestVideo({ dir: media, name: 'cut-early', durationSec: 2 });
      await truncate(whole.path, Math.floor((await stat(whole.path)).size / 2));
      const audio = await makeAudioOnly(media);
      const before = await jobCount();
      for (const file of [random, empty, whole.path, audio]) {
        const res = await post(server.url, INDEX, { p: file });
        expect(res.errors?.[0]?.extensions?.code, path.basename(file)).toBe('UNSUPPORTED_MEDIA');
      }
      expect(await jobCount()).toBe(before);
    });
  });

  describe('files that probe fine', () => {
    it('a file truncated mid-stream fails its job with a reason and stores no segments', async () => {
      const made = await makeTestVideo({ dir: media, name: 'truncated-src', durationSec: 8, cuts: [3, 6], size: { width: 320, height: 180 } });
      // Index first (faststart), then cut: it probes as 8 s but the data stops part-way.
      const file = path.join(media, 'truncated.mp4');
      await runFfmpeg(['-i', made.path, '-c', 'copy', '-movflags', '+faststart', file]);
      await truncate(file, Math.floor((await stat(file)).size * 0.45));
      const { job, video } = await indexToEnd(file);
      expect(job.status).toBe('FAILED');
      expect(job.error).toMatch(/cannot be decoded|decod/i);
      expect(video.status).toBe('FAILED');
      expect(video.segments.totalCount).toBe(0);
    });

    it('video without audio indexes fully', async () => {
      const made = await makeTestVideo({ dir: media, name: 'silent', durationSec: 4, cuts: [2], audio: 'none' });
      const { job, video } = await indexToEnd(made.path);
      expect(job).toEqual({ status: 'SUCCEEDED', error: null });
      expect(video).toMatchObject({ status: 'READY', hasAudio: false });
      expect(video.shots.totalCount).toBe(2);
      expectSegmentsTile(video);
    });

    it('a rotated phone video indexes with its rotation recorded', async () => {
      const made = await makeTestVideo({ dir: media, name: 'rotated', durationSec: 3, audio: 'tone', rotation: 90, size: { width: 320, height: 176 } });
      const { job, video } = await indexToEnd(made.path);
      expect(job).toEqual({ status: 'SUCCEEDED', error: null });
      expect(video.status).toBe('READY');
      // The bundled muxer may store 90 as 270 (see test/helpers/media.ts).
      expect([90, 270]).toContain(video.rotation);
      expectSegmentsTile(video);
    });

    it('a variable-frame-rate video indexes with its cut where it really is', async () => {
      const made = await makeTestVideo({ dir: media, name: 'cfr', durationSec: 6, cuts: [3], audio: 'tone' });
      // Drop frames unevenly (runs of kept and dropped frames) and keep the original timestamps.
      const file = path.join(media, 'vfr.mp4');
      await runFfmpeg(['-i', made.path, '-vf', "select='lt(mod(n\\,10)\\,3)+lt(mod(n\\,7)\\,2)'", '-vsync', 'vfr', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'copy', file]);
      const times = await frameTimes(file);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      expect(Math.max(...gaps) / Math.min(...gaps.filter((g) => g > 0))).toBeGreaterThan(2.5);
      const { job, video } = await indexToEnd(file);
      expect(job).toEqual({ status: 'SUCCEEDED', error: null });
      expect(video.durationSec).toBeGreaterThan(5);
      expect(video.shots.totalCount).toBe(2);
      expectSegmentsTile(video);
      const boundary = video.segments.edges.map((e) => e.node.start).find((s) => Math.abs(s - 3) < 0.5);
      expect(boundary).toBeDefined();
    });
  });
});

describe('media tools and stages cannot hang a request or a job', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'vidsearch-timeouts-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('indexVideo answers UNSUPPORTED_MEDIA when ffprobe hangs past its timeout, and creates no job', async () => {
    const hanging = path.join(root, 'ffprobe-hangs');
    await writeFile(hanging, '#!/bin/sh\nexec sleep 60\n');
    await chmod(hanging, 0o755);
    const video = await makeTestVideo({ dir: root, name: 'fine', durationSec: 1 });
    const config = loadConfig({ VIDSEARCH_DATA_DIR: path.join(root, 'data'), VIDSEARCH_MEDIA_ROOTS: root, VIDSEARCH_FFPROBE: hanging, VIDSEARCH_PROBE_TIMEOUT_MS: '500' }, root);
    const store = createFakeStore();
    const services = createServices({ store, media: { ...testTools, ffprobe: hanging }, config, log: pino({ level: 'silent' }) });
    const started = performance.now();
    await expect(services.indexing.indexVideo({ path: video.path })).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA', message: expect.stringMatching(/ffprobe timed out/) });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(store.raw.jobs.jobs.size).toBe(0);
  });

  it('a stage past its deadline is stopped: its ffmpeg is killed, and one that ignores its signal is abandoned', async () => {
    const config = loadConfig({ VIDSEARCH_STAGE_TIMEOUT_MIN_SEC: '1', VIDSEARCH_STAGE_TIMEOUT_PER_MEDIA_SEC: '0' });
    const log = pino({ level: 'silent' });
    let ffmpegEnded: unknown = null;
    // An enrichment stage decoding an endless source in real time: only the deadline stops it.
    const endlessFfmpeg: PipelineStage = {
      name: 'endless-ffmpeg',
      weight: 1,
      run: async (ctx) => {
        await runTool(ctx.media.ffmpeg, ['-hide_banner', '-re', '-f', 'lavfi', '-i', 'testsrc2=s=64x36:r=5', '-f', 'null', '-'], { signal: ctx.signal }).catch((err: unknown) => {
          ffmpegEnded = err;
          throw err;
        });
      },
    };
    // An essential stage (named as one) that never looks at its signal.
    const deafShots: PipelineStage = { name: 'shots', weight: 1, run: () => new Promise(() => undefined) };

    async function runAlone(stage: PipelineStage): Promise<{ store: ReturnType<typeof createFakeStore>; videoId: string; run: Promise<void> }> {
      const store = createFakeStore();
      const video = makeVideo({ status: 'PENDING', durationSec: 100 });
      await store.catalog.putVideo(video);
      const now = new Date().toISOString();
      const job: JobRecord = {
        id: `job-${stage.name}`, kind: 'INDEX_VIDEO', videoId: video.id, request: { path: video.path }, status: 'RUNNING', priority: 0, progress: 0, stage: null,
        stagesDone: [], error: null, attempts: 1, workerId: 'w', createdAt: now, startedAt: now, finishedAt: null, heartbeatAt: now,
      };
      const run = runIndexPipeline({ store, media: testTools, config, log }, job, { signal: new AbortController().signal, onProgress: async () => undefined }, [stage]);
      return { store, videoId: video.id, run };
    }

    let started = performance.now();
    const enrichment = await runAlone(endlessFfmpeg);
    await enrichment.run; // an enrichment stage's failure is recorded; the video stays usable
    expect(performance.now() - started).toBeLessThan(4000);
    // The ffmpeg child was killed by the deadline (its exit is reported just after the race ends).
    await vi.waitFor(() => expect(ffmpegEnded).toBeInstanceOf(StageTimeoutError), { timeout: 2000 });
    expect(await enrichment.store.catalog.getArtifact(enrichment.videoId, 'endless-ffmpeg')).toEqual({ failed: true, reason: 'stage endless-ffmpeg timed out after 1 s' });

    started = performance.now();
    const essential = await runAlone(deafShots);
    await expect(essential.run).rejects.toThrow(StageTimeoutError);
    expect(performance.now() - started).toBeLessThan(4000);
    expect(await essential.store.catalog.getVideo(essential.videoId)).toMatchObject({ status: 'FAILED', error: 'stage shots timed out after 1 s' });
  });
});
