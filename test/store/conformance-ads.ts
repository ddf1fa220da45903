// The contract of the ads, tags, highlights and moderation repositories, backend-agnostic: the
// embedded SQLite repositories, the Elasticsearch ones and the in-memory fakes all run it through
// the interfaces in src/store/ads.ts and src/store/moderation.ts only.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf } from '../helpers/errors.js';
import type { PageArgs, Page } from '../../src/domain.js';
import type {
  AdRecord,
  AdRepository,
  HighlightFeedbackRecord,
  HighlightModelRecord,
  HighlightRepository,
  HighlightSignalsRecord,
  SegmentTagRecord,
  TagKind,
  TagRepository,
} from '../../src/store/ads.js';
import type { FlagRecord, ModerationRepository } from '../../src/store/moderation.js';

export interface RepositoryFixture<R> {
  /** Fresh, empty repositories. */
  repos: R;
  /** Closes them and removes whatever they left behind. */
  dispose(): Promise<void>;
}
type Open<R> = () => Promise<RepositoryFixture<R>>;

export function ad(id: string, overrides: Partial<AdRecord> = {}): AdRecord {
  return {
    id,
    advertiser: `Advertiser ${id}`,
    title: `Ad ${id}`,
    creativeUrl: `https://ads.example/${id}.mp4`,
    keywords: ['咖啡', 'coffee', 'Latte'],
    categories: ['IAB8', 'IAB8-18'],
    actors: ['actor-1'],
    objects: ['cup'],
    scenes: ['indoor'],
    moods: ['calm'],
    excludeKeywords: ['funeral'],
    brandSafety: { avoidFlagged: true, avoidLists: ['violence'], avoidScenes: ['night'], maxVisualRisk: 0.4 },
    flightStart: '2024-05-01',
    flightEnd: null,
    createdAt: '2024-05-01T00:00:00.000Z',
    updatedAt: '2024-05-01T00:00:00.000Z',
    ...overrides,
  };
}

export function tag(videoId: string, segment: number, kind: TagKind, label: string, score: number, overrides: Partial<SegmentTagRecord> = {}): SegmentTagRecord {
  return {
    videoId,
    segmentId: `${videoId}-seg${segment}`,
    kind,
    label,
    score,
    source: kind === 'OBJECT' ? 'MODEL' : 'HEURISTIC',
    box: kind === 'OBJECT' ? { x: 10 * segment, y: 20, width: 64, height: 48.5 } : null,
    ...overrides,
  };
}

export function signals(videoId: string, starts: readonly number[]): HighlightSignalsRecord[] {
  return starts.map((start, i) => ({
    videoId,
    segmentId: `${videoId}-seg${i}`,
    start,
    end: start + 10,
    // Doubles a float32 or a rounded encoding would not keep exactly.
    features: [0.1 + 0.2, -1e-7, 1e-300, start / 3, 1 / 7, i],
  }));
}

export function feedback(id: string, videoId: string, good: boolean): HighlightFeedbackRecord {
  return { id, videoId, start: 10, end: 20, good, features: [0.5, 1 / 3, 0, 2, -1.25, 1], createdAt: '2024-05-01T00:00:00.000Z' };
}

export function model(updates: number): HighlightModelRecord {
  return { weights: [0.1 * updates, 1 / 3, -2, 0, 1e-9, 5], bias: -0.75 + updates, updates, updatedAt: `2024-05-01T00:00:0${updates}.000Z` };
}

