import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  createFramesStage,
  FRAME_COLLECTION,
  FRAME_COLORLAYOUT_COLLECTION,
  FRAME_COMPACT_COLLECTION,
  frameEvidenceModel,
  frameId,
} from '../../src/indexers/frames.js';
import type { StageContext } from '../../src/indexers/stage.js';
import {
  COLOR_LAYOUT_DIM,
  colorLayout,
  colorLayoutDistance,
  colorLayoutFromVector,
  colorLayoutVector,
} from '../../src/models/image-descriptors/color-layout.js';
import { findInnerRectangles, trimFlatBorders } from '../../src/models/image-descriptors/content-rect.js';
import type { ImageDescriptor } from '../../src/models/image-descriptors/mobilenet.js';
import { alignedCorrelation, ORB_FEATURES, OrbMatcher, packFeatures, ratioTestMatches, unpackFeatures, type LocalFeatures } from '../../src/models/image-descriptors/local-features.js';
import { startRatioTestThread } from '../../src/models/image-descriptors/ratio-test-thread.js';
import { compactProjectionFor, randomOrthogonalProjection } from '../../src/models/image-descriptors/projection.js';
import { greyThumbnail } from '../../src/models/image-descriptors/grey-thumbnail.js';
import type { RawImage } from '../../src/models/types.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { mediaRouter } from '../../src/http/media-routes.js';
import { MediaUrlSigner } from '../../src/http/media-urls.js';
import type { MediaService } from '../../src/services/media.service.js';
import type { VideoRecord } from '../../src/domain.js';
import { createImageSearchService, queryVariants, sniffContainer, type PhaseTimings } from '../../src/services/image-search/index.js';
import { createFakeStore, makeVideo } from '../helpers/fake-store.js';
import { repoRoot } from '../helpers/shared-data.js';

/** Deterministic pseudo-random RGB texture (a stand-in for picture content). */
function texture(width: number, height: number, seed = 1): RawImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    data[i] = (s >> 16) & 0xff;
  }
  return { data, width, height, channels: 3 };
}

/** Blurred texture: blocks of colour, so ORB finds corners and ColorLayout sees structure. */
function blocks(width: number, height: number, seed = 1, block = 16): RawImage {
  const noise = texture(Math.ceil(width / block), Math.ceil(height / block), seed);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const n = (Math.floor(y / block) * noise.width + Math.floor(x / block)) * 3;
      data.set(noise.data.subarray(n, n + 3), (y * width + x) * 3);
    }
  }
  return { data, width, height, channels: 3 };
}

function paste(page: RawImage, picture: RawImage, left: number, top: number): RawImage {
  const data = Uint8Array.from(page.data);
  for (let y = 0; y < picture.height; y++) {
    data.set(picture.data.subarray(y * picture.width * 3, (y + 1) * picture.width * 3), ((top + y) * page.width + left) * 3);
  }
  return { ...page, data };
}

function flat(width: number, height: number, rgb: [number, number, number]): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { data, width, height, channels: 3 };
}

function mirror(image: RawImage): RawImage {
  const data = new Uint8Array(image.data.length);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const from = (y * image.width + x) * 3;
      data.set(image.data.subarray(from, from + 3), (y * image.width + (image.width - 1 - x)) * 3);
    }
  }
  return { ...image, data };
}

