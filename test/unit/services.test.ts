import { codeOf } from '../helpers/errors.js';
import { mkdtemp, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { UnsupportedMediaError } from '../../src/errors.js';
import { createIndexingService, type MediaInspector, type ProbedMedia } from '../../src/services/indexing.service.js';
import { createMediaService } from '../../src/services/media.service.js';
import { createSearchService } from '../../src/services/search.service.js';
import { createVideoService } from '../../src/services/video.service.js';
import { contentHash, probeMedia } from '../../src/media/probe.js';
import { boundedTotal } from '../../src/store/interfaces.js';
import { resolveMediaTools } from '../../src/media/tools.js';
import { createFakeStore, seedVideo, type FakeStore } from '../helpers/fake-store.js';
import { sharedData } from '../helpers/shared-data.js';
import { voiceCluster, withVector } from '../store/conformance-voice-clusters.js';

const log = pino({ level: 'silent' });

const goodProbe: ProbedMedia = { durationSec: 12, fps: 25, width: 640, height: 360, rotation: 0, startTime: 0, hasVideo: true, hasAudio: true };

/** Hash = the file's text repeated, so two files with the same text are "the same content". */
function fakeInspector(probe: (file: string) => Promise<ProbedMedia> = async () => goodProbe): MediaInspector & { probes: number } {
  const inspector = {
    probes: 0,
    async probe(file: string) {
      inspector.probes += 1;
      return probe(file);
    },
    async contentHash(file: string) {
      const { readFile } = await import('node:fs/promises');
      const text = (await readFile(file, 'utf8')).trim();
      return Buffer.from(text.padEnd(32, '0')).toString('hex').slice(0, 64);
    },
  };
  return inspector;
}

let workDir: string;
let mediaRoot: string;
let store: FakeStore;

function config(overrides: Partial<Config['indexing']> = {}): Config {
  const base = loadConfig({ VIDSEARCH_MEDIA_ROOTS: mediaRoot, VIDSEARCH_DATA_DIR: path.join(workDir, 'data') }, workDir);
  return { ...base, indexing: { ...base.indexing, ...overrides } };
}

beforeEach(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'vidsearch-services-'));
  mediaRoot = path.join(workDir, 'media');
  await mkdir(mediaRoot);
  store = createFakeStore();
});

afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function enrolActors(...ids: string[]): Promise<void> {
  const at = new Date().toISOString();
  for (const id of ids) await store.raw.actors.createActor({ id, name: id, aliases: [], createdAt: at, updatedAt: at }, []);
}

async function mediaFile(name: string, content = name): Promise<string> {
  const file = path.join(mediaRoot, name);
  await writeFile(file, content);
  return file;
}