export function flag(videoId: string, cue: string, start: number, keyword: string, overrides: Partial<FlagRecord> = {}): FlagRecord {
  return {
    id: `${cue}:violence:${keyword}`,
    videoId,
    segmentId: `${videoId}-seg0`,
    cueId: cue,
    list: 'violence',
    keyword,
    text: `a line with ${keyword}`,
    start,
    end: start + 2,
    kind: 'SUBTITLE',
    ...overrides,
  };
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The documented tag order: segment, kind, score (highest first), label. */
export function tagOrder(a: SegmentTagRecord, b: SegmentTagRecord): number {
  return byText(a.segmentId, b.segmentId) || byText(a.kind, b.kind) || b.score - a.score || byText(a.label, b.label);
}

/** Every item, following endCursor page by page (and checking each page's bookkeeping). */
export async function allPages<T>(list: (page: PageArgs) => Promise<Page<T>>, first: number): Promise<T[]> {
  const items: T[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 100; guard += 1) {
    const page: Page<T> = await list({ first, after });
    items.push(...page.items);
    expect(page.items.length).toBeLessThanOrEqual(first);
    if (!page.hasNextPage) return items;
    expect(page.items.length).toBe(first);
    after = page.endCursor;
  }
  throw new Error('pages never ended');
}

function withFixture<R>(open: Open<R>): () => R {
  let fixture: RepositoryFixture<R> | null = null;
  beforeEach(async () => {
    fixture = await open();
  });
  afterEach(async () => {
    await fixture?.dispose();
    fixture = null;
  });
  return () => fixture!.repos;
}

export function describeAdRepositoryConformance(name: string, open: Open<AdRepository>): void {
  describe(`ad repository conformance: ${name}`, () => {
    const ads = withFixture(open);

    it('keeps an ad as put (nulls, list orders, brand-safety rules) and replaces it by id', async () => {
      const first = ad('a1', { advertiser: null, creativeUrl: null, flightStart: null, keywords: ['z', '咖啡', 'a'] });
      await ads().putAd(first);
      expect(await ads().getAd('a1')).toEqual(first);
      expect(await ads().getAd('missing')).toBeNull();
      const second = ad('a1', { title: 'Renamed', brandSafety: { avoidFlagged: false, avoidLists: [], avoidScenes: [], maxVisualRisk: 1 }, updatedAt: '2024-05-02T00:00:00.000Z' });
      await ads().putAd(second);
      expect(await ads().getAd('a1')).toEqual(second);
      expect(await ads().allAds()).toEqual([second]);
    });

    it('grows the inventory version on every put and real delete, not on deleting a missing ad', async () => {
      const start = await ads().inventoryVersion();
      await ads().putAd(ad('a1'));
      const afterPut = await ads().inventoryVersion();
      expect(afterPut).toBeGreaterThan(start);
      await ads().putAd(ad('a1', { title: 'again' }));
      const afterReput = await ads().inventoryVersion();
      expect(afterReput).toBeGreaterThan(afterPut);
      expect(await ads().deleteAd('missing')).toBe(false);
      expect(await ads().inventoryVersion()).toBe(afterReput);
      expect(await ads().deleteAd('a1')).toBe(true);
      expect(await ads().inventoryVersion()).toBeGreaterThan(afterReput);
      expect(await ads().getAd('a1')).toBeNull();
      expect(await ads().deleteAd('a1')).toBe(false);
    });

    it('lists ads by id page by page with the total, and the whole inventory by id', async () => {
      for (const id of ['c', 'a', 'e', 'b', 'd']) await ads().putAd(ad(id));
      const first = await ads().listAds({ first: 2 });
      expect(first.items.map((a) => a.id)).toEqual(['a', 'b']);
      expect(first).toMatchObject({ hasNextPage: true, totalCount: 5 });
      const second = await ads().listAds({ first: 2, after: first.endCursor });
      expect(second.items.map((a) => a.id)).toEqual(['c', 'd']);
      const third = await ads().listAds({ first: 2, after: second.endCursor });
      expect(third.items.map((a) => a.id)).toEqual(['e']);
      expect(third).toMatchObject({ hasNextPage: false, totalCount: 5 });
      const past = await ads().listAds({ first: 2, after: third.endCursor });
      expect(past).toEqual({ items: [], hasNextPage: false, endCursor: third.endCursor, totalCount: 5 });
      expect((await ads().allAds()).map((a) => a.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    });
  });
}

export function describeTagConformance(name: string, open: Open<TagRepository>): void {
  describe(`tag repository conformance: ${name}`, () => {
    const tags = withFixture(open);
    const objects = [tag('v1', 1, 'OBJECT', 'cup', 0.5), tag('v1', 0, 'OBJECT', 'person', 0.9), tag('v1', 0, 'OBJECT', 'cup', 0.9), tag('v1', 0, 'OBJECT', 'bottle', 0.95)];
    const scenes = [tag('v1', 0, 'SCENE', 'indoor', 0.7), tag('v1', 0, 'MOOD', 'calm', 0.6), tag('v1', 1, 'SCENE', 'close-up', 0.8)];

    it('reads a video’s tags by segment, kind, score (highest first), then label', async () => {
      await tags().replaceVideoTags('v1', ['OBJECT'], objects);
      await tags().replaceVideoTags('v1', ['SCENE', 'MOOD'], scenes);
      const read = await tags().getTagsOfVideo('v1');
      expect(read.map((t) => `${t.segmentId} ${t.kind} ${t.label} ${t.score}`)).toEqual([
        'v1-seg0 MOOD calm 0.6',
        'v1-seg0 OBJECT bottle 0.95',
        'v1-seg0 OBJECT cup 0.9',
        'v1-seg0 OBJECT person 0.9',
        'v1-seg0 SCENE indoor 0.7',
        'v1-seg1 OBJECT cup 0.5',
        'v1-seg1 SCENE close-up 0.8',
      ]);
      expect(read[1]).toEqual(objects[3]);
      expect(read[4]).toEqual(scenes[0]);
      expect(await tags().getTagsOfVideo('v2')).toEqual([]);
    });

    it('replaces only the kinds named, cleanly (fewer tags, or none, leave nothing behind)', async () => {
      await tags().replaceVideoTags('v1', ['OBJECT'], objects);
      await tags().replaceVideoTags('v1', ['SCENE', 'MOOD'], scenes);
      await tags().replaceVideoTags('v1', ['OBJECT'], [tag('v1', 1, 'OBJECT', 'dog', 0.4)]);
      expect((await tags().getTagsOfVideo('v1')).map((t) => `${t.kind} ${t.label}`)).toEqual(['MOOD calm', 'SCENE indoor', 'OBJECT dog', 'SCENE close-up']);
      await tags().replaceVideoTags('v1', ['SCENE', 'MOOD'], []);
      expect(await tags().getTagsOfVideo('v1')).toEqual([tag('v1', 1, 'OBJECT', 'dog', 0.4)]);
      await tags().replaceVideoTags('v1', ['OBJECT'], objects);
      await tags().replaceVideoTags('v1', ['OBJECT'], objects);
      expect(await tags().getTagsOfVideo('v1')).toHaveLength(objects.length);
    });

    it('reads tags of segments across videos in the caller’s order, empty where none', async () => {
      await tags().replaceVideoTags('v1', ['OBJECT'], objects);
      await tags().replaceVideoTags('v2', ['SCENE'], [tag('v2', 0, 'SCENE', 'night', 0.8)]);
      const read = await tags().getTagsOfSegments(['v2-seg0', 'nope', 'v1-seg1', 'v1-seg0']);
      expect(read.map((list) => list.map((t) => t.label))).toEqual([['night'], [], ['cup'], ['bottle', 'cup', 'person']]);
      expect(read[2]).toEqual([objects[0]]);
      expect(await tags().getTagsOfSegments([])).toEqual([]);
    });

    it('drops a video’s tags of every kind, leaving other videos', async () => {
      await tags().replaceVideoTags('v1', ['OBJECT'], objects);
      await tags().replaceVideoTags('v1', ['SCENE', 'MOOD'], scenes);
      await tags().replaceVideoTags('v2', ['SCENE'], [tag('v2', 0, 'SCENE', 'night', 0.8)]);
      await tags().deleteVideo('v1');
      expect(await tags().getTagsOfVideo('v1')).toEqual([]);
      expect(await tags().getTagsOfSegments(['v1-seg0', 'v2-seg0'])).toEqual([[], [tag('v2', 0, 'SCENE', 'night', 0.8)]]);
      await tags().deleteVideo('never-tagged');
    });

    it('never shows half of an old and half of a new set of kinds while they are replaced', async () => {
      const sets = [scenes, [tag('v1', 0, 'SCENE', 'outdoor', 0.9), tag('v1', 0, 'MOOD', 'tense', 0.8), tag('v1', 1, 'MOOD', 'upbeat', 0.7), tag('v1', 2, 'SCENE', 'night', 0.6)]];
      await tags().replaceVideoTags('v1', ['SCENE', 'MOOD'], sets[0]!);
      const expected = sets.map((set) => [...set].sort(tagOrder));
      let writing = true;
      const writer = (async () => {
        try {
          for (let i = 1; i <= 4; i += 1) await tags().replaceVideoTags('v1', ['SCENE', 'MOOD'], sets[i % 2]!);
        } finally {
          writing = false;
        }
      })();
      do {
        const read = await tags().getTagsOfSegments(['v1-seg0', 'v1-seg1', 'v1-seg2']);
        expect(read.flat()).toEqual(expected[read.flat().length === scenes.length ? 0 : 1]);
      } while (writing);
      await writer;
      expect(await tags().getTagsOfVideo('v1')).toEqual(expected[0]);
    });
  });
}

export function describeHighlightConformance(name: string, open: Open<HighlightRepository>): void {
  describe(`highlight repository conformance: ${name}`, () => {
    const highlights = withFixture(open);

    it('keeps a video’s signals exactly, in start order, and replaces them whole', async () => {
      const rows = signals('v1', [20, 0, 10]);
      await highlights().replaceVideoSignals('v1', rows);
      await highlights().replaceVideoSignals('v2', signals('v2', [5]));
      expect(await highlights().getSignalsOfVideo('v1')).toEqual([rows[1], rows[2], rows[0]]);
      const fewer = signals('v1', [30]);
      await highlights().replaceVideoSignals('v1', fewer);
      expect(await highlights().getSignalsOfVideo('v1')).toEqual(fewer);
      await highlights().replaceVideoSignals('v1', []);
      expect(await highlights().getSignalsOfVideo('v1')).toEqual([]);
      expect(await highlights().getSignalsOfVideo('v2')).toEqual(signals('v2', [5]));
    });

    it('records feedback (by id) with the model it produced; the model is null before any', async () => {
      expect(await highlights().getModel()).toBeNull();
      expect(await highlights().countFeedback()).toBe(0);
      await highlights().addFeedback(feedback('f1', 'v1', true), model(1));
      await highlights().addFeedback(feedback('f2', 'v2', false), model(2));
      expect(await highlights().getModel()).toEqual(model(2));
      expect(await highlights().countFeedback()).toBe(2);
      // A retried request with the same feedback id records it once.
      await highlights().addFeedback(feedback('f2', 'v2', false), model(3));
      expect(await highlights().countFeedback()).toBe(2);
      expect(await highlights().getModel()).toEqual(model(3));
    });

    it('drops a video’s signals and feedback but keeps the learnt weights', async () => {
      await highlights().replaceVideoSignals('v1', signals('v1', [0]));
      await highlights().replaceVideoSignals('v2', signals('v2', [0]));
      await highlights().addFeedback(feedback('f1', 'v1', true), model(1));
      await highlights().addFeedback(feedback('f2', 'v2', true), model(2));
      await highlights().deleteVideo('v1');
      expect(await highlights().getSignalsOfVideo('v1')).toEqual([]);
      expect(await highlights().getSignalsOfVideo('v2')).toEqual(signals('v2', [0]));
      expect(await highlights().countFeedback()).toBe(1);
      expect(await highlights().getModel()).toEqual(model(2));
    });
  });
}

export function describeModerationConformance(name: string, open: Open<ModerationRepository>): void {
  describe(`moderation repository conformance: ${name}`, () => {
    const moderation = withFixture(open);

    it('adds keywords in the order typed, ignoring duplicates, and bumps the version each time', async () => {
      const start = await moderation().keywordsVersion();
      const created = await moderation().addKeywords('violence', ['刀', 'gun', '刀']);
      expect(created).toMatchObject({ name: 'violence', keywords: ['刀', 'gun'] });
      expect(Number.isNaN(Date.parse(created.updatedAt))).toBe(false);
      const afterCreate = await moderation().keywordsVersion();
      expect(afterCreate).toBeGreaterThan(start);
      expect((await moderation().addKeywords('violence', ['gun', 'knife'])).keywords).toEqual(['刀', 'gun', 'knife']);
      expect(await moderation().keywordsVersion()).toBeGreaterThan(afterCreate);
      await moderation().addKeywords('alcohol', ['beer']);
      expect((await moderation().listKeywordLists()).map((l) => [l.name, l.keywords])).toEqual([
        ['alcohol', ['beer']],
        ['violence', ['刀', 'gun', 'knife']],
      ]);
    });

    it('removes keywords; a list left empty is gone (null), and the version still moves', async () => {
      await moderation().addKeywords('violence', ['刀', 'gun', 'knife']);
      await moderation().addKeywords('alcohol', ['beer']);
      expect((await moderation().removeKeywords('violence', ['gun', 'not there']))?.keywords).toEqual(['刀', 'knife']);
      const before = await moderation().keywordsVersion();
      expect(await moderation().removeKeywords('alcohol', ['beer'])).toBeNull();
      expect(await moderation().keywordsVersion()).toBeGreaterThan(before);
      const afterEmptied = await moderation().keywordsVersion();
      expect(await moderation().removeKeywords('no such list', ['x'])).toBeNull();
      expect(await moderation().keywordsVersion()).toBeGreaterThan(afterEmptied);
      expect((await moderation().listKeywordLists()).map((l) => l.name)).toEqual(['violence']);
    });

    it('replaces a video’s flags with its check; lists flags by video, start, id across pages', async () => {
      const v1 = [flag('v1', 'c2', 5, 'gun'), flag('v1', 'c1', 5, 'gun'), flag('v1', 'c0', 1, '刀', { segmentId: null, kind: 'ON_SCREEN_TEXT' })];
      const v0 = [flag('v0', 'd1', 30, 'knife')];
      await moderation().replaceFlags({ videoId: 'v1', keywordsVersion: 1, videoUpdatedAt: '2024-05-01T00:00:00.000Z' }, [flag('v1', 'old', 0, 'x')]);
      await moderation().replaceFlags({ videoId: 'v1', keywordsVersion: 2, videoUpdatedAt: '2024-05-02T00:00:00.000Z' }, v1);
      await moderation().replaceFlags({ videoId: 'v0', keywordsVersion: 2, videoUpdatedAt: '2024-05-01T00:00:00.000Z' }, v0);
      await moderation().replaceFlags({ videoId: 'v2', keywordsVersion: 2, videoUpdatedAt: '2024-05-01T00:00:00.000Z' }, []);
      const sorted = [v0[0], v1[2], v1[1], v1[0]];
      for (const first of [1, 2, 3, 10]) expect(await allPages((page) => moderation().listFlags(page), first)).toEqual(sorted);
      const page = await moderation().listFlags({ first: 2 });
      expect(page).toMatchObject({ hasNextPage: true, totalCount: 4 });
      const rest = await moderation().listFlags({ first: 10, after: page.endCursor });
      expect(rest).toMatchObject({ items: sorted.slice(2), hasNextPage: false, totalCount: 4 });
      expect(await codeOf(moderation().listFlags({ first: 2, after: 'not-a-cursor' }))).toBe('BAD_USER_INPUT');
      const byVideo = (a: { videoId: string }, b: { videoId: string }): number => (a.videoId < b.videoId ? -1 : 1);
      expect((await moderation().listChecks()).sort(byVideo)).toEqual([
        { videoId: 'v0', keywordsVersion: 2, videoUpdatedAt: '2024-05-01T00:00:00.000Z' },
        { videoId: 'v1', keywordsVersion: 2, videoUpdatedAt: '2024-05-02T00:00:00.000Z' },
        { videoId: 'v2', keywordsVersion: 2, videoUpdatedAt: '2024-05-01T00:00:00.000Z' },
      ]);
    });

    it('drops a video’s flags and check', async () => {
      await moderation().replaceFlags({ videoId: 'v1', keywordsVersion: 1, videoUpdatedAt: 't' }, [flag('v1', 'c1', 5, 'gun')]);
      await moderation().replaceFlags({ videoId: 'v2', keywordsVersion: 1, videoUpdatedAt: 't' }, [flag('v2', 'c1', 5, 'gun', { id: 'v2-flag' })]);
      await moderation().deleteVideo('v1');
      expect(await moderation().listChecks()).toEqual([{ videoId: 'v2', keywordsVersion: 1, videoUpdatedAt: 't' }]);
      expect(await moderation().listFlags({ first: 10 })).toMatchObject({ items: [flag('v2', 'c1', 5, 'gun', { id: 'v2-flag' })], totalCount: 1, hasNextPage: false });
      await moderation().deleteVideo('never-checked');
      expect((await moderation().listFlags({ first: 10 })).totalCount).toBe(1);
    });
  });
}

export interface AdsRepositories {
  ads: AdRepository;
  tags: TagRepository;
  highlights: HighlightRepository;
  moderation: ModerationRepository;
}

/** All four suites on one backend. */
export function describeAdsConformance(name: string, open: Open<AdsRepositories>): void {
  const pick =
    <K extends keyof AdsRepositories>(key: K): Open<AdsRepositories[K]> =>
    async () => {
      const fixture = await open();
      return { repos: fixture.repos[key], dispose: () => fixture.dispose() };
    };
  describeAdRepositoryConformance(name, pick('ads'));
  describeTagConformance(name, pick('tags'));
  describeHighlightConformance(name, pick('highlights'));
  describeModerationConformance(name, pick('moderation'));
}