describe('MPEG-7 ColorLayout (LIRE parity)', () => {
  it('gives 33 coefficients; a flat image has only a DC term (AC = the quantiser zero, 16)', () => {
    const layout = colorLayout(flat(64, 48, [120, 60, 200]));
    expect(layout.y.length + layout.cb.length + layout.cr.length).toBe(COLOR_LAYOUT_DIM);
    expect(COLOR_LAYOUT_DIM).toBe(33);
    expect([...layout.y.slice(1), ...layout.cb.slice(1), ...layout.cr.slice(1)].every((c) => c === 16)).toBe(true);
    // Y = 219·(0.299·120 + 0.587·60 + 0.114·200)/256 + 16.5 = 93 per pixel; DCT DC = 8·93 = 744.
    // Y per pixel = trunc(219·(0.299·120 + 0.587·60 + 0.114·200)/256 + 16.5) = 96; DC = 8·96 = 768;
    // quant_ydc(768 >> 3 = 96) = 16 + (32 >> 1) = 32; LIRE halves it: 16.
    expect(layout.y[0]).toBe(16);
  });

  it('is zero between identical images, large for a mirrored picture, and survives the vector round trip', () => {
    const picture = blocks(160, 90, 7, 20);
    const layout = colorLayout(picture);
    expect(colorLayoutDistance(layout, colorLayout(picture))).toBe(0);
    expect(colorLayoutDistance(layout, colorLayout(mirror(picture)))).toBeGreaterThan(5);
    expect(colorLayoutFromVector(colorLayoutVector(layout))).toEqual(layout);
  });
});

describe('content rectangle', () => {
  it('trims letterbox bars of any flat colour but keeps a dark scene whole', () => {
    const picture = blocks(200, 100, 3, 10);
    const boxed = paste(flat(200, 160, [0, 0, 0]), picture, 0, 30);
    expect(trimFlatBorders(boxed)).toEqual({ x: 0, y: 30, width: 200, height: 100 });
    const pillar = paste(flat(260, 100, [40, 40, 40]), picture, 30, 0);
    expect(trimFlatBorders(pillar)).toEqual({ x: 30, y: 0, width: 200, height: 100 });
    const dark = flat(200, 100, [5, 5, 5]);
    expect(trimFlatBorders(dark)).toEqual({ x: 0, y: 0, width: 200, height: 100 });
  });

  it('finds a frame pasted into a player page with a control bar', () => {
    const page = flat(400, 300, [128, 128, 128]);
    const withBar = paste(page, flat(400, 40, [30, 30, 30]), 0, 260);
    const withProgress = paste(withBar, flat(200, 4, [220, 20, 20]), 30, 275);
    const screenshot = paste(withProgress, blocks(160, 90, 5, 30), 50, 40);
    const [best] = findInnerRectangles(screenshot);
    expect(best).toBeDefined();
    const box = trimFlatBorders(screenshot, best!.box);
    expect(Math.abs(box.x - 50)).toBeLessThanOrEqual(1);
    expect(Math.abs(box.y - 40)).toBeLessThanOrEqual(1);
    expect(Math.abs(box.width - 160)).toBeLessThanOrEqual(2);
    expect(Math.abs(box.height - 90)).toBeLessThanOrEqual(2);
  });

  it('gives the CNN a player page\'s frame upright only, and the whole picture in both orientations', () => {
    const page = paste(flat(400, 300, [128, 128, 128]), flat(400, 40, [30, 30, 30]), 0, 260);
    const screenshot = paste(page, blocks(160, 90, 5, 30), 50, 40);
    const whole = { x: 0, y: 0, width: 400, height: 300 };
    const variants = queryVariants(screenshot);
    expect(variants.map((v) => ({ whole: v.region.width === whole.width && v.region.height === whole.height, mirror: v.mirror }))).toEqual([
      { whole: true, mirror: false },
      { whole: false, mirror: false },
      { whole: true, mirror: true },
    ]);
    expect(variants[2]!.region).toEqual(variants[0]!.region);
    const gradient = flat(200, 120, [0, 0, 0]);
    for (let y = 0; y < 120; y++) for (let x = 0; x < 200; x++) gradient.data.set([x, y * 2, 255 - x], (y * 200 + x) * 3);
    expect(queryVariants(gradient)).toEqual([
      { region: { x: 0, y: 0, width: 200, height: 120 }, mirror: false },
      { region: { x: 0, y: 0, width: 200, height: 120 }, mirror: true },
    ]);
  });

  it('finds no inner rectangle in a picture without straight outlines', () => {
    const gradient = flat(200, 120, [0, 0, 0]);
    for (let y = 0; y < 120; y++) for (let x = 0; x < 200; x++) gradient.data.set([x, y * 2, 255 - x], (y * 200 + x) * 3);
    expect(findInnerRectangles(gradient)).toEqual([]);
  });
});

