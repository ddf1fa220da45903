// The editors' console in a real browser (Chromium through playwright-core) against the real
// server and embedded store: the page asks for the editor key, searches dialogue and plays the
// hit's segment (the <video> seeks to it over range requests), exports the span as an MP4 and
// shows the typed error of a bad span, names a seeded face cluster, plays only that actor's spans,
// searches by a dropped screenshot, and queues an indexing job whose progress it polls.
// Screenshots go to test-artifacts/console/.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { VideoRecord } from '../../src/domain.js';
import { createLogger } from '../../src/logger.js';
import { extractFrame } from '../../src/media/frames.js';
import { loadFaceModels } from '../../src/models/faces/index.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { FACES_COLLECTION, type FaceRecord, type FaceTrackRecord } from '../../src/store/appearances.js';
import { chromiumAvailable, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { makeTempDir, makeTestVideo } from '../helpers/media.js';
import { repoRoot } from '../helpers/shared-data.js';

const EDITOR_KEY = 'console-editor-key';
const SHOTS_DIR = path.join(repoRoot, 'test-artifacts', 'console');

// The searched line lies in the second shot (cut at 4 s), so playing its segment must seek.
const SRT = `1
00:00:00,500 --> 00:00:02,500
今天天气很好
The weather is nice today

2
00:00:04,600 --> 00:00:06,400
我们去公园散步吧
Let's take a walk in the park
`;

/** Two face tracks of one unknown person: one in each shot. */
const TRACKS = [
  { id: 'track-a', shotIndex: 0, start: 1, end: 2.5 },
  { id: 'track-b', shotIndex: 1, start: 5, end: 6.5 },
];

const available = chromiumAvailable();

let temp: { dir: string; cleanup(): Promise<void> };
let app: App;
let server: RunningServer;
let browser: TestBrowser;
let page: Page;
let video: VideoRecord;
let mediaDir: string;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS_DIR, `${name}.png`), fullPage: false });
}

