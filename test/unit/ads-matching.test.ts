// Contextual ad matching on the real embedded store: text (BM25 over jieba terms, focus vs
// context), actors, objects → IAB categories, scenes, exclusions, brand safety, flight dates,
// ad breaks at quiet cuts, typed errors for bad input, and cleanup when a video is deleted.
import { codeOf } from '../helpers/errors.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CueRecord, SegmentRecord, ShotRecord } from '../../src/domain.js';
import { visualRisks } from '../../src/indexers/nsfw-risk.js';
import { createAdsService, type AdsService } from '../../src/services/ads/index.js';
import type { SegmentTagRecord } from '../../src/store/ads.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import { createFakeStore, makeVideo } from '../helpers/fake-store.js';

const log = pino({ level: 'silent' });

let dir: string;
let store: Store;
let ads: AdsService;
const video = makeVideo({ durationSec: 40 });
const ACTOR = 'actor_s2';

/** Four 10 s shots/segments; lines every 3 s; the actor on screen 5–20 s. */
async function seed(): Promise<void> {
  const segments: SegmentRecord[] = [0, 1, 2, 3].map((i) => ({ id: `${video.id}:seg:${i}`, videoId: video.id, index: i, shotIndex: i, start: i * 10, end: i * 10 + 10, keyframeTime: i * 10 + 5 }));
  const shots: ShotRecord[] = segments.map((s) => ({ id: `${video.id}:shot:${s.index}`, videoId: video.id, index: s.index, start: s.start, end: s.end, keyframeTime: s.keyframeTime, transition: s.index ? 'CUT' : 'START' }));
  const lines: [number, number, string][] = [
    [0.1, 2.9, 'Bin blue at f two now.'],
    [3.1, 5.9, 'Bin red by k seven now.'],
    [6.1, 8.9, 'Set white with p two soon.'],
    [11, 13, '我们去喝一杯牛奶吧'],
    [14, 16, 'this is a sentence with a forbidden word'],
    [31, 33, '今天天气很好'],
  ];
  const cues: CueRecord[] = lines.map(([start, end, text], i) => ({
    id: `${video.id}:cue:${i}`,
    videoId: video.id,
    segmentId: segments[Math.floor(start / 10)]!.id,
    start,
    end,
    text,
    kind: 'SUBTITLE',
    source: 'SIDECAR',
    lang: null,
  }));
  await store.catalog.putVideo(video);
  await store.catalog.replaceStructure(video.id, shots, segments);
  await store.catalog.replaceCues(video.id, ['SIDECAR'], cues);
  const now = new Date().toISOString();
  await store.actors.createActor({ id: ACTOR, name: 'S2', aliases: [], createdAt: now, updatedAt: now }, []);
  await store.appearances.replaceSpans(video.id, 'VOICE', [
    { id: 'span1', videoId: video.id, actorId: ACTOR, start: 5, end: 20, confidence: 0.9, evidence: 'VOICE', sourceIds: [], bestFaceId: null },
  ]);
  const tag = (segment: number, kind: SegmentTagRecord['kind'], label: string, score: number): SegmentTagRecord => ({
    videoId: video.id,
    segmentId: segments[segment]!.id,
    kind,
    label,
    score,
    source: kind === 'OBJECT' ? 'MODEL' : 'HEURISTIC',
    box: null,
  });
  await store.tags.replaceVideoTags(video.id, ['OBJECT', 'SCENE', 'MOOD'], [
    tag(2, 'OBJECT', 'wine glass', 0.8),
    tag(2, 'SCENE', 'night', 0.9),
    tag(3, 'SCENE', 'outdoor', 0.7),
    tag(3, 'MOOD', 'calm', 0.6),
  ]);
  await store.catalog.putArtifact(video.id, 'scenes', { speech: [{ start: 0, end: 9 }, { start: 11, end: 16 }] });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-ads-'));
  store = await openEmbeddedStore(dir);
  ads = createAdsService({ store, log, today: () => '2026-06-01' });
  await seed();
  await ads.upsertAd({ id: 'ad_blue', title: 'Blue paint', keywords: ['blue', '蓝色'], categories: ['IAB10'] });
  await ads.upsertAd({ id: 'ad_s2', title: 'Sponsor of s2', actors: [ACTOR] });
  await ads.upsertAd({ id: 'ad_milk', title: '特仑苏', keywords: ['牛奶'], excludeKeywords: ['forbidden'] });
  await ads.upsertAd({ id: 'ad_wine', title: 'Wine', categories: ['IAB8-18'] });
  await ads.upsertAd({ id: 'ad_travel', title: 'Trips', scenes: ['室外'], moods: ['calm'] });
});

afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const ids = (matches: { ad: { id: string } }[]): string[] => matches.map((m) => m.ad.id);

/** Counts each catalog method call of a store's ads service. */
function countingAds(base: Store): { service: AdsService; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const catalog = new Proxy(base.catalog, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        reads.set(String(key), (reads.get(String(key)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { service: createAdsService({ store: { ...base, catalog }, log, today: () => '2026-06-01' }), reads };
}

describe('matchAds', () => {
  it('prefers the keyword said at the moment over an actor, and the actor over the same keyword said nearby', async () => {
    const atBlue = await ads.matchAds({ videoId: video.id, time: 1.5 });
    expect(ids(atBlue)[0]).toBe('ad_blue');
    expect(atBlue[0]!.reasons[0]).toMatchObject({ kind: 'KEYWORD', value: 'blue', weight: 1 });

    const later = await ads.matchAds({ videoId: video.id, time: 7.5 });
    expect(ids(later)[0]).toBe('ad_s2');
    const blue = later.find((m) => m.ad.id === 'ad_blue')!;
    expect(blue.reasons.map((r) => r.kind)).toEqual(['CONTEXT']);
    expect(blue.score).toBeCloseTo(0.3, 5);
  });

  it('matches Chinese keywords through jieba words, but an exclude keyword nearby rules the ad out', async () => {
    // 牛奶 at 11–13 s, "forbidden" at 14–16 s (context): excluded.
    expect(ids(await ads.matchAds({ videoId: video.id, time: 12 }))).not.toContain('ad_milk');
    await ads.upsertAd({ id: 'ad_milk', title: '特仑苏', keywords: ['牛奶'] });
    const matches = await ads.matchAds({ videoId: video.id, time: 12 });
    expect(matches.find((m) => m.ad.id === 'ad_milk')?.reasons[0]).toMatchObject({ kind: 'KEYWORD', value: '牛奶' });
  });

  it('derives IAB categories from objects (subcategory exact) and matches scenes and moods given in Chinese', async () => {
    const night = await ads.matchAds({ segmentId: `${video.id}:seg:2` });
    expect(night[0]).toMatchObject({ ad: { id: 'ad_wine' } });
    expect(night[0]!.reasons).toEqual([{ kind: 'CATEGORY', value: 'IAB8-18 (wine glass)', weight: 0.4 }]);
    const outdoor = await ads.matchAds({ segmentId: `${video.id}:seg:3` });
    expect(outdoor.find((m) => m.ad.id === 'ad_travel')!.score).toBeCloseTo(0.4 * 0.7 + 0.3 * 0.6, 5);
  });

  it('applies brand safety: moderation flags and avoided scenes', async () => {
    await ads.upsertAd({ id: 'ad_wine', title: 'Wine', categories: ['IAB8-18'], brandSafety: { avoidScenes: ['night'] } });
    expect(ids(await ads.matchAds({ segmentId: `${video.id}:seg:2` }))).not.toContain('ad_wine');
    await ads.upsertAd({ id: 'ad_wine', title: 'Wine', categories: ['IAB8-18'] });

    await store.moderation.addKeywords('violence', ['white']);
    expect(ids(await ads.matchAds({ videoId: video.id, time: 1.5 }))).toEqual([]);
    await ads.upsertAd({ id: 'ad_blue', title: 'Blue paint', keywords: ['blue'], brandSafety: { avoidFlagged: true, avoidLists: ['other'] } });
    expect(ids(await ads.matchAds({ videoId: video.id, time: 1.5 }))).toContain('ad_blue');
    await store.moderation.removeKeywords('violence', ['white']);
  });

  it('applies brand safety to the graded visual risk of the segment, within each ad’s tolerance', async () => {
    const travel = { id: 'ad_travel', title: 'Trips', scenes: ['室外'], moods: ['calm'] };
    const seg3 = `${video.id}:seg:3`;
    const risk = (value: number) => ({ id: 'risk3', videoId: video.id, segmentId: seg3, label: 'PORN' as const, start: 30, end: 40, score: 0.9, risk: value, flagged: value > 0.5, evidenceTimes: [31.5], modelId: 'test' });
    await ads.upsertAd({ ...travel, brandSafety: { avoidFlagged: true } });
    expect(ids(await ads.matchAds({ segmentId: seg3 }))).toContain('ad_travel');
    await store.technical.replaceVisualFlags(video.id, [risk(0.75)]);
    expect(ids(await ads.matchAds({ segmentId: seg3 }))).not.toContain('ad_travel');
    const matching = await ads.adMatching({ segmentId: seg3 });
    expect(matching.visualRisk).toBe(0.75);
    expect(matching.excluded).toContainEqual({ reason: 'VISUAL_RISK', count: 1, adIds: ['ad_travel'] });
    // An ad that avoids only some keyword lists still runs next to a visual flag (its default tolerance is 1).
    await ads.upsertAd({ ...travel, brandSafety: { avoidFlagged: true, avoidLists: ['violence'] } });
    expect((await ads.ad('ad_travel'))!.brandSafety.maxVisualRisk).toBe(1);
    expect(ids(await ads.matchAds({ segmentId: seg3 }))).toContain('ad_travel');
    // A tolerance of its own: stricter or more lenient than the flag line.
    await ads.upsertAd({ ...travel, brandSafety: { maxVisualRisk: 0.8 } });
    expect(ids(await ads.matchAds({ segmentId: seg3 }))).toContain('ad_travel');
    await store.technical.replaceVisualFlags(video.id, [risk(0.4)]);
    await ads.upsertAd({ ...travel, brandSafety: { maxVisualRisk: 0.3 } });
    expect(ids(await ads.matchAds({ segmentId: seg3 }))).not.toContain('ad_travel');
    await store.technical.replaceVisualFlags(video.id, []);
    await ads.upsertAd(travel);
  });

  it('keeps serving a segment whose single frame nsfwjs misread (graded, unflagged), and an empty answer says why', async () => {
    const seg3 = `${video.id}:seg:3`;
    // What the nsfw stage stores for one benign frame at Porn 0.71 and nothing else: risk at the line, not over it.
    const risks = visualRisks(video.id, [{ id: seg3, videoId: video.id, index: 3, shotIndex: 3, start: 30, end: 40, keyframeTime: 35 }], [
      { time: 31, scores: { Drawing: 0, Hentai: 0, Neutral: 0.29, Porn: 0.71, Sexy: 0 }, skinOutsideFaces: 0.5 },
      { time: 36, scores: { Drawing: 0, Hentai: 0, Neutral: 0.9, Porn: 0.05, Sexy: 0.05 }, skinOutsideFaces: null },
    ], 'nsfwjs');
    expect(risks.map((r) => r.flagged)).toEqual([false]);
    await store.technical.replaceVisualFlags(video.id, risks);
    const travel = await ads.adMatching({ segmentId: seg3 });
    expect(travel.matches.map((m) => m.ad.id)).toContain('ad_travel');
    expect(travel.visualRisk).toBe(0.5);
    // Every ad that scored here is ruled out: the answer is empty and names the reason.
    await ads.upsertAd({ id: 'ad_travel', title: 'Trips', scenes: ['室外'], moods: ['calm'], brandSafety: { maxVisualRisk: 0.2 } });
    const strict = await ads.adMatching({ segmentId: seg3 });
    const others = strict.matches.map((m) => m.ad.id);
    expect(others).not.toContain('ad_travel');
    expect(strict.excluded.find((e) => e.reason === 'VISUAL_RISK')?.adIds).toContain('ad_travel');
    await store.technical.replaceVisualFlags(video.id, []);
    await ads.upsertAd({ id: 'ad_travel', title: 'Trips', scenes: ['室外'], moods: ['calm'] });
  });

  it('refuses a visual-risk tolerance outside 0..1', async () => {
    expect(await codeOf(ads.upsertAd({ id: 'ad_bad', title: 'Bad', brandSafety: { maxVisualRisk: 1.5 } }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.upsertAd({ id: 'ad_bad', title: 'Bad', brandSafety: { maxVisualRisk: Number.NaN } }))).toBe('BAD_USER_INPUT');
    expect(await ads.ad('ad_bad')).toBeNull();
  });

  it('skips ads outside their flight dates', async () => {
    await ads.upsertAd({ id: 'ad_s2', title: 'Sponsor of s2', actors: [ACTOR], flightEnd: '2026-05-31' });
    expect(ids(await ads.matchAds({ videoId: video.id, time: 7.5 }))).not.toContain('ad_s2');
    await ads.upsertAd({ id: 'ad_s2', title: 'Sponsor of s2', actors: [ACTOR], flightStart: '2026-06-01' });
    expect(ids(await ads.matchAds({ videoId: video.id, time: 7.5 }))[0]).toBe('ad_s2');
  });

  it('offers breaks at cuts without speech, each with ads for the moment before it', async () => {
    const breaks = await ads.adBreaks(video.id);
    // Cuts at 10 (speech 0–9 ends 1 s before: quiet), 20 (quiet), 30 (quiet); none at 0 or near the end.
    expect(breaks.map((b) => b.time)).toEqual([10, 20, 30]);
    expect(breaks[2]!.ads.map((m) => m.ad.id)).toContain('ad_wine');
  });

  it('ranks every break as matchAds ranks its segment, reading the video once for all breaks', async () => {
    const { service: counted, reads } = countingAds(store);
    const breaks = await counted.adBreaks(video.id, null, 5);
    expect(breaks).toHaveLength(3);
    expect(reads.get('getCues')).toBe(2); // speech fallback + the breaks' lines, not one per break
    expect(reads.get('segmentAt') ?? 0).toBe(0);
    for (const adBreak of breaks) expect(adBreak.ads).toEqual(await ads.matchAds({ segmentId: adBreak.segmentId }, 5));
  });
});

describe.each([
  ['embedded store', async (): Promise<Store> => store],
  ['in-memory fake', async (): Promise<Store> => createFakeStore()],
])('matchAds reads the moment’s lines only (%s)', (_name, open) => {
  it('reads the lines around the moment, plus its segment’s own lines wherever they fall', async () => {
    const target = await open();
    const short = makeVideo({ id: 'short-video', durationSec: 30 });
    const segments: SegmentRecord[] = [0, 1, 2].map((i) => ({ id: `short:seg:${i}`, videoId: short.id, index: i, shotIndex: i, start: i * 10, end: i * 10 + 10, keyframeTime: i * 10 + 5 }));
    // A subtitle running past the end of the video is assigned to the last segment (segmentFor),
    // though it lies past that segment's context window; a line far before counts for nothing.
    const line = (i: number, start: number, text: string, segment: number): CueRecord => ({ id: `short:cue:${i}`, videoId: short.id, segmentId: segments[segment]!.id, start, end: start + 2, text, kind: 'SUBTITLE', source: 'SIDECAR', lang: null });
    await target.catalog.putVideo(short);
    await target.catalog.replaceStructure(short.id, [], segments);
    await target.catalog.replaceCues(short.id, ['SIDECAR'], [line(0, 1, 'paint it blue', 0), line(1, 50, 'the blue sky', 2)]);
    const { service, reads } = countingAds(target);
    await service.upsertAd({ id: 'ad_blue', title: 'Blue paint', keywords: ['blue'] });

    const bySegment = await service.matchAds({ segmentId: segments[2]!.id });
    expect(bySegment.find((m) => m.ad.id === 'ad_blue')?.reasons).toEqual([{ kind: 'KEYWORD', value: 'blue', weight: 1 }]);
    // At 25 s the focus is the time: the late line is neither at it nor within its context.
    expect(await service.matchAds({ videoId: short.id, time: 25 })).toEqual([]);
    expect(reads.get('getCues') ?? 0).toBe(0);
    expect(reads.get('getCuesOverlapping')).toBe(2);
  });
});

describe('inventory and bad input', () => {
  it('pages the inventory and deletes ads', async () => {
    const page = await ads.ads(2, null);
    expect(page.totalCount).toBe(5);
    expect(page.edges.map((e) => e.node.id)).toEqual(['ad_blue', 'ad_milk']);
    const next = await ads.ads(10, page.pageInfo.endCursor);
    expect(next.edges.map((e) => e.node.id)).toEqual(['ad_s2', 'ad_travel', 'ad_wine']);
    await ads.upsertAd({ id: 'ad_tmp', title: 'Temporary', keywords: ['blue'] });
    expect(await ads.deleteAd('ad_tmp')).toBe(true);
    expect(await ads.deleteAd('ad_tmp')).toBe(false);
    expect(ids(await ads.matchAds({ videoId: video.id, time: 1.5 }))).not.toContain('ad_tmp');
  });

  it('rejects bad ads and bad queries with typed errors', async () => {
    expect(await codeOf(ads.upsertAd({ title: '  ' }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.upsertAd({ title: 'x', categories: ['food'] }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.upsertAd({ title: 'x', objects: ['spaceship'] }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.upsertAd({ title: 'x', scenes: ['underwater'] }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.upsertAd({ title: 'x', actors: ['nobody'] }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.upsertAd({ title: 'x', flightStart: '2026-13-01' }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.upsertAd({ title: 'x', flightStart: '2026-06-02', flightEnd: '2026-06-01' }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.upsertAd({ title: 'x', creativeUrl: 'javascript:alert(1)' }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.matchAds({}))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.matchAds({ videoId: video.id }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.matchAds({ segmentId: 'x', videoId: video.id, time: 1 }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.matchAds({ videoId: video.id, time: -1 }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.matchAds({ videoId: video.id, time: 999 }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.matchAds({ videoId: video.id, time: 1 }, 0))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.matchAds({ videoId: video.id, time: 1 }, 101))).toBe('BAD_USER_INPUT');
    expect(await codeOf(ads.matchAds({ segmentId: 'missing' }))).toBe('NOT_FOUND');
    expect(await codeOf(ads.matchAds({ videoId: 'missing', time: 1 }))).toBe('NOT_FOUND');
    expect(await codeOf(ads.adBreaks('missing'))).toBe('NOT_FOUND');
  });

  it('drops the tags of a deleted video with the video row', async () => {
    const other = makeVideo();
    await store.catalog.putVideo(other);
    await store.tags.replaceVideoTags(other.id, ['OBJECT'], [{ videoId: other.id, segmentId: 's', kind: 'OBJECT', label: 'cup', score: 1, source: 'MODEL', box: null }]);
    expect(await store.tags.getTagsOfVideo(other.id)).toHaveLength(1);
    await store.catalog.deleteVideo(other.id);
    expect(await store.tags.getTagsOfVideo(other.id)).toHaveLength(0);
  });
});