describe('ORB geometric check', () => {
  it('verifies a crop of the same picture and rejects a different picture', async () => {
    const matcher = new OrbMatcher();
    const frame = blocks(320, 180, 11, 8);
    const crop = await sharp(frame.data, { raw: { width: 320, height: 180, channels: 3 } })
      .extract({ left: 40, top: 20, width: 224, height: 126 })
      .resize(300)
      .raw()
      .toBuffer({ resolveWithObject: true });
    const query = await matcher.extract({ data: new Uint8Array(crop.data), width: crop.info.width, height: crop.info.height, channels: 3 });
    const same = await matcher.match(query, await matcher.extract(frame));
    const other = await matcher.match(query, await matcher.extract(blocks(320, 180, 99, 8)));
    expect(same.inliers).toBeGreaterThan(30);
    expect(other.inliers).toBeLessThan(10);
  });
});

describe('ORB matching on two threads', () => {
  const compiledWorker = path.join(repoRoot, 'dist/src/models/image-descriptors/ratio-test-worker.js');

  async function pair(): Promise<[LocalFeatures, LocalFeatures]> {
    const matcher = new OrbMatcher();
    const frame = blocks(320, 180, 17, 8);
    const shifted = await sharp(frame.data, { raw: { width: 320, height: 180, channels: 3 } }).extract({ left: 30, top: 10, width: 260, height: 150 }).raw().toBuffer();
    return [await matcher.extract({ data: new Uint8Array(shifted), width: 260, height: 150, channels: 3 }), await matcher.extract(frame)];
  }

  it('splits the query rows: the halves together are the whole, in the same order', async () => {
    const [query, frame] = await pair();
    const half = Math.floor(query.count / 2);
    const first = ratioTestMatches(query, frame, [0, half]);
    const second = ratioTestMatches(query, frame, [half, query.count]);
    expect(first.from.length).toBeGreaterThan(0);
    expect([...first.from, ...second.from]).toEqual(ratioTestMatches(query, frame).from);
    // An offloaded half gives the same geometric check as one thread.
    const offloaded: string[] = [];
    const split = new OrbMatcher(ORB_FEATURES, async (q, f, rows) => {
      offloaded.push(rows.join('-'));
      return ratioTestMatches(q, f, rows);
    });
    expect(await split.match(query, frame)).toEqual(await new OrbMatcher().match(query, frame));
    expect(offloaded).toEqual([`0-${half}`]);
  });

  it('the compiled worker thread answers like this thread', async () => {
    if (!existsSync(compiledWorker)) return console.warn('[image-search] no dist/ build (run tsc): ratio-test thread check skipped');
    const [query, frame] = await pair();
    const thread = startRatioTestThread(pathToFileURL(compiledWorker));
    try {
      expect(await thread.match(query, frame, [3, query.count])).toEqual(ratioTestMatches(query, frame, [3, query.count]));
    } finally {
      await thread.close();
    }
    // A terminated thread costs the speed-up, not the answer.
    expect(await thread.match(query, frame, [0, 5])).toEqual(ratioTestMatches(query, frame, [0, 5]));
  });
});