function unitVector(dim: number, seed: number): Float32Array {
  const v = new Float32Array(dim).map((_, i) => Math.sin(seed * 7.1 + i * 0.37) + (i === 0 ? 3 : 0));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** One unnamed face cluster over TRACKS, stored as the faces stage stores its results. */
async function seedFaceCluster(): Promise<void> {
  const { embedder } = await loadFaceModels({ modelDir: app.config.modelDir });
  await app.store.vectors.ensureCollection({ name: FACES_COLLECTION, dim: embedder.dim, metric: 'cosine', modelId: embedder.modelId });
  const tracks: FaceTrackRecord[] = [];
  const faces: FaceRecord[] = [];
  for (const [t, spec] of TRACKS.entries()) {
    const embedding = unitVector(embedder.dim, t);
    for (let f = 0; f < 3; f += 1) {
      const time = spec.start + f * 0.5;
      // A real crop of the picture (the test video has no faces; any JPEG stands in).
      const frame = await extractFrame(app.media, video.path, time, { width: 320, format: 'jpeg' });
      const thumbnail = await sharp(frame).extract({ left: 100 + f * 20, top: 40, width: 112, height: 112 }).jpeg().toBuffer();
      faces.push({ id: `${spec.id}-f${f}`, videoId: video.id, trackId: spec.id, time, box: { x: 100, y: 40, width: 112, height: 112 }, detectionScore: 0.9, quality: 0.9 - f * 0.1 - t * 0.05, thumbnail });
    }
    tracks.push({ ...spec, videoId: video.id, faceCount: 3, actorId: null, clusterId: 'cluster-1', similarity: null, confidence: 0, bestFaceId: `${spec.id}-f0`, embedding, modelId: embedder.modelId });
  }
  await app.store.appearances.replaceVideoFaces(video.id, { tracks, faces, spans: [], clusters: [] });
  await app.store.vectors.upsert(FACES_COLLECTION, faces.map((face) => ({ id: face.id, vector: tracks.find((t) => t.id === face.trackId)!.embedding, payload: { videoId: video.id, trackId: face.trackId, time: face.time } })));
  const now = new Date().toISOString();
  const vectorSum = tracks[0]!.embedding.map((x, i) => x + tracks[1]!.embedding[i]!);
  await app.store.appearances.putClusters([{ id: 'cluster-1', actorId: null, size: 2, vectorSum, modelId: embedder.modelId, bestFaceId: 'track-a-f0', bestFaceQuality: 0.9, createdAt: now, updatedAt: now }]);
}

/** Resolves once the page's <video> shows a frame at a time in [min, max) (and plays, when asked). */
async function waitForVideoAt(min: number, max: number, opts: { playing?: boolean; timeout?: number } = {}): Promise<{ currentTime: number; paused: boolean }> {
  await page.waitForFunction(
    ({ min, max, playing }) => {
      const el = document.querySelector('video');
      return Boolean(el && el.readyState >= 2 && el.currentTime >= min && el.currentTime < max && (!playing || !el.paused));
    },
    { min, max, playing: opts.playing ?? false },
    { timeout: opts.timeout ?? 30_000, polling: 100 },
  );
  return page.evaluate(() => {
    const el = document.querySelector('video')!;
    return { currentTime: el.currentTime, paused: el.paused };
  });
}

describe.skipIf(!available)('editors console in Chromium', () => {
  beforeAll(async () => {
    await mkdir(SHOTS_DIR, { recursive: true });
    temp = await makeTempDir('vidsearch-console-');
    mediaDir = path.join(temp.dir, 'media');
    await mkdir(mediaDir);
    const made = await makeTestVideo({ dir: mediaDir, name: 'episode', durationSec: 8, cuts: [4], audio: 'tone', srt: SRT, size: { width: 640, height: 360 } });
    const config = { ...loadConfig({ VIDSEARCH_API_KEYS: `${EDITOR_KEY}:editor` }), dataDir: path.join(temp.dir, 'store'), mediaRoots: [mediaDir] };
    app = await createApp(config, { log: createLogger('silent') });
    video = await app.indexNow({ path: made.path, title: 'Walk in the park', series: 'Console Tests', season: 1, episode: 1 });
    await seedFaceCluster();
    // The server's worker runs jobs queued from the page.
    await app.runner.start(200);
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
    await temp?.cleanup();
  });

  it('loads without a key, then asks for the editor key and keeps it for the tab', async () => {
    const html = await fetch(`${server.url}/console`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    await page.goto(`${server.url}/console`);
    const dialog = page.locator('#key-dialog');
    await dialog.waitFor({ state: 'visible' });
    await shot('01-key');
    await page.fill('#key-input', EDITOR_KEY);
    await page.click('#key-form button[type="submit"]');
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('#library', { hasText: '1 video indexed' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('vidsearch.editorKey'))).toBe(EDITOR_KEY);
  });

  it('searches dialogue and plays the hit: the video seeks into its segment', async () => {
    await page.fill('input[name="query"]', '公园');
    await page.click('.search-form button[type="submit"]');
    const card = page.locator('#search-results .card').first();
    await card.waitFor();
    await expect.poll(() => card.locator('mark').first().textContent()).toBe('公园');
    // The keyframe thumbnail is a signed /media URL the browser loaded without headers.
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#search-results .card img');
      return Boolean(img?.complete && img.naturalWidth > 0);
    });
    const start = Number(await card.getAttribute('data-start'));
    expect(start).toBeGreaterThanOrEqual(3.9);
    await shot('02-search');

    await card.click();
    const state = await waitForVideoAt(start - 0.05, video.durationSec);
    expect(state.currentTime).toBeGreaterThanOrEqual(start - 0.05);
    await page.waitForTimeout(600);
    await shot('03-playing');
  });

  it('exports the playing span as an MP4 download, and shows BAD_USER_INPUT for a backwards span', async () => {
    await page.click('.export-form button[type="submit"]');
    const link = page.locator('.download-link');
    await link.waitFor({ timeout: 60_000 });
    // The segment starts on the cut at 4 s, where the encoder put a keyframe: copied, not re-encoded.
    await expect.poll(() => page.locator('.export-result').textContent()).toContain('stream copy');
    const href = (await link.getAttribute('href'))!;
    expect(href).toMatch(/^\/media\/clip\/.+\.mp4\?exp=\d+&sig=/);
    const download = await fetch(`${server.url}${href}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('video/mp4');
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="?Walk_in_the_park_0m04\.0s-0m08\.0s\.mp4"?$/);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    // Tampering with the span breaks the signature.
    expect((await fetch(`${server.url}${href.replace(/_(\d+)-/, '_1000-')}`)).status).toBe(403);
    await shot('04-export');

    await page.fill('input[name="clipStart"]', '0:07');
    await page.fill('input[name="clipEnd"]', '0:03');
    await page.click('.export-form button[type="submit"]');
    await expect.poll(() => page.locator('.export-result').textContent()).toContain('BAD_USER_INPUT: end must be after start');
  });

  it('names a face cluster from its thumbnails', async () => {
    await page.click('[aria-controls="view-faces"]');
    const cluster = page.locator('.cluster[data-cluster-id="cluster-1"]');
    await cluster.waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.cluster .face img')].filter((img) => img.complete && img.naturalWidth > 0).length === 2);
    await cluster.locator('.face').first().click();
    await expect.poll(() => page.locator('.face-tools').textContent()).toContain('1 face selected');
    await shot('05-faces');

    await cluster.locator('input[name="clusterName"]').fill('林一');
    await cluster.locator('.name-form button').click();
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/Named 2 tracks 林一; \d+ faces learnt/);
    await expect.poll(() => page.locator('.cluster').count()).toBe(0);
    const named = await app.store.appearances.getCluster('cluster-1');
    const actor = named?.actorId ? await app.store.actors.getActor(named.actorId) : null;
    expect(actor?.name).toBe('林一');
  });

  it('plays only the named actor’s spans along their timeline', async () => {
    await page.click('[aria-controls="view-onlywatch"]');
    await page.selectOption('select[name="onlyWatchVideo"]', video.id);
    const row = page.locator('.actor-row', { hasText: '林一' });
    await row.waitFor();
    expect(await row.locator('.timeline-span').count()).toBe(2);
    // The actor's picture comes from a signed /media/actor URL.
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('.actor-row img.avatar');
      return Boolean(img?.src.includes('/media/actor/') && img.complete && img.naturalWidth > 0);
    });
    await page.click('.onlywatch-form button[type="submit"]');
    await expect.poll(() => page.locator('#view-onlywatch .summary').textContent()).toContain('2 spans');
    const first = await waitForVideoAt(TRACKS[0]!.start - 0.05, TRACKS[0]!.end, { playing: true });
    expect(first.paused).toBe(false);
    // After the first span the player jumps over the gap (2.5–5 s) to the second.
    const second = await waitForVideoAt(TRACKS[1]!.start - 0.05, TRACKS[1]!.end + 0.3, { timeout: 20_000 });
    expect(second.currentTime).toBeGreaterThanOrEqual(TRACKS[1]!.start - 0.05);
    expect(await page.locator('.player .timeline-span').count()).toBe(2);
    await shot('06-onlywatch');
    await page.evaluate(() => document.querySelector('video')!.pause());
  });

  it('filters search hits by actor (their appearances) and by detected object', async () => {
    await page.click('[aria-controls="view-search"]');
    await page.locator('select[name="actor"] option', { hasText: '林一' }).waitFor({ state: 'attached' });
    await page.selectOption('select[name="actor"]', { label: '林一' });
    await page.fill('input[name="query"]', '天气');
    await page.click('.search-form button[type="submit"]');
    // The line at 0.5 s lies in the first shot, where track-a (1–2.5 s) shows the actor.
    await expect.poll(() => page.locator('#view-search .summary').textContent()).toMatch(/^1 shown: .* actor filter$/);
    await page.selectOption('select[name="actor"]', '');
    await page.fill('input[name="object"]', 'cup');
    await page.click('.search-form button[type="submit"]');
    // Generated test pictures hold no cup.
    await expect.poll(() => page.locator('#view-search .summary').textContent()).toMatch(/^0 shown: the hits among 1 text matches that fit the object filter$/);
    await page.fill('input[name="object"]', '');
  });

  it('searches by a dropped screenshot and lists the video with its similarity', async () => {
    await page.click('[aria-controls="view-image"]');
    const screenshot = await extractFrame(app.media, video.path, 5.5, { format: 'jpeg' });
    await page.evaluate((base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'screenshot.jpg', { type: 'image/jpeg' }));
      document.querySelector('#image-drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, screenshot.toString('base64'));
    const best = page.locator('#image-results .match').first();
    await best.waitFor({ timeout: 60_000 });
    expect(await best.locator('.card-title').textContent()).toContain('Walk in the park');
    const similarity = Number(await best.getAttribute('data-similarity'));
    expect(similarity).toBeGreaterThan(0);
    expect(similarity).toBeLessThanOrEqual(1);
    await shot('07-image');
  });

  it('queues a file for indexing and follows the job to SUCCEEDED', async () => {
    const second = await makeTestVideo({ dir: mediaDir, name: 'short', durationSec: 2, audio: 'none' });
    await page.click('[aria-controls="view-jobs"]');
    await page.fill('.index-form input[name="path"]', second.path);
    await page.fill('.index-form input[name="title"]', 'Short one');
    await page.click('.index-form button[type="submit"]');
    await page.locator('#jobs tr', { hasText: 'short.mp4' }).first().waitFor();
    await shot('08-jobs-running');
    const done = page.locator('#jobs tr[data-status="SUCCEEDED"]', { hasText: 'Short one' });
    await done.waitFor({ timeout: 180_000 });
    expect(await done.locator('[role="progressbar"]').getAttribute('aria-valuenow')).toBe('100');
    await page.locator('#library', { hasText: '2 videos indexed' }).waitFor();
    await shot('09-jobs-done');
  });
});
