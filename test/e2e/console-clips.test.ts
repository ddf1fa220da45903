// Clip export behind the console's "Export MP4": exportClip over HTTP on the real server and store
// with real ffmpeg. A span starting on a keyframe is stream-copied; any other start is re-encoded
// and begins on the asked-for frame; bad spans are typed errors; the signed download answers range
// requests; deleting the video deletes its clips.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { VideoRecord } from '../../src/domain.js';
import { MediaUrlSigner } from '../../src/http/media-urls.js';
import { createLogger } from '../../src/logger.js';
import { extractFrame } from '../../src/media/frames.js';
import { contentHash, probeMedia } from '../../src/media/probe.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { makeTempDir, makeTestVideo } from '../helpers/media.js';

const KEYS = 'clip-editor:editor,clip-search:search';
const MEDIA_SECRET = 'console-clips-test-secret-0123456789';
const EXPORT = `mutation($videoId: ID!, $start: Float!, $end: Float!) {
  exportClip(videoId: $videoId, start: $start, end: $end) { id start end method sizeBytes downloadUrl video { id } }
}`;

interface ClipAnswer {
  id: string;
  start: number;
  end: number;
  method: 'STREAM_COPY' | 'REENCODE';
  sizeBytes: number;
  downloadUrl: string;
}

let temp: { dir: string; cleanup(): Promise<void> };
let app: App;
let server: RunningServer;
let video: VideoRecord;

async function exportClip(videoId: string, start: number, end: number, key = 'clip-editor'): Promise<{ clip?: ClipAnswer; code?: string; message?: string }> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: EXPORT, variables: { videoId, start, end } }),
  });
  const body = (await res.json()) as { data?: { exportClip: ClipAnswer } | null; errors?: { message: string; extensions?: { code?: string } }[] };
  return { clip: body.data?.exportClip, code: body.errors?.[0]?.extensions?.code, message: body.errors?.[0]?.message };
}