describe('stored local features', () => {
  it('survive packing, and match themselves one to one', async () => {
    const features = await new OrbMatcher().extract(blocks(320, 180, 13, 8));
    expect(features.count).toBeGreaterThan(50);
    const packed = packFeatures(features);
    // From an unaligned offset, as SQLite hands BLOBs back.
    const shifted = new Uint8Array(packed.length + 1);
    shifted.set(packed, 1);
    const unpacked = unpackFeatures(shifted.subarray(1));
    expect(unpacked.count).toBe(features.count);
    expect([...unpacked.points]).toEqual([...features.points]);
    expect([...unpacked.descriptors]).toEqual([...features.descriptors]);
    const { from, to } = ratioTestMatches(unpacked, features);
    expect(from).toEqual(to);
    expect(from.length / 2).toBeGreaterThan(0.9 * features.count);
    expect(() => unpackFeatures(packed.subarray(0, packed.length - 1))).toThrow(/bytes/);
  });
});

describe('aligned correlation (time refinement)', () => {
  it('is 1 for the same picture under its homography, whatever the contrast, and lower for a moved picture', () => {
    const frame = blocks(160, 90, 21, 6);
    const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const contrast = { ...frame, data: frame.data.map((v) => Math.round(v / 2 + 40)) };
    expect(alignedCorrelation(contrast, frame, identity)).toBeGreaterThan(0.99);
    // The query is the frame at half size: its homography to the frame scales by 2.
    const half = { data: new Uint8Array(80 * 45 * 3), width: 80, height: 45, channels: 3 as const };
    for (let y = 0; y < 45; y++) for (let x = 0; x < 80; x++) half.data.set(frame.data.subarray((2 * y * 160 + 2 * x) * 3, (2 * y * 160 + 2 * x) * 3 + 3), (y * 80 + x) * 3);
    expect(alignedCorrelation(half, frame, [2, 0, 0, 0, 2, 0, 0, 0, 1])).toBeGreaterThan(0.9);
    const moved = blocks(160, 90, 22, 6);
    expect(alignedCorrelation(moved, frame, identity)!).toBeLessThan(0.3);
  });
});

describe('upload checks', () => {
  it('recognises containers by magic bytes, not by name', () => {
    expect(sniffContainer(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]))).toBe('jpeg');
    expect(sniffContainer(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe('png');
    expect(sniffContainer(Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1'))).toBe('webp');
    expect(sniffContainer(Buffer.from('GIF89a......', 'latin1'))).toBe('gif');
    expect(sniffContainer(Buffer.from('\0\0\0\x20ftypisom', 'latin1'))).toBe('video');
    expect(sniffContainer(Buffer.from('<html><body>', 'latin1'))).toBeNull();
  });

  const descriptor: ImageDescriptor = { modelId: 'fake', dim: 2, describe: async (inputs) => inputs.map(() => Float32Array.of(1, 0)) };
  const service = createImageSearchService({
    store: createFakeStore(),
    log: pino({ level: 'silent' }),
    descriptor,
    matcher: new OrbMatcher(),
    readFrames: async function* () {},
    readThumbnails: async function* () {},
    firstFrame: async () => Buffer.alloc(0),
    limits: { maxBytes: 200_000, maxPixels: 1_000_000 },
  });
  const png = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: '#336699' } }).png().toBuffer();

  it('loads the CNN, ORB and both first-stage collections when warmed up, before any query', async () => {
    const store = createFakeStore();
    const described: number[] = [];
    const counting: ImageDescriptor = { ...descriptor, describe: async (inputs) => (described.push(inputs.length), descriptor.describe(inputs)) };
    const warmed = createImageSearchService({ store, log: pino({ level: 'silent' }), descriptor: counting, matcher: new OrbMatcher(), readFrames: async function* () {}, readThumbnails: async function* () {}, firstFrame: async () => Buffer.alloc(0) });
    await warmed.warmUp();
    expect(described).toEqual([1]);
    expect(store.callCount('vectors.search')).toBe(2);
  });

  it('turns bad input into typed errors', async () => {
    const code = (p: Promise<unknown>) => p.then(() => 'ok', (err: { code?: string }) => err.code);
    expect(await code(service.searchByImage({}))).toBe('BAD_USER_INPUT');
    expect(await code(service.searchByImage({ image: await png(10, 10), imageBase64: 'aGVsbG8=' }))).toBe('BAD_USER_INPUT');
    expect(await code(service.searchByImage({ image: Buffer.from('not an image at all') }))).toBe('BAD_USER_INPUT');
    expect(await code(service.searchByImage({ imageBase64: '%%%not base64%%%' }))).toBe('BAD_USER_INPUT');
    expect(await code(service.searchByImage({ image: await png(10, 10), first: 0 }))).toBe('BAD_USER_INPUT');
    // Over the pixel limit is a bad argument; over the byte limit is too large a payload.
    expect(await code(service.searchByImage({ image: await png(2000, 1000) }))).toBe('BAD_USER_INPUT');
    expect(await code(service.searchByImage({ image: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(300_000)]) }))).toBe('PAYLOAD_TOO_LARGE');
    const base64 = (await png(32, 32)).toString('base64');
    expect(await service.searchByImage({ imageBase64: `data:image/png;base64,${base64}` })).toEqual([]);
  });
});