describe('IndexingService.indexVideo', () => {
  it('refuses empty paths, paths outside the media roots (also through symlinks) and missing files', async () => {
    const indexing = createIndexingService({ store, inspector: fakeInspector(), config: config(), log });
    const outsideFile = path.join(workDir, 'secret.mp4');
    await writeFile(outsideFile, 'secret');
    await symlink(outsideFile, path.join(mediaRoot, 'link.mp4'));

    expect(await codeOf(indexing.indexVideo({ path: '  ' }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(indexing.indexVideo({ path: outsideFile }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(indexing.indexVideo({ path: path.join(mediaRoot, 'link.mp4') }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(indexing.indexVideo({ path: path.join(mediaRoot, '..', 'secret.mp4') }))).toBe('BAD_USER_INPUT');
    await expect(indexing.indexVideo({ path: path.join(mediaRoot, 'missing.mp4') })).rejects.toThrow(/does not exist/);
    // Outside the roots a missing file reads as "outside", so callers cannot probe the disk.
    await expect(indexing.indexVideo({ path: path.join(workDir, 'nope.mp4') })).rejects.toThrow(/outside the media roots/);
    expect(await codeOf(indexing.indexVideo({ path: mediaRoot }))).toBe('BAD_USER_INPUT');
    expect(store.raw.jobs.jobs.size).toBe(0);
  });

  it('accepts a symlink that resolves inside a media root', async () => {
    const indexing = createIndexingService({ store, inspector: fakeInspector(), config: config(), log });
    const real = await mediaFile('real.mp4');
    const linkDir = path.join(workDir, 'elsewhere');
    await mkdir(linkDir);
    await symlink(real, path.join(linkDir, 'alias.mp4'));
    const job = await indexing.indexVideo({ path: path.join(linkDir, 'alias.mp4') });
    expect(job.request.path).toBe(real);
  });

  it('answers UNSUPPORTED_MEDIA from the probe before any job or video exists', async () => {
    const broken = fakeInspector(async () => {
      throw new UnsupportedMediaError('not a video');
    });
    const audioOnly = fakeInspector(async () => ({ ...goodProbe, hasVideo: false }));
    const file = await mediaFile('text.mp4', 'just text');
    expect(await codeOf(createIndexingService({ store, inspector: broken, config: config(), log }).indexVideo({ path: file }))).toBe('UNSUPPORTED_MEDIA');
    expect(await codeOf(createIndexingService({ store, inspector: audioOnly, config: config(), log }).indexVideo({ path: file }))).toBe('UNSUPPORTED_MEDIA');
    expect(store.raw.jobs.jobs.size).toBe(0);
    expect(store.raw.catalog.videos.size).toBe(0);
  });

  it('creates a PENDING video named after the content hash and queues one job', async () => {
    const inspector = fakeInspector();
    const indexing = createIndexingService({ store, inspector, config: config(), log });
    const file = await mediaFile('episode-1.mp4');
    const job = await indexing.indexVideo({ path: file, series: ' Drama ', season: 1, episode: 2, priority: 5 });
    const hash = await inspector.contentHash(file);
    expect(job).toMatchObject({ status: 'QUEUED', videoId: `vid_${hash.slice(0, 16)}`, priority: 5 });
    expect(store.raw.catalog.videos.get(job.videoId!)).toMatchObject({
      status: 'PENDING',
      title: 'episode-1',
      series: 'Drama',
      season: 1,
      episode: 2,
      durationSec: 12,
      path: file,
      contentHash: hash,
    });
  });

  it('stores a cast list of enrolled actors with the video and its job; refuses unknown actors before probing', async () => {
    const inspector = fakeInspector();
    const indexing = createIndexingService({ store, inspector, config: config(), log });
    await enrolActors('act_a', 'act_b');
    const file = await mediaFile('cast.mp4');
    expect(await codeOf(indexing.indexVideo({ path: file, cast: ['act_a', 'act_nobody'] }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(indexing.indexVideo({ path: file, cast: ['act_a', ''] }))).toBe('BAD_USER_INPUT');
    expect(inspector.probes).toBe(0);
    const job = await indexing.indexVideo({ path: file, cast: ['act_b', ' act_a', 'act_b'] });
    expect(store.raw.catalog.videos.get(job.videoId!)!.cast).toEqual(['act_b', 'act_a']);
    expect(job.request.cast).toEqual(['act_b', 'act_a']);
  });

  it('returns the active job for the same content and patches its metadata; re-indexes once it finished', async () => {
    const indexing = createIndexingService({ store, inspector: fakeInspector(), config: config(), log });
    const first = await indexing.indexVideo({ path: await mediaFile('a.mp4', 'same bytes') });
    const again = await indexing.indexVideo({ path: await mediaFile('copy.mp4', 'same bytes'), title: 'Renamed' });
    expect(again.id).toBe(first.id);
    expect(store.raw.catalog.videos.get(first.videoId!)?.title).toBe('Renamed');

    await store.raw.jobs.complete(first.id);
    await store.raw.catalog.updateVideo(first.videoId!, { status: 'READY' });
    const moved = path.join(mediaRoot, 'moved.mp4');
    await writeFile(moved, 'same bytes');
    const reindex = await indexing.indexVideo({ path: moved });
    expect(reindex.id).not.toBe(first.id);
    expect(reindex.videoId).toBe(first.videoId);
    expect(store.raw.catalog.videos.size).toBe(1);
    expect(store.raw.catalog.videos.get(first.videoId!)).toMatchObject({ path: moved, status: 'PENDING', title: 'Renamed' });
  });

  it('creates one job when the same file is submitted twice at once', async () => {
    const indexing = createIndexingService({ store, inspector: fakeInspector(), config: config(), log });
    const file = await mediaFile('twice.mp4');
    const [a, b] = await Promise.all([indexing.indexVideo({ path: file }), indexing.indexVideo({ path: file })]);
    expect(a.id).toBe(b.id);
    expect(store.raw.jobs.jobs.size).toBe(1);
  });

  it('cancels the oldest queued jobs beyond maxBacklog', async () => {
    const indexing = createIndexingService({ store, inspector: fakeInspector(), config: config({ maxBacklog: 2 }), log });
    const oldest = await indexing.indexVideo({ path: await mediaFile('1.mp4') });
    await indexing.indexVideo({ path: await mediaFile('2.mp4') });
    const newest = await indexing.indexVideo({ path: await mediaFile('3.mp4') });
    expect((await indexing.job(oldest.id))?.status).toBe('CANCELLED');
    expect((await indexing.job(newest.id))?.status).toBe('QUEUED');
  });

  it('validates metadata and priority before probing', async () => {
    const inspector = fakeInspector();
    const indexing = createIndexingService({ store, inspector, config: config(), log });
    const file = await mediaFile('meta.mp4');
    expect(await codeOf(indexing.indexVideo({ path: file, season: -1 }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(indexing.indexVideo({ path: file, priority: 1.5 }))).toBe('BAD_USER_INPUT');
    expect(inspector.probes).toBe(0);
  });

  it('lists, pages and cancels jobs; NOT_FOUND for an unknown job', async () => {
    const indexing = createIndexingService({ store, inspector: fakeInspector(), config: config(), log });
    for (const name of ['a.mp4', 'b.mp4', 'c.mp4']) await indexing.indexVideo({ path: await mediaFile(name) });
    const page1 = await indexing.jobs('QUEUED', 2, null);
    expect(page1.edges).toHaveLength(2);
    expect(page1.totalCount).toBe(3);
    const page2 = await indexing.jobs('QUEUED', 2, page1.pageInfo.endCursor);
    expect(page2.edges).toHaveLength(1);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    const cancelled = await indexing.cancelJob(page2.edges[0]!.node.id);
    expect(cancelled.status).toBe('CANCELLED');
    expect(await codeOf(indexing.cancelJob('job_missing'))).toBe('NOT_FOUND');
    expect(await indexing.job('job_missing')).toBeNull();
  });
});

describe('VideoService', () => {
  const purged: string[] = [];
  const derivedFiles = { purgeVideo: async (id: string) => void purged.push(id) };

  it('updates metadata: validates, trims, null clears, omitted keys stay', async () => {
    const videos = createVideoService({ store, derivedFiles, log, scoreFace: async () => [] });
    const { video } = await seedVideo(store, { video: { series: 'Old', season: 3 } });
    const updated = await videos.update(video.id, { title: '  New title ', season: null });
    expect(updated).toMatchObject({ title: 'New title', season: null, series: 'Old' });
    expect(await codeOf(videos.update(video.id, { episode: -2 }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(videos.update(video.id, { season: 1.5 }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(videos.update(video.id, { title: 'x'.repeat(501) }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(videos.update('vid_missing', { title: 'x' }))).toBe('NOT_FOUND');
  });

  it('updates the cast: enrolled actors only, [] or null clears it, omitted keeps it', async () => {
    const videos = createVideoService({ store, derivedFiles, log, scoreFace: async () => [] });
    await enrolActors('act_a', 'act_b');
    const { video } = await seedVideo(store);
    expect((await videos.update(video.id, { cast: ['act_a', 'act_b'] })).cast).toEqual(['act_a', 'act_b']);
    expect((await videos.update(video.id, { title: 'Renamed' })).cast).toEqual(['act_a', 'act_b']);
    expect(await codeOf(videos.update(video.id, { cast: ['act_c'] }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(videos.update(video.id, { cast: Array.from({ length: 301 }, (_, k) => `act_${k}`) }))).toBe('BAD_USER_INPUT');
    expect((await videos.update(video.id, { cast: [] })).cast).toBeNull();
    expect((await videos.update(video.id, { cast: ['act_b'] })).cast).toEqual(['act_b']);
    expect((await videos.update(video.id, { cast: null })).cast).toBeNull();
  });

  it('deletes a video with its job, catalog rows, text documents, vectors, voice clusters and cached files', async () => {
    const videos = createVideoService({ store, derivedFiles, log, scoreFace: async () => [] });
    const { video } = await seedVideo(store);
    const other = await seedVideo(store);
    const job = await store.raw.jobs.enqueue({ kind: 'INDEX_VIDEO', videoId: video.id, request: { path: video.path } });
    await store.raw.vectors.upsert('frames', [{ id: 'p1', vector: new Float32Array([1]), payload: { videoId: video.id } }]);
    // A face vector whose payload lacks the video id: only the appearance records tie it to the video.
    await store.raw.vectors.upsert('faces', [{ id: 'face1', vector: new Float32Array([1]), payload: {} }]);
    await store.raw.appearances.replaceVideoFaces(video.id, {
      tracks: [],
      faces: [{ id: 'face1', videoId: video.id, trackId: 't1', time: 1, box: { x: 0, y: 0, width: 10, height: 10 }, detectionScore: 1, quality: 1, thumbnail: null }],
      spans: [{ id: 'span1', videoId: video.id, actorId: 'a1', start: 0, end: 5, confidence: 1, evidence: 'FACE', sourceIds: ['t1'], bestFaceId: 'face1' }],
      clusters: [],
    });
    await store.raw.moderation.replaceFlags({ videoId: video.id, keywordsVersion: 1, videoUpdatedAt: video.updatedAt }, []);
    // Backends without the SQLite triggers rely on the service to clear tags, signals and evidence.
    const segmentId = `${video.id}-s0`;
    for (const videoId of [video.id, other.video.id]) {
      await store.raw.tags.replaceVideoTags(videoId, ['SCENE'], [{ videoId, segmentId, kind: 'SCENE', label: 'indoor', score: 1, source: 'HEURISTIC', box: null }]);
      await store.raw.highlights.replaceVideoSignals(videoId, [{ videoId, segmentId, start: 0, end: 5, features: [1] }]);
      await store.raw.frameEvidence.add(videoId, 'm', [{ time: 1, picture: new Uint8Array([1]), features: new Uint8Array([2]), repeat: false }]);
      await store.raw.voiceClusters.replaceVideo(videoId, [withVector(voiceCluster(`${videoId}:voice-cluster:0`, videoId, video.createdAt))]);
    }

    await videos.delete(video.id);
    expect(await store.raw.tags.getTagsOfVideo(video.id)).toEqual([]);
    expect(await store.raw.highlights.getSignalsOfVideo(video.id)).toEqual([]);
    expect(await store.raw.frameEvidence.window(video.id, 'm', 0, 10)).toEqual([]);
    expect(await store.raw.tags.getTagsOfVideo(other.video.id)).toHaveLength(1);
    expect(await store.raw.frameEvidence.window(other.video.id, 'm', 0, 10)).toHaveLength(1);
    expect(await store.raw.voiceClusters.listOfVideo(video.id)).toEqual([]);
    expect(await store.raw.voiceClusters.listOfVideo(other.video.id)).toHaveLength(1);
    expect((await store.raw.jobs.get(job.id))?.status).toBe('CANCELLED');
    expect(await store.raw.catalog.getVideo(video.id)).toBeNull();
    expect(await store.raw.catalog.getSegmentsOfVideo(video.id)).toEqual([]);
    expect([...store.raw.text.docs.values()].some((d) => d.videoId === video.id)).toBe(false);
    expect(await store.raw.vectors.count('frames')).toBe(0);
    expect(await store.raw.vectors.count('faces')).toBe(0);
    expect(store.raw.appearances.faces.size).toBe(0);
    expect(await store.raw.appearances.getSpansOfVideo(video.id)).toEqual([]);
    expect(store.raw.moderation.checks.has(video.id)).toBe(false);
    expect(purged).toContain(video.id);
    // The other video is untouched.
    expect(await store.raw.catalog.getSegmentsOfVideo(other.video.id)).toHaveLength(3);
    expect(await codeOf(videos.delete(video.id))).toBe('NOT_FOUND');
  });

  it('pages through videos with per-edge cursors, resuming from the middle of a page', async () => {
    const videos = createVideoService({ store, derivedFiles, log, scoreFace: async () => [] });
    for (let i = 0; i < 5; i += 1) await seedVideo(store, { segmentCount: 0 });
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await videos.list({}, 2, after);
      expect(page.totalCount).toBe(5);
      seen.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);

    const firstPage = await videos.list({}, 3, null);
    const fromMiddle = await videos.list({}, 2, firstPage.edges[0]!.cursor);
    expect(fromMiddle.edges.map((e) => e.node.id)).toEqual(seen.slice(1, 3));
    expect(await codeOf(videos.list({}, 101, null))).toBe('BAD_USER_INPUT');
    expect(await codeOf(videos.list({}, 2, 'garbage'))).toBe('BAD_USER_INPUT');
  });

  it('reads segments, shots and cues of a video as pages', async () => {
    const videos = createVideoService({ store, derivedFiles, log, scoreFace: async () => [] });
    const { video, segments } = await seedVideo(store, { segmentCount: 4 });
    const page = await videos.segments(video.id, 3, null);
    expect(page.edges.map((e) => e.node.id)).toEqual(segments.slice(0, 3).map((s) => s.id));
    expect(page.pageInfo.hasNextPage).toBe(true);
    const rest = await videos.segments(video.id, 3, page.pageInfo.endCursor);
    expect(rest.edges.map((e) => e.node.id)).toEqual([segments[3]!.id]);
    expect((await videos.shots(video.id, 2, null)).totalCount).toBe(4);
    const cues = await videos.cues(video.id, ['SUBTITLE'], 10, null);
    expect(cues.edges).toHaveLength(4);
    expect((await videos.cues(video.id, ['ON_SCREEN_TEXT'], 10, null)).totalCount).toBe(0);
  });
});

describe('SearchService.searchSegments', () => {
  it('validates the query, page size, filter and cursor', async () => {
    const search = createSearchService({ store, log });
    expect(await codeOf(search.searchSegments('   '))).toBe('BAD_USER_INPUT');
    await expect(search.searchSegments('x', null, 101)).rejects.toThrow(/page size over the maximum/);
    expect(await codeOf(search.searchSegments('x', { from: 10, to: 5 }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(search.searchSegments('x', { from: -1 }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(search.searchSegments('x', null, 5, 'not-a-cursor'))).toBe('BAD_USER_INPUT');
  });

  it('returns hits with segment, video, cue and snippet, paged with batched catalog reads', async () => {
    const search = createSearchService({ store, log });
    const { video } = await seedVideo(store, { segmentCount: 5, cueText: (i) => `the weather is fine ${i}` });
    await seedVideo(store, { segmentCount: 2, cueText: () => 'nothing to see' });
    store.resetCalls();

    const page = await search.searchSegments('weather', null, 3, null);
    expect(page.totalCount).toBe(5);
    expect(page.edges).toHaveLength(3);
    const hit = page.edges[0]!.node;
    expect(hit.video.id).toBe(video.id);
    expect(hit.segment.videoId).toBe(video.id);
    expect(hit.cue?.segmentId).toBe(hit.segment.id);
    expect(hit.snippet).toContain('<em>weather</em>');
    expect(store.callCount('catalog.getSegmentsByIds')).toBe(1);
    expect(store.callCount('catalog.getVideos')).toBe(1);
    expect(store.callCount('catalog.getCuesByIds')).toBe(1);
    expect(store.callCount('catalog.getSegment')).toBe(0);

    const next = await search.searchSegments('weather', null, 3, page.pageInfo.endCursor);
    expect(next.edges).toHaveLength(2);
    expect(next.pageInfo.hasNextPage).toBe(false);
    const ids = [...page.edges, ...next.edges].map((e) => e.node.segment.id);
    expect(new Set(ids).size).toBe(5);
  });

  it('pages on past a total that stopped at the bound, and says the total is not exact', async () => {
    const search = createSearchService({ store, log });
    await seedVideo(store, { segmentCount: 9, cueText: (i) => `snow day ${i}` });
    // The text index as it answers with a bound of 4: 9 segments match, the total stops at 4.
    const exact = store.text.search.bind(store.text);
    vi.spyOn(store.text, 'search').mockImplementation(async (query) => {
      const found = await exact(query);
      return { ...found, ...boundedTotal(found.total, 4) };
    });
    const seen: string[] = [];
    let after: string | null = null;
    for (const expected of [true, true, false]) {
      const page = await search.searchSegments('snow', null, 3, after);
      expect(page).toMatchObject({ totalCount: 4, totalCountIsExact: false, pageInfo: { hasNextPage: expected } });
      seen.push(...page.edges.map((e) => e.node.segment.id));
      after = page.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(9);
    vi.restoreAllMocks();
    expect(await search.searchSegments('snow', null, 3)).toMatchObject({ totalCount: 9, totalCountIsExact: true });
  });

  it('passes filters to the text index and defaults to 20 hits', async () => {
    const search = createSearchService({ store, log });
    const a = await seedVideo(store, { segmentCount: 25, cueText: () => 'rain' });
    await seedVideo(store, { segmentCount: 3, cueText: () => 'rain' });
    expect((await search.searchSegments('rain')).edges).toHaveLength(20);
    const onlyA = await search.searchSegments('rain', { videoIds: [a.video.id], from: 0, to: 25 });
    expect(onlyA.totalCount).toBe(3);
    expect(onlyA.edges.every((e) => e.node.video.id === a.video.id)).toBe(true);
    expect((await search.searchSegments('rain', { kinds: ['ON_SCREEN_TEXT'] })).totalCount).toBe(0);
  });
});

describe('MediaService', () => {
  it('extracts a keyframe once, serves it from the cache and purges it with the video', async () => {
    const extract = vi.fn(async () => Buffer.from('jpeg bytes'));
    const cacheDir = path.join(workDir, 'cache');
    const media = createMediaService({ store, extractFrame: extract, cacheDir, log });
    const { video, segments } = await seedVideo(store);
    const [first, second] = await Promise.all([media.keyframe(segments[1]!.id, 320), media.keyframe(segments[1]!.id, 320)]);
    expect(first).toBe(second);
    expect(await media.keyframe(segments[1]!.id, 320)).toBe(first);
    expect(extract).toHaveBeenCalledTimes(1);
    expect(extract).toHaveBeenCalledWith(video.path, segments[1]!.keyframeTime, { width: 320 });
    expect(await media.keyframe('missing', null)).toBeNull();
    expect(await codeOf(media.keyframe(segments[1]!.id, 5))).toBe('BAD_USER_INPUT');

    await media.purgeVideo(video.id);
    expect(await readdir(path.join(cacheDir, 'keyframes'))).toEqual([]);
  });
});

describe('IndexingService with the real ffprobe', () => {
  function realInspector(cfg: Config): MediaInspector {
    const tools = resolveMediaTools(cfg);
    return { probe: (file) => probeMedia(tools, file, { timeoutMs: cfg.indexing.probeTimeoutMs }), contentHash };
  }

  it('answers UNSUPPORTED_MEDIA for a text file renamed .mp4 and creates nothing', async () => {
    const cfg = config();
    const indexing = createIndexingService({ store, inspector: realInspector(cfg), config: cfg, log });
    const fake = await mediaFile('notes.mp4', 'this is just text, not a video\n'.repeat(40));
    expect(await codeOf(indexing.indexVideo({ path: fake }))).toBe('UNSUPPORTED_MEDIA');
    expect(store.raw.jobs.jobs.size).toBe(0);
    expect(store.raw.catalog.videos.size).toBe(0);
  });

  const clip = sharedData('derived/grid_montage.mp4');
  it.skipIf(!clip)('queues a real video with its probed duration, size and sha256 id', async () => {
    const base = config();
    const cfg = { ...base, mediaRoots: [path.dirname(clip!)] };
    const indexing = createIndexingService({ store, inspector: realInspector(cfg), config: cfg, log });
    const job = await indexing.indexVideo({ path: clip! });
    const video = store.raw.catalog.videos.get(job.videoId!)!;
    expect(video.id).toBe(`vid_${video.contentHash.slice(0, 16)}`);
    expect(video.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(video.durationSec).toBeGreaterThan(0);
    expect(video.width).toBeGreaterThan(0);
    expect(video.height).toBeGreaterThan(0);
    expect(job.status).toBe('QUEUED');
  });
});