/** Mean absolute difference of two same-size RGB frames (0..255). */
function frameDistance(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

beforeAll(async () => {
  temp = await makeTempDir('vidsearch-clips-');
  const media = path.join(temp.dir, 'media');
  await mkdir(media);
  // Keyframes every second (-g 25 at 25 fps); testsrc2 moves, so every frame differs.
  const made = await makeTestVideo({ dir: media, name: 'clip-source', durationSec: 6, cuts: [3], audio: 'tone' });
  const config = { ...loadConfig({ VIDSEARCH_API_KEYS: KEYS, VIDSEARCH_MEDIA_SECRET: MEDIA_SECRET }), dataDir: path.join(temp.dir, 'store'), mediaRoots: [media] };
  app = await createApp(config, { log: createLogger('silent') });
  // Only the catalog row matters to clip export: store it directly instead of running the pipeline.
  const probe = await probeMedia(app.media, made.path);
  const now = new Date().toISOString();
  video = {
    id: 'clip-video', path: made.path, contentHash: await contentHash(made.path), title: 'Clip source', series: null, season: null, episode: null,
    durationSec: probe.durationSec, fps: probe.fps, width: probe.width, height: probe.height, rotation: 0, startTime: probe.startTime,
    hasAudio: probe.hasAudio, status: 'READY', error: null, createdAt: now, updatedAt: now,
  };
  await app.store.catalog.putVideo(video);
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
}, 300_000);

afterAll(async () => {
  await server?.close();
  await app?.close();
  await temp?.cleanup();
});

describe('exportClip', () => {
  it('stream-copies a span that starts on a keyframe and serves it as a signed download with ranges', async () => {
    const started = Date.now();
    const { clip, code } = await exportClip(video.id, 1, 2.5);
    expect(code).toBeUndefined();
    expect(clip).toMatchObject({ id: 'clip-video_1000-2500', start: 1, end: 2.5, method: 'STREAM_COPY' });
    console.log(`[clips] stream copy of 1.5 s: ${Date.now() - started} ms, ${clip!.sizeBytes} bytes`);

    const whole = await fetch(`${server.url}${clip!.downloadUrl}`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-disposition')).toBe('attachment; filename=Clip_source_0m01.0s-0m02.5s.mp4');
    const bytes = Buffer.from(await whole.arrayBuffer());
    expect(bytes.length).toBe(clip!.sizeBytes);
    const part = await fetch(`${server.url}${clip!.downloadUrl}`, { headers: { range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(0, 100));

    // Copied packets: the clip holds about the asked-for 1.5 s, video and audio.
    const file = path.join(temp.dir, 'copy.mp4');
    await writeFile(file, bytes);
    const probed = await probeMedia(app.media, file);
    expect(probed.durationSec).toBeGreaterThan(1.3);
    expect(probed.durationSec).toBeLessThan(1.8);
    expect(probed.videoCodec).toBe('h264');
    expect(probed.hasAudio).toBe(true);
  });

  it('re-encodes a span that starts between keyframes, and the clip starts on the asked-for frame', async () => {
    const started = Date.now();
    const { clip } = await exportClip(video.id, 1.52, 2.52);
    expect(clip).toMatchObject({ start: 1.52, end: 2.52, method: 'REENCODE' });
    console.log(`[clips] re-encode of 1 s: ${Date.now() - started} ms, ${clip!.sizeBytes} bytes`);
    const file = path.join(temp.dir, 'reencoded.mp4');
    await writeFile(file, Buffer.from(await (await fetch(`${server.url}${clip!.downloadUrl}`)).arrayBuffer()));

    const first = await extractFrame(app.media, file, 0, { format: 'rgb24', width: 160 });
    const asked = await extractFrame(app.media, video.path, 1.52, { format: 'rgb24', width: 160 });
    const keyframeBefore = await extractFrame(app.media, video.path, 1, { format: 'rgb24', width: 160 });
    const toAsked = frameDistance(first.data, asked.data);
    // A copy would have started on the keyframe at 1 s instead.
    expect(toAsked).toBeLessThan(frameDistance(first.data, keyframeBefore.data) / 2);
    expect(toAsked).toBeLessThan(6);
  });

  it('reuses a cut already made', async () => {
    const started = Date.now();
    const { clip } = await exportClip(video.id, 1, 2.5);
    expect(clip).toMatchObject({ id: 'clip-video_1000-2500', method: 'STREAM_COPY' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await readdir(path.join(app.config.dataDir, 'cache', 'clips', video.id))).filter((f) => f.endsWith('.mp4'))).toHaveLength(2);
  });

  it('clips a span running past the end to the video', async () => {
    const { clip } = await exportClip(video.id, 5, 9);
    expect(clip!.end).toBeCloseTo(video.durationSec, 2);
  });

  it('answers typed errors for bad spans, unknown videos and the wrong role', async () => {
    const cases: [string, number, number, string, RegExp][] = [
      [video.id, 3, 2, 'BAD_USER_INPUT', /end must be after start/],
      [video.id, -1, 2, 'BAD_USER_INPUT', /start must be ≥ 0/],
      [video.id, 1, 1.1, 'BAD_USER_INPUT', /at least 0.2 s/],
      [video.id, 0, 601, 'BAD_USER_INPUT', /at most 600 s/],
      [video.id, 7, 8, 'BAD_USER_INPUT', /past the end of the video/],
      ['no-such-video', 0, 1, 'NOT_FOUND', /video no-such-video not found/],
    ];
    for (const [videoId, start, end, code, message] of cases) {
      const answer = await exportClip(videoId, start, end);
      expect({ videoId, start, end, code: answer.code }).toEqual({ videoId, start, end, code });
      expect(answer.message).toMatch(message);
    }
    expect((await exportClip(video.id, 0, 1, 'clip-search')).code).toBe('FORBIDDEN');
  });

  it('refuses unsigned or tampered clip URLs and 404s a signed URL that names no clip', async () => {
    const { clip } = await exportClip(video.id, 1, 2.5);
    expect((await fetch(`${server.url}${clip!.downloadUrl.replace('1000-2500', '1000-3000')}`)).status).toBe(403);
    expect((await fetch(`${server.url}/media/clip/${clip!.id}.mp4`)).status).toBe(403);
    const signer = new MediaUrlSigner(Buffer.from(MEDIA_SECRET, 'utf8'));
    expect((await fetch(`${server.url}${signer.clipUrl('no-such-video_0-1000')}`)).status).toBe(404);
    expect((await fetch(`${server.url}${signer.clipUrl(`${video.id}_0-900000`)}`)).status).toBe(404);
  });

  it('cuts a clip again when the cache lost it, and deleting the video deletes its clips', async () => {
    const clipDir = path.join(app.config.dataDir, 'cache', 'clips', video.id);
    const { clip } = await exportClip(video.id, 1, 2.5);
    await rm(clipDir, { recursive: true, force: true });
    const again = await fetch(`${server.url}${clip!.downloadUrl}`);
    expect(again.status).toBe(200);
    expect(Buffer.from(await again.arrayBuffer()).length).toBeGreaterThan(1000);

    await app.services.videos.delete(video.id);
    expect(existsSync(clipDir)).toBe(false);
    expect((await fetch(`${server.url}${clip!.downloadUrl}`)).status).toBe(404);
  });
});