describe('compact projection (first stage)', () => {
  const unit = (values: number[]) => {
    const norm = Math.hypot(...values);
    return Float32Array.from(values, (v) => v / norm);
  };
  const cosine = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
  const random = (seed: number, dim: number) => {
    let s = seed;
    return unit(
      Array.from({ length: dim }, () => {
        s = (s * 1103515245 + 12345) & 0x7fffffff;
        return s / 0x7fffffff - 0.5;
      }),
    );
  };

  it('is deterministic, unit-length, names its source model, and keeps near neighbours nearest', () => {
    const source = { modelId: 'cnn-x', dim: 512 };
    const a = randomOrthogonalProjection(source, 64, 7);
    const b = randomOrthogonalProjection(source, 64, 7);
    const x = random(1, 512);
    expect([...a.project(x)]).toEqual([...b.project(x)]);
    expect(Math.hypot(...a.project(x))).toBeCloseTo(1, 5);
    expect(a.modelId).toBe('cnn-x+rop64-s7');
    expect(randomOrthogonalProjection(source, 64, 8).project(x)).not.toEqual(a.project(x));
    // A slightly perturbed copy stays closer after projection than unrelated vectors.
    const near = unit([...x].map((v, i) => v + 0.2 * (random(2, 512)[i] ?? 0)));
    const others = Array.from({ length: 50 }, (_, i) => random(100 + i, 512));
    const nearScore = cosine(a.project(x), a.project(near));
    expect(others.every((o) => cosine(a.project(x), a.project(o)) < nearScore)).toBe(true);
    expect(() => a.project(random(3, 100))).toThrow(/512/);
  });

  it('is shared per descriptor model and never wider than its source', () => {
    expect(compactProjectionFor({ modelId: 'm', dim: 1280 })).toBe(compactProjectionFor({ modelId: 'm', dim: 1280 }));
    expect(compactProjectionFor({ modelId: 'm', dim: 1280 }).dim).toBe(128);
    expect(compactProjectionFor({ modelId: 'tiny', dim: 3 }).dim).toBe(3);
  });
});

describe('frames stage', () => {
  it('drops near-identical frames, spans the kept ones over their repeats, and uses deterministic ids', async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'vidsearch-frames-stage-'));
    const store = await openEmbeddedStore(work);
    try {
      const video = makeVideo({ durationSec: 3 });
      await store.catalog.putVideo(video);
      const a = blocks(64, 36, 1, 4);
      const b = blocks(64, 36, 2, 4);
      let frames = [a, a, a, b, b, a].map((image, i) => ({ time: i * 0.5, data: Buffer.from(image.data), width: 64, height: 36 }));
      let described = 0;
      const descriptor: ImageDescriptor = {
        modelId: 'fake-cnn',
        dim: 3,
        describe: async (inputs) => inputs.map(() => (described++, Float32Array.of(1, 0, 0))),
      };
      const stage = createFramesStage({
        descriptor,
        frames: async function* () {
          yield* frames;
        } as unknown as NonNullable<Parameters<typeof createFramesStage>[0]>['frames'],
      });
      const ctx = {
        video,
        store,
        media: { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' },
        config: loadConfig({}),
        log: pino({ level: 'silent' }),
        signal: new AbortController().signal,
        reportProgress: () => {},
      } as unknown as StageContext;
      const out = await stage.run(ctx, undefined);
      expect(out).toMatchObject({ sampled: 6, kept: 3, descriptorModelId: 'fake-cnn' });
      expect(described).toBe(3);
      const ids = async (collection: string) => (await store.vectors.search(collection, new Float32Array(collection === FRAME_COLORLAYOUT_COLLECTION ? COLOR_LAYOUT_DIM : 3), 100)).map((h) => h.id).sort();
      const expected = [frameId(video.id, 0), frameId(video.id, 1.5), frameId(video.id, 2.5)].sort();
      expect(await ids(FRAME_COLLECTION)).toEqual(expected);
      expect(await ids(FRAME_COMPACT_COLLECTION)).toEqual(expected);
      expect(await ids(FRAME_COLORLAYOUT_COLLECTION)).toEqual(expected);
      const [first] = await store.vectors.get(FRAME_COLLECTION, [frameId(video.id, 0)]);
      expect(first!.payload).toMatchObject({ videoId: video.id, time: 0, from: 0, to: 1 });
      // Every sampled frame is stored for verification: a JPEG and its features, repeats marked.
      const model = frameEvidenceModel(new OrbMatcher());
      const evidence = await store.frameEvidence.window(video.id, model, 0, 10);
      expect(evidence.map((e) => [e.time, e.repeat])).toEqual([[0, false], [0.5, true], [1, true], [1.5, false], [2, true], [2.5, false]]);
      expect(evidence.every((e) => e.picture[0] === 0xff && e.picture[1] === 0xd8 && unpackFeatures(e.features).count >= 0)).toBe(true);
      // A range opening on repeats is led by the frame they repeat; another model's rows are not read.
      expect((await store.frameEvidence.window(video.id, model, 0.5, 1.2)).map((e) => e.time)).toEqual([0, 0.5, 1]);
      expect(await store.frameEvidence.window(video.id, 'orb100-jpeg64', 0, 10)).toEqual([]);
      // Another video's frames, and other collections of this video, are not touched by a re-index.
      await store.vectors.upsert(FRAME_COLLECTION, [{ id: 'other:0', vector: Float32Array.of(0, 1, 0), payload: { videoId: 'other', time: 0, from: 0, to: 0 } }]);
      await store.vectors.ensureCollection({ name: 'faces-test', dim: 3, metric: 'cosine', modelId: 'f' });
      await store.vectors.upsert('faces-test', [{ id: 'face', vector: Float32Array.of(1, 0, 0), payload: { videoId: video.id } }]);
      // Re-indexing with another sampling leaves only the new run's frames of this video.
      frames = [a, b, a].map((image, i) => ({ time: i * 0.4, data: Buffer.from(image.data), width: 64, height: 36 }));
      await stage.run(ctx, undefined);
      const resampled = [frameId(video.id, 0), frameId(video.id, 0.4), frameId(video.id, 0.8)].sort();
      expect(await ids(FRAME_COLLECTION)).toEqual([...resampled, 'other:0'].sort());
      expect(await ids(FRAME_COMPACT_COLLECTION)).toEqual(resampled);
      expect(await ids(FRAME_COLORLAYOUT_COLLECTION)).toEqual(resampled);
      expect(await store.vectors.count('faces-test')).toBe(1);
      expect((await store.frameEvidence.window(video.id, model, 0, 10)).map((e) => e.time)).toEqual([0, 0.4, 0.8]);
      // Deleting the video drops its evidence with it.
      await store.catalog.deleteVideo(video.id);
      expect(await store.frameEvidence.window(video.id, model, 0, 10)).toEqual([]);
    } finally {
      await store.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('verification on stored evidence', () => {
  it('verifies from the stored frames without ffmpeg, and falls back to ffmpeg for an index without them', async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'vidsearch-evidence-'));
    const store = await openEmbeddedStore(work);
    try {
      const matcher = new OrbMatcher();
      const descriptor: ImageDescriptor = { modelId: 'fake-cnn', dim: 2, describe: async (inputs) => inputs.map(() => Float32Array.of(1, 0)) };
      const compact = compactProjectionFor(descriptor);
      await store.vectors.ensureCollection({ name: FRAME_COLLECTION, dim: 2, metric: 'cosine', modelId: descriptor.modelId });
      await store.vectors.ensureCollection({ name: FRAME_COMPACT_COLLECTION, dim: compact.dim, metric: 'cosine', modelId: compact.modelId });
      const early = blocks(320, 180, 31, 8);
      const late = blocks(320, 180, 32, 8);
      const jpeg = (image: RawImage) => sharp(image.data, { raw: { width: 320, height: 180, channels: 3 } }).jpeg({ quality: 75 }).toBuffer();
      const index = async (video: ReturnType<typeof makeVideo>, withEvidence: boolean) => {
        await store.catalog.putVideo(video);
        const kept = [{ time: 1, to: 3.5, image: early }, { time: 4, to: 9.5, image: late }];
        const points = kept.map((k) => ({ id: frameId(video.id, k.time), vector: Float32Array.of(1, 0), payload: { videoId: video.id, time: k.time, from: k.time, to: k.to } }));
        await store.vectors.upsert(FRAME_COLLECTION, points);
        await store.vectors.upsert(FRAME_COMPACT_COLLECTION, points.map((p) => ({ ...p, vector: compact.project(p.vector) })));
        if (!withEvidence) return;
        const frames = [];
        for (let time = 1; time < 10; time += 0.5) {
          const image = time < 4 ? early : late;
          // The thumbnail of the very frame, as the frames stage stores it (the media read to refine the moment shows the same pixels).
          frames.push({ time, picture: await jpeg(image), features: packFeatures(await matcher.extract(image)), repeat: time !== 1 && time !== 4, thumbnail: await greyThumbnail(image) });
        }
        await store.frameEvidence.add(video.id, frameEvidenceModel(matcher), frames);
      };
      const stored = makeVideo({ durationSec: 10 });
      const old = makeVideo({ durationSec: 10 });
      await index(stored, true);
      await index(old, false);
      const decodedWindows: string[] = [];
      const readFrames = async function* (video: VideoRecord, opts: { start: number; end: number; fps?: number }) {
        // No fps: every frame of the file (a 25 fps one), as localisation's refinement reads them.
        const fps = opts.fps ?? 25;
        decodedWindows.push(`${video.id}:${opts.fps ?? 'every frame'}`);
        for (let time = Math.ceil(opts.start * fps) / fps; time <= opts.end; time += 1 / fps) {
          const image = time < 4 ? early : late;
          yield { time, data: image.data, width: image.width, height: image.height };
        }
      };
      const service = createImageSearchService({
        store,
        log: pino({ level: 'silent' }),
        descriptor,
        matcher,
        readFrames,
        readThumbnails: async function* (video, opts) {
          for await (const frame of readFrames(video, opts)) {
            const { grey, width, height } = await greyThumbnail({ ...frame, channels: 3 });
            yield { time: frame.time, data: grey, width, height };
          }
        },
        firstFrame: async () => Buffer.alloc(0),
      });
      // A slight crop: enough inliers for a certain match (similarity ≥ 0.9).
      const screenshot = await sharp(late.data, { raw: { width: 320, height: 180, channels: 3 } }).extract({ left: 10, top: 6, width: 300, height: 168 }).png().toBuffer();

      const phases: PhaseTimings = {};
      const [match] = await service.searchByImage({ image: screenshot, filter: { videoIds: [stored.id] }, first: 1 }, { phases });
      expect(match!.video.id).toBe(stored.id);
      expect(match!.inliers).toBeGreaterThanOrEqual(10);
      // The late picture stands still from 4 s to 9.5 s: no pixel tells its frames apart, so the
      // answer is the middle of that stretch, and the stretch is from/to.
      expect([match!.from, match!.to]).toEqual([4, 9.5]);
      // Measured by the time the stretch covers: the frames decoded around its best peaks at 25 fps do not pull the middle.
      expect(match!.at).toBeCloseTo(6.75, 6);
      expect(match!.timeConfidence).toBeLessThan(0.5);
      // Stored evidence: no window is decoded for verification; only the moment's refinement reads the media.
      expect(decodedWindows.filter((w) => !w.endsWith(':every frame'))).toEqual([]);
      expect(Object.keys(phases)).toEqual(expect.arrayContaining(['decode', 'cnn', 'firstStage', 'verifyRead', 'orbMatch', 'localise']));
      // A stored frame of the stretch is served from the store (the match's thumbnail).
      expect(match!.frameTime).toBeGreaterThanOrEqual(4);
      expect([...(await service.matchFrame(stored.id, match!.frameTime!))!.subarray(0, 2)]).toEqual([0xff, 0xd8]);
      expect(await service.matchFrame(stored.id, 4.25)).toBeNull();
      // A certain upright match: the mirrored variants are never described nor scanned.
      expect(match!.similarity).toBeGreaterThanOrEqual(0.9);
      expect(phases.cnn!.calls).toBe(1);
      // A mirrored screenshot verifies through the mirrored ORB features.
      const flipped = await sharp(screenshot).flop().png().toBuffer();
      const mirroredPhases: PhaseTimings = {};
      const [mirroredMatch] = await service.searchByImage({ image: flipped, filter: { videoIds: [stored.id] }, first: 1 }, { phases: mirroredPhases });
      expect(mirroredMatch!.inliers).toBeGreaterThanOrEqual(10);
      expect(mirroredMatch!.at).toBeGreaterThanOrEqual(4);
      expect(mirroredPhases.orbExtract!.calls).toBe(2);

      const [fallback] = await service.searchByImage({ image: screenshot, filter: { videoIds: [old.id] }, first: 1 });
      expect(fallback!.video.id).toBe(old.id);
      expect(fallback!.inliers).toBeGreaterThanOrEqual(10);
      expect(fallback!.at).toBeGreaterThanOrEqual(4);
      expect(fallback!.frameTime).toBeNull();
      // Only the index without stored frames is decoded at the sampling rate (verification's windows).
      const sampledDecodes = decodedWindows.filter((w) => !w.endsWith(':every frame'));
      expect(sampledDecodes.length).toBeGreaterThan(0);
      expect(new Set(sampledDecodes.map((w) => w.split(':')[0]))).toEqual(new Set([old.id]));
    } finally {
      await store.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('stored match frames over /media', () => {
  it('serves a signed frame URL, and refuses unsigned URLs and frames not stored', async () => {
    const signer = new MediaUrlSigner(Buffer.alloc(32, 7));
    const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xd9]);
    const app = express();
    const frames = { matchFrame: async (videoId: string, time: number) => (videoId === 'v 1' && time === 2.5 ? jpeg : null) };
    app.use('/media', mediaRouter({ media: {} as MediaService, signer, log: pino({ level: 'silent' }), frames }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const served = await fetch(base + signer.matchFrameUrl('v 1', 2.5));
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toBe('image/jpeg');
      expect(new Uint8Array(await served.arrayBuffer())).toEqual(jpeg);
      expect((await fetch(`${base}/media/frame/v%201/2500.jpg`)).status).toBe(403);
      expect((await fetch(base + signer.matchFrameUrl('v 1', 3))).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
