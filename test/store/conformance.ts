// The store contract, backend-agnostic: every backend (embedded SQLite, Elasticsearch, Qdrant,
// BullMQ, …) runs this suite through the interfaces in src/store/interfaces.ts only.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CueRecord, JobStatus, SegmentRecord, ShotRecord, VideoRecord } from '../../src/domain.js';
import type { Store, TextDocument, TextQuery, VectorPoint } from '../../src/store/interfaces.js';
import { codeOf } from '../helpers/errors.js';

export interface StoreFixture {
  /** A fresh, empty store. */
  store: Store;
  /** Closes the store and removes whatever it left behind. */
  dispose(): Promise<void>;
}

const T0 = Date.parse('2024-05-01T00:00:00.000Z');

export function video(id: string, overrides: Partial<VideoRecord> = {}): VideoRecord {
  const at = new Date(T0).toISOString();
  return {
    id,
    path: `/media/${id}.mp4`,
    contentHash: `hash-${id}`,
    title: `Video ${id}`,
    series: null,
    season: null,
    episode: null,
    cast: null,
    durationSec: 100,
    fps: 25,
    width: 1280,
    height: 720,
    rotation: 0,
    startTime: 0,
    hasAudio: true,
    status: 'READY',
    error: null,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

/** `count` back-to-back 10 s segments (and one shot each) of a video. */
export function structure(videoId: string, count: number): { shots: ShotRecord[]; segments: SegmentRecord[] } {
  const segments = Array.from({ length: count }, (_, i) => ({
    id: `${videoId}-seg${i}`,
    videoId,
    index: i,
    shotIndex: i,
    start: i * 10,
    end: (i + 1) * 10,
    keyframeTime: i * 10 + 5,
  }));
  const shots = segments.map((s): ShotRecord => ({
    id: `${videoId}-shot${s.index}`,
    videoId,
    index: s.index,
    start: s.start,
    end: s.end,
    keyframeTime: s.keyframeTime,
    transition: s.index === 0 ? 'START' : 'CUT',
  }));
  return { shots, segments };
}

function cue(videoId: string, id: string, segment: number, text: string, overrides: Partial<CueRecord> = {}): CueRecord {
  return {
    id,
    videoId,
    segmentId: `${videoId}-seg${segment}`,
    start: segment * 10 + 1,
    end: segment * 10 + 3,
    text,
    kind: 'SUBTITLE',
    source: 'SIDECAR',
    lang: null,
    ...overrides,
  };
}

export function textDoc(id: string, videoId: string, segment: number, text: string, overrides: Partial<TextDocument> = {}): TextDocument {
  return {
    id,
    videoId,
    segmentId: `${videoId}-seg${segment}`,
    cueId: id,
    kind: 'SUBTITLE',
    start: segment * 10 + 1,
    end: segment * 10 + 3,
    text,
    series: null,
    ...overrides,
  };
}

function vector(values: number[]): Float32Array {
  return Float32Array.from(values);
}

export function describeStoreConformance(name: string, open: () => Promise<StoreFixture>): void {
  describe(`store conformance: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fixture = await open();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    describe('Catalog', () => {
      it('puts, replaces and gets videos; getVideos keeps order with nulls; finds by hash', async () => {
        await store.catalog.putVideo(video('v1'));
        await store.catalog.putVideo(video('v2', { title: '今天的新闻', hasAudio: false }));
        await store.catalog.putVideo(video('v1', { title: 'Renamed' }));
        expect(await store.catalog.getVideo('v1')).toEqual(video('v1', { title: 'Renamed' }));
        expect(await store.catalog.getVideo('missing')).toBeNull();
        const many = await store.catalog.getVideos(['v2', 'missing', 'v1']);
        expect(many.map((v) => v?.id ?? null)).toEqual(['v2', null, 'v1']);
        expect(many[0]).toEqual(video('v2', { title: '今天的新闻', hasAudio: false }));
        expect(await store.catalog.getVideos([])).toEqual([]);
        expect((await store.catalog.findVideoByHash('hash-v2'))?.id).toBe('v2');
        expect(await store.catalog.findVideoByHash('nope')).toBeNull();
      });

      it('lists videos newest first (ties by id) through cursors, with filters and totals', async () => {
        const ids = ['a', 'b', 'c', 'd', 'e'];
        for (const [i, id] of ids.entries()) {
          await store.catalog.putVideo(
            video(id, {
              createdAt: new Date(T0 + (i < 2 ? 0 : i) * 1000).toISOString(),
              series: i % 2 === 0 ? 'S' : null,
              title: i === 3 ? 'The WEATHER Show' : `Video ${id}`,
              status: i === 4 ? 'FAILED' : 'READY',
            }),
          );
        }
        const seen: string[] = [];
        let after: string | null = null;
        for (let pages = 0; pages < 10; pages += 1) {
          const page = await store.catalog.listVideos({}, { first: 2, after });
          expect(page.totalCount).toBe(5);
          seen.push(...page.items.map((v) => v.id));
          if (!page.hasNextPage) break;
          expect(page.endCursor).toEqual(expect.any(String));
          after = page.endCursor;
        }
        // a and b share createdAt: the id breaks the tie, in the same (descending) direction.
        expect(seen).toEqual(['e', 'd', 'c', 'b', 'a']);

        const series = await store.catalog.listVideos({ series: 'S' }, { first: 10 });
        expect(series.items.map((v) => v.id)).toEqual(['e', 'c', 'a']);
        expect(series.totalCount).toBe(3);
        expect((await store.catalog.listVideos({ status: 'FAILED' }, { first: 10 })).items.map((v) => v.id)).toEqual(['e']);
        expect((await store.catalog.listVideos({ titleContains: 'weather' }, { first: 10 })).items.map((v) => v.id)).toEqual(['d']);
        const empty = await store.catalog.listVideos({ titleContains: 'zzz' }, { first: 10 });
        expect(empty).toMatchObject({ items: [], hasNextPage: false, totalCount: 0 });
      });

      it('updates only the patched fields (null clears) and stamps updatedAt', async () => {
        await store.catalog.putVideo(video('v1', { series: 'S', season: 2 }));
        const updated = await store.catalog.updateVideo('v1', { title: 'New', season: null, status: 'FAILED', error: 'boom' });
        expect(updated).toMatchObject({ title: 'New', series: 'S', season: null, status: 'FAILED', error: 'boom' });
        expect(updated!.updatedAt > video('v1').updatedAt).toBe(true);
        expect(await store.catalog.getVideo('v1')).toEqual(updated);
        expect(await store.catalog.updateVideo('missing', { title: 'x' })).toBeNull();
      });

      it('keeps a video\'s cast list in order; null or an empty list is no cast', async () => {
        await store.catalog.putVideo(video('v1', { cast: ['actor_b', 'actor_a'] }));
        await store.catalog.putVideo(video('v2', { cast: [] }));
        expect((await store.catalog.getVideo('v1'))!.cast).toEqual(['actor_b', 'actor_a']);
        expect((await store.catalog.getVideos(['v2']))[0]!.cast).toBeNull();
        expect((await store.catalog.updateVideo('v1', { title: 'Kept cast' }))!.cast).toEqual(['actor_b', 'actor_a']);
        expect((await store.catalog.updateVideo('v1', { cast: ['actor_c'] }))!.cast).toEqual(['actor_c']);
        expect((await store.catalog.updateVideo('v1', { cast: null }))!.cast).toBeNull();
        expect((await store.catalog.findVideoByHash('hash-v1'))!.cast).toBeNull();
      });

      it('replaces structure atomically and reads segments by id, page, video and time', async () => {
        await store.catalog.putVideo(video('v1'));
        const first = structure('v1', 3);
        await store.catalog.replaceStructure('v1', first.shots, first.segments);
        const { shots, segments } = structure('v1', 5);
        await store.catalog.replaceStructure('v1', shots, segments);
        expect(await store.catalog.getShots('v1')).toEqual(shots);
        expect(await store.catalog.getSegmentsOfVideo('v1')).toEqual(segments);
        expect(await store.catalog.getSegment('v1-seg2')).toEqual(segments[2]);
        expect(await store.catalog.getSegment('nope')).toBeNull();
        expect((await store.catalog.getSegmentsByIds(['v1-seg4', 'x', 'v1-seg0'])).map((s) => s?.id ?? null)).toEqual(['v1-seg4', null, 'v1-seg0']);

        const seen: number[] = [];
        let after: string | null = null;
        for (;;) {
          const page = await store.catalog.listSegments('v1', { first: 2, after });
          expect(page.totalCount).toBe(5);
          seen.push(...page.items.map((s) => s.index));
          if (!page.hasNextPage) break;
          after = page.endCursor;
        }
        expect(seen).toEqual([0, 1, 2, 3, 4]);

        expect((await store.catalog.segmentAt('v1', 0))?.index).toBe(0);
        expect((await store.catalog.segmentAt('v1', 19.99))?.index).toBe(1);
        expect((await store.catalog.segmentAt('v1', 20))?.index).toBe(2);
        expect((await store.catalog.segmentAt('v1', 50))?.index).toBe(4);
        expect(await store.catalog.segmentAt('v1', -1)).toBeNull();
        expect(await store.catalog.segmentAt('other', 1)).toBeNull();
      });

      it('replaces cues per source and reads them by video, kind, segment and id', async () => {
        await store.catalog.putVideo(video('v1'));
        const sidecar = [cue('v1', 'c1', 0, 'hello'), cue('v1', 'c2', 1, 'world')];
        const ocr = [cue('v1', 'o1', 0, 'SALE', { kind: 'ON_SCREEN_TEXT', source: 'OCR', start: 0.5 })];
        await store.catalog.replaceCues('v1', ['SIDECAR'], sidecar);
        await store.catalog.replaceCues('v1', ['OCR'], ocr);
        await store.catalog.replaceCues('v1', ['SIDECAR'], [cue('v1', 'c3', 1, 'again', { lang: 'en' })]);
        expect((await store.catalog.getCues('v1')).map((c) => c.id)).toEqual(['o1', 'c3']);
        // A cue of a source not being replaced is refused, and nothing changes.
        expect(await codeOf(store.catalog.replaceCues('v1', ['SIDECAR'], [cue('v1', 'x1', 0, 'stray', { source: 'OCR' })]))).toBe('BAD_USER_INPUT');
        expect((await store.catalog.getCues('v1')).map((c) => c.id)).toEqual(['o1', 'c3']);
        expect((await store.catalog.getCues('v1', ['SUBTITLE'])).map((c) => c.id)).toEqual(['c3']);
        expect(await store.catalog.getCuesByIds(['c3', 'c1', 'o1'])).toEqual([cue('v1', 'c3', 1, 'again', { lang: 'en' }), null, ocr[0]]);
        expect((await store.catalog.getCuesBySegments(['v1-seg1', 'v1-seg9', 'v1-seg0'])).map((list) => list.map((c) => c.id))).toEqual([
          ['c3'],
          [],
          ['o1'],
        ]);
      });

      it('reads the cues overlapping a time window, a long cue that started well before it included', async () => {
        for (const id of ['v1', 'v2']) await store.catalog.putVideo(video(id));
        const sidecar = [
          cue('v1', 'long', 0, 'a caption held half a minute', { start: 0, end: 30 }),
          cue('v1', 'c1', 1, 'early'),
          cue('v1', 'c4a', 4, 'first at 40', { start: 40, end: 42 }),
          cue('v1', 'c4b', 4, 'second at 40', { start: 40, end: 41 }),
          cue('v1', 'c6', 6, 'late'),
        ];
        await store.catalog.replaceCues('v1', ['SIDECAR'], sidecar);
        await store.catalog.replaceCues('v1', ['OCR'], [cue('v1', 'o4', 4, 'SALE', { kind: 'ON_SCREEN_TEXT', source: 'OCR', start: 41.5, end: 50 })]);
        await store.catalog.replaceCues('v2', ['SIDECAR'], [cue('v2', 'other', 4, 'another video', { start: 39, end: 45 })]);
        const ids = async (from: number, to: number): Promise<string[]> => (await store.catalog.getCuesOverlapping('v1', from, to)).map((c) => c.id);
        // Time order, ties by id; touching either end counts; the other video's cue never.
        expect(await ids(40, 45)).toEqual(['c4a', 'c4b', 'o4']);
        expect(await ids(30, 40)).toEqual(['long', 'c4a', 'c4b']);
        // Only the long cue reaches this window: its start lies 27 s before the window's.
        expect(await ids(27, 29)).toEqual(['long']);
        expect(await ids(51, 60)).toEqual([]);
        expect(await ids(42.5, 42.5)).toEqual(['o4']);
        expect(await store.catalog.getCuesOverlapping('v1', 40, 42)).toEqual([sidecar[2], sidecar[3], expect.objectContaining({ id: 'o4', source: 'OCR' })]);
        // Replacing the long cue with short ones leaves no stale reach.
        await store.catalog.replaceCues('v1', ['SIDECAR'], [cue('v1', 'c0', 0, 'short')]);
        expect(await ids(0, 100)).toEqual(['c0', 'o4']);
        expect(await ids(27, 29)).toEqual([]);
        expect(await store.catalog.getCuesOverlapping('nope', 0, 100)).toEqual([]);
      });

      it('stores, overwrites and deletes stage artifacts', async () => {
        await store.catalog.putArtifact('v1', 'shots', { cuts: [1.5, 3], note: '镜头' });
        await store.catalog.putArtifact('v1', 'shots', { cuts: [2] });
        await store.catalog.putArtifact('v1', 'probe', { ok: true });
        expect(await store.catalog.getArtifact('v1', 'shots')).toEqual({ cuts: [2] });
        expect(await store.catalog.getArtifact('v1', 'faces')).toBeNull();
        await store.catalog.deleteArtifacts('v1');
        expect(await store.catalog.getArtifact('v1', 'probe')).toBeNull();
      });

      it('deleteVideo removes the video and its shots, segments, cues and artifacts only', async () => {
        for (const id of ['v1', 'v2']) {
          await store.catalog.putVideo(video(id));
          const { shots, segments } = structure(id, 2);
          await store.catalog.replaceStructure(id, shots, segments);
          await store.catalog.replaceCues(id, ['SIDECAR'], [cue(id, `${id}-c`, 0, 'text')]);
          await store.catalog.putArtifact(id, 'probe', { id });
        }
        expect(await store.catalog.deleteVideo('v1')).toBe(true);
        expect(await store.catalog.deleteVideo('v1')).toBe(false);
        expect(await store.catalog.getVideo('v1')).toBeNull();
        expect(await store.catalog.getShots('v1')).toEqual([]);
        expect(await store.catalog.getSegmentsOfVideo('v1')).toEqual([]);
        expect(await store.catalog.getCues('v1')).toEqual([]);
        expect(await store.catalog.getArtifact('v1', 'probe')).toBeNull();
        expect(await store.catalog.getSegmentsOfVideo('v2')).toHaveLength(2);
        expect(await store.catalog.getCues('v2')).toHaveLength(1);
        expect(await store.catalog.getArtifact('v2', 'probe')).toEqual({ id: 'v2' });
      });
      it('keeps structure, cues and checkpoints when the video row is put or updated again', async () => {
        await store.catalog.putVideo(video('v1'));
        const { shots, segments } = structure('v1', 2);
        await store.catalog.replaceStructure('v1', shots, segments);
        await store.catalog.replaceCues('v1', ['SIDECAR'], [cue('v1', 'c1', 0, 'hello')]);
        await store.catalog.putArtifact('v1', 'probe', { ok: true });
        await store.catalog.putVideo(video('v1', { durationSec: 120, status: 'INDEXING' }));
        await store.catalog.updateVideo('v1', { title: 'Renamed' });
        expect(await store.catalog.getShots('v1')).toEqual(shots);
        expect(await store.catalog.getSegmentsOfVideo('v1')).toEqual(segments);
        expect((await store.catalog.getCues('v1')).map((c) => c.id)).toEqual(['c1']);
        expect(await store.catalog.getArtifact('v1', 'probe')).toEqual({ ok: true });
      });

      it('finds the segment in a gap and past the end, clears structure with empty lists, and rejects cursors of another list', async () => {
        await store.catalog.putVideo(video('v1'));
        const segments: SegmentRecord[] = [
          { id: 'v1-seg0', videoId: 'v1', index: 0, shotIndex: 0, start: 0, end: 10, keyframeTime: 5 },
          { id: 'v1-seg1', videoId: 'v1', index: 1, shotIndex: 0, start: 20, end: 30, keyframeTime: 25 },
        ];
        await store.catalog.replaceStructure('v1', [], segments);
        expect((await store.catalog.segmentAt('v1', 10))?.index).toBe(0);
        expect((await store.catalog.segmentAt('v1', 15))?.index).toBe(0);
        expect((await store.catalog.segmentAt('v1', 20))?.index).toBe(1);
        expect((await store.catalog.segmentAt('v1', 99))?.index).toBe(1);
        await store.catalog.replaceStructure('v1', [], []);
        expect(await store.catalog.getSegmentsOfVideo('v1')).toEqual([]);
        expect(await store.catalog.segmentAt('v1', 5)).toBeNull();
        const videoCursor = (await store.catalog.listVideos({}, { first: 1 })).endCursor!;
        expect(await codeOf(store.catalog.listSegments('v1', { first: 2, after: videoCursor }))).toBe('BAD_USER_INPUT');
        expect(await codeOf(store.catalog.listVideos({}, { first: 2, after: 'not a cursor' }))).toBe('BAD_USER_INPUT');
      });

      it('reads a long video whole: more segments and cues than one search page', async () => {
        await store.catalog.putVideo(video('long'));
        const { shots, segments } = structure('long', 1200);
        await store.catalog.replaceStructure('long', shots, segments);
        const cues = segments.map((s) => cue('long', `long-c${String(s.index).padStart(4, '0')}`, s.index, 'line'));
        await store.catalog.replaceCues('long', ['SIDECAR'], cues);
        expect(await store.catalog.getSegmentsOfVideo('long')).toEqual(segments);
        expect(await store.catalog.getShots('long')).toHaveLength(1200);
        expect((await store.catalog.getCues('long')).map((c) => c.id)).toEqual(cues.map((c) => c.id));
        const first = await store.catalog.listSegments('long', { first: 1000 });
        const next = await store.catalog.listSegments('long', { first: 3, after: first.endCursor });
        expect(next).toMatchObject({ totalCount: 1200, hasNextPage: true });
        expect(next.items.map((s) => s.index)).toEqual([1000, 1001, 1002]);
      });
    });

    describe('TextIndex', () => {
      const query = (q: string, extra: Partial<TextQuery> = {}): TextQuery => ({ query: q, limit: 10, offset: 0, ...extra });
      const hitIds = async (q: string, extra: Partial<TextQuery> = {}): Promise<string[]> =>
        (await store.text.search(query(q, extra))).hits.map((h) => h.doc.id);

      beforeEach(async () => {
        await store.text.upsert([
          textDoc('zh1', 'v1', 0, '今天天气很好'),
          textDoc('zh2', 'v1', 1, '这是技术上的问题，不是态度问题'),
          textDoc('zh3', 'v1', 2, '他打破了世界纪录'),
          textDoc('zh4', 'v2', 0, '明天的天气预报说会下雨'),
          textDoc('en1', 'v2', 1, 'My Joy-Con controller keeps drifting'),
          textDoc('en2', 'v2', 2, 'She was RUNNING late for the meeting'),
          textDoc('en3', 'v3', 0, 'The weather report said rain, then more rain', { series: 'News' }),
          textDoc('fw1', 'v3', 1, 'ＦＵＬＬ　ｗｉｄｔｈ　ｔｅｘｔ', { series: 'News' }),
        ]);
      });

      it('finds two-character Chinese words inside longer text', async () => {
        expect(await hitIds('天气')).toEqual(expect.arrayContaining(['zh1', 'zh4']));
        expect(await hitIds('天气')).toHaveLength(2);
        expect(await hitIds('打破')).toEqual(['zh3']);
        expect(await hitIds('技术上的问题')).toEqual(['zh2']);
      });

      it('finds a Chinese substring that word segmentation cuts differently', async () => {
        expect(await hitIds('气很')).toEqual(['zh1']);
        expect(await hitIds('界纪')).toEqual(['zh3']);
      });

      it('finds English words case-insensitively, with stemming, hyphenated names and NFKC width folding', async () => {
        expect(await hitIds('Joy-Con')).toEqual(['en1']);
        expect(await hitIds('joycon drifting')).toEqual(['en1']);
        expect(await hitIds('run')).toEqual(['en2']);
        expect(await hitIds('meetings')).toEqual(['en2']);
        expect(await hitIds('full width')).toEqual(['fw1']);
        expect(await hitIds('ＲＵＮＮＩＮＧ')).toEqual(['en2']);
      });

      it('wraps matched terms of the original text in <em> for the snippet', async () => {
        const [zh] = (await store.text.search(query('天气', { videoIds: ['v1'] }))).hits;
        expect(zh!.snippet).toBe('今天<em>天气</em>很好');
        const [en] = (await store.text.search(query('running meeting'))).hits;
        expect(en!.snippet).toBe('She was <em>RUNNING</em> late for the <em>meeting</em>');
        const [fw] = (await store.text.search(query('width'))).hits;
        expect(fw!.snippet).toBe('ＦＵＬＬ　<em>ｗｉｄｔｈ</em>　ｔｅｘｔ');
      });

      it('ANDs the terms, and falls back to any term when no document has them all', async () => {
        expect(await hitIds('weather rain')).toEqual(['en3']);
        const fallback = await hitIds('weather meeting');
        expect(fallback).toEqual(expect.arrayContaining(['en3', 'en2']));
        expect(fallback).toHaveLength(2);
        expect(await hitIds('zebra')).toEqual([]);
        expect(await store.text.search(query('，。！'))).toEqual({ hits: [], total: 0, totalIsExact: true });
        // Query syntax characters are text, not operators.
        expect(await hitIds('rain" OR "( NEAR*')).toEqual(['en3']);
      });

      it('ranks by relevance (bm25): more occurrences in a shorter text first', async () => {
        await store.text.upsert([
          textDoc('r1', 'v9', 0, 'rain'),
          textDoc('r2', 'v9', 1, 'a long line that mentions rain once among many other words here'),
        ]);
        const { hits } = await store.text.search(query('rain'));
        expect(hits.map((h) => h.doc.id)).toEqual(['r1', 'en3', 'r2']);
        expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
        expect(hits[1]!.score).toBeGreaterThan(hits[2]!.score);
      });

      it('collapses hits to the best document per segment and counts distinct segments', async () => {
        await store.text.upsert([
          textDoc('s1', 'v5', 0, 'storm warning for the coast'),
          textDoc('s2', 'v5', 0, 'storm storm storm', { kind: 'ON_SCREEN_TEXT', cueId: null }),
          textDoc('s3', 'v5', 1, 'after the storm'),
        ]);
        const result = await store.text.search(query('storm'));
        expect(result.total).toBe(2);
        expect(result.hits.map((h) => h.doc.id)).toEqual(['s2', 's3']);
        expect(result.hits[0]!.doc).toEqual(textDoc('s2', 'v5', 0, 'storm storm storm', { kind: 'ON_SCREEN_TEXT', cueId: null }));
      });

      it('filters by video ids, series, time overlap and kinds', async () => {
        expect(await hitIds('天气', { videoIds: ['v2'] })).toEqual(['zh4']);
        expect(await hitIds('天气', { videoIds: [] })).toEqual([]);
        // Documents added to v1 after v2's: the filter still keeps v2 out.
        await store.text.upsert([textDoc('zh9', 'v1', 8, '后天天气转晴'), textDoc('zhA', 'v2', 9, '天气不错')]);
        const v1v3 = await store.text.search(query('天气', { videoIds: ['v3', 'v1'] }));
        expect(v1v3.hits.map((h) => h.doc.id).sort()).toEqual(['zh1', 'zh9']);
        expect(v1v3.total).toBe(2);
        expect((await hitIds('天气', { videoIds: ['v2'] })).sort()).toEqual(['zh4', 'zhA']);
        expect(await hitIds('rain', { series: 'News' })).toEqual(['en3']);
        expect(await hitIds('rain', { series: 'Sports' })).toEqual([]);
        // zh1 spans [1, 3] of v1, zh4 spans [1, 3] of v2: both overlap [2.5, 2.6]; neither [3.5, 9].
        expect((await hitIds('天气', { from: 2.5, to: 2.6 })).sort()).toEqual(['zh1', 'zh4']);
        expect(await hitIds('天气', { from: 3.5, to: 9 })).toEqual([]);
        expect(await hitIds('天气', { from: 3, to: 3 })).toHaveLength(2);
        expect(await hitIds('天气', { to: 1 })).toHaveLength(2);
        expect(await hitIds('天气', { kinds: ['ON_SCREEN_TEXT'] })).toEqual([]);
        expect(await hitIds('天气', { kinds: ['SUBTITLE', 'METADATA'] })).toHaveLength(4);
      });

      it('pages with offset and limit over a stable order and a constant total', async () => {
        await store.text.upsert(Array.from({ length: 25 }, (_, i) => textDoc(`p${i}`, 'v7', i, `episode recap part ${'recap '.repeat(i % 4)}`)));
        const all = await store.text.search(query('recap', { limit: 25 }));
        expect(all).toMatchObject({ total: 25, totalIsExact: true });
        const paged: string[] = [];
        for (let offset = 0; offset < 25; offset += 10) {
          const page = await store.text.search(query('recap', { limit: 10, offset }));
          expect(page.total).toBe(25);
          paged.push(...page.hits.map((h) => h.doc.id));
        }
        expect(paged).toEqual(all.hits.map((h) => h.doc.id));
        expect(new Set(paged).size).toBe(25);
      });

      it('overwrites documents by id, deletes and replaces per video', async () => {
        await store.text.upsert([textDoc('zh1', 'v1', 0, '晚上下雪了')]);
        expect(await hitIds('天气')).toEqual(['zh4']);
        expect(await hitIds('下雪')).toEqual(['zh1']);
        await store.text.deleteByVideo('v2');
        expect(await hitIds('天气')).toEqual([]);
        expect(await hitIds('drifting')).toEqual([]);
        await store.text.replaceVideo('v1', [textDoc('n1', 'v1', 0, 'fresh subtitles')]);
        expect(await hitIds('下雪')).toEqual([]);
        expect(await hitIds('打破')).toEqual([]);
        expect(await hitIds('fresh')).toEqual(['n1']);
        expect(await hitIds('rain')).toEqual(['en3']);
        // The same document id re-upserted into another segment moves there.
        await store.text.upsert([textDoc('en3', 'v3', 7, 'rain later')]);
        const moved = await store.text.search(query('rain'));
        expect(moved.total).toBe(1);
        expect(moved.hits[0]!.doc).toEqual(textDoc('en3', 'v3', 7, 'rain later'));
      });
    });

    describe('VectorIndex', () => {
      const spec = { name: 'faces', dim: 3, metric: 'cosine' as const, modelId: 'model-a' };
      const point = (id: string, values: number[], payload: VectorPoint['payload'] = {}): VectorPoint => ({ id, vector: vector(values), payload });

      it('creates, checks and resets a collection when the model changes', async () => {
        expect(await store.vectors.ensureCollection(spec)).toBe('created');
        expect(await store.vectors.ensureCollection(spec)).toBe('ok');
        await store.vectors.upsert('faces', [point('p1', [1, 0, 0])]);
        expect(await store.vectors.ensureCollection({ ...spec, modelId: 'model-b' })).toBe('model-changed');
        expect(await store.vectors.count('faces')).toBe(0);
        expect(await store.vectors.get('faces', ['p1'])).toEqual([null]);
        expect(await store.vectors.search('faces', vector([1, 0, 0]), 5)).toEqual([]);
        expect(await store.vectors.ensureCollection({ ...spec, modelId: 'model-b' })).toBe('ok');
      });

      it('upserts, overwrites and gets points with their payloads', async () => {
        await store.vectors.ensureCollection(spec);
        await store.vectors.upsert('faces', [point('p1', [1, 2, 3], { videoId: 'v1', time: 1.5 }), point('p2', [0, 1, 0])]);
        await store.vectors.upsert('faces', [point('p2', [0, 0, 1], { actorId: 'a1', named: true })]);
        const [p1, missing, p2] = await store.vectors.get('faces', ['p1', 'nope', 'p2']);
        expect(missing).toBeNull();
        expect(Array.from(p1!.vector)).toEqual([1, 2, 3]);
        expect(p1!.payload).toEqual({ videoId: 'v1', time: 1.5 });
        expect(Array.from(p2!.vector)).toEqual([0, 0, 1]);
        expect(p2!.payload).toEqual({ actorId: 'a1', named: true });
        expect(await store.vectors.count('faces')).toBe(2);
      });

      it('searches by cosine similarity, best first, up to the limit', async () => {
        await store.vectors.ensureCollection(spec);
        await store.vectors.upsert('faces', [point('x', [10, 0, 0]), point('xy', [1, 1, 0]), point('y', [0, 3, 0]), point('z', [0, 0, 1])]);
        const hits = await store.vectors.search('faces', vector([2, 0, 0]), 3);
        expect(hits.map((h) => h.id)).toEqual(['x', 'xy', expect.stringMatching(/^[yz]$/)]);
        expect(hits[0]!.score).toBeCloseTo(1, 5);
        expect(hits[1]!.score).toBeCloseTo(Math.SQRT1_2, 5);
        expect(await store.vectors.search('faces', vector([1, 0, 0]), 0)).toEqual([]);
        expect(await store.vectors.search('unknown', vector([1, 0, 0]), 3)).toEqual([]);
      });

      it('scores dot products and negative L2 distances', async () => {
        await store.vectors.ensureCollection({ ...spec, name: 'dot', metric: 'dot' });
        await store.vectors.upsert('dot', [point('big', [3, 0, 0]), point('small', [1, 1, 0])]);
        const dot = await store.vectors.search('dot', vector([1, 0, 0]), 2);
        expect(dot.map((h) => [h.id, h.score])).toEqual([
          ['big', 3],
          ['small', 1],
        ]);
        await store.vectors.ensureCollection({ ...spec, name: 'l2', metric: 'l2' });
        await store.vectors.upsert('l2', [point('near', [1, 1, 0]), point('far', [4, 5, 0])]);
        const l2 = await store.vectors.search('l2', vector([1, 0, 0]), 2);
        expect(l2.map((h) => h.id)).toEqual(['near', 'far']);
        expect(l2[0]!.score).toBeCloseTo(-1, 5);
        expect(l2[1]!.score).toBeCloseTo(-Math.sqrt(9 + 25), 5);
      });

      it('filters search and count by video, actor and payload equality', async () => {
        await store.vectors.ensureCollection(spec);
        await store.vectors.upsert('faces', [
          point('a', [1, 0, 0], { videoId: 'v1', actorId: 'x', track: 't1' }),
          point('b', [0.9, 0.1, 0], { videoId: 'v2', actorId: 'y', track: 't2' }),
          point('c', [0.8, 0.2, 0], { videoId: 'v2', actorId: 'x', track: 't2' }),
          point('d', [0, 1, 0], {}),
        ]);
        const ids = async (filter: Parameters<Store['vectors']['search']>[3]): Promise<string[]> =>
          (await store.vectors.search('faces', vector([1, 0, 0]), 10, filter)).map((h) => h.id);
        expect(await ids({ videoIds: ['v2'] })).toEqual(['b', 'c']);
        expect(await ids({ actorIds: ['x'] })).toEqual(['a', 'c']);
        expect(await ids({ equals: { track: 't2' }, actorIds: ['x'] })).toEqual(['c']);
        expect(await ids({ videoIds: [] })).toEqual([]);
        expect(await store.vectors.count('faces', { videoIds: ['v2'] })).toBe(2);
        expect(await store.vectors.count('faces', { equals: { track: 't1' } })).toBe(1);
        expect(await store.vectors.count('faces')).toBe(4);
        expect(await store.vectors.count('unknown')).toBe(0);
      });

      it('lists matching points by id without ranking them', async () => {
        await store.vectors.ensureCollection(spec);
        await store.vectors.upsert('faces', [
          point('c', [1, 0, 0], { videoId: 'v1', actorId: 'x' }),
          point('a', [0, 1, 0], { videoId: 'v2', actorId: 'x', named: true }),
          point('b', [0, 0, 1], { videoId: 'v1' }),
        ]);
        const ids = async (filter: Parameters<Store['vectors']['scroll']>[1], limit = 10): Promise<string[]> =>
          (await store.vectors.scroll('faces', filter, limit)).map((p) => p.id);
        expect(await ids(undefined)).toEqual(['a', 'b', 'c']);
        expect(await ids({ actorIds: ['x'] })).toEqual(['a', 'c']);
        expect(await ids({ videoIds: ['v1'], equals: {} })).toEqual(['b', 'c']);
        expect(await ids({ equals: { named: true } })).toEqual(['a']);
        expect(await ids({ videoIds: [] })).toEqual([]);
        expect(await ids(undefined, 2)).toHaveLength(2);
        const [a] = await store.vectors.scroll('faces', { equals: { named: true } }, 1);
        expect(a).toEqual({ id: 'a', payload: { videoId: 'v2', actorId: 'x', named: true } });
        expect(await store.vectors.scroll('unknown', undefined, 10)).toEqual([]);
      });

      it('deletes points by id and by video across collections', async () => {
        await store.vectors.ensureCollection(spec);
        await store.vectors.ensureCollection({ ...spec, name: 'frames', dim: 2 });
        await store.vectors.upsert('faces', [point('a', [1, 0, 0], { videoId: 'v1' }), point('b', [0, 1, 0], { videoId: 'v2' }), point('c', [0, 0, 1])]);
        await store.vectors.upsert('frames', [{ id: 'f', vector: vector([1, 0]), payload: { videoId: 'v1' } }]);
        expect((await store.vectors.search('faces', vector([1, 1, 1]), 10)).length).toBe(3);
        await store.vectors.delete('faces', ['c', 'nope']);
        await store.vectors.deleteByVideo('v1');
        expect((await store.vectors.search('faces', vector([1, 1, 1]), 10)).map((h) => h.id)).toEqual(['b']);
        expect(await store.vectors.count('frames')).toBe(0);
        expect(await store.vectors.get('faces', ['a', 'b', 'c'])).toEqual([null, expect.objectContaining({ id: 'b' }), null]);
      });

      it('deletes a video’s points from the named collections only', async () => {
        await store.vectors.ensureCollection(spec);
        await store.vectors.ensureCollection({ ...spec, name: 'frames', dim: 2 });
        await store.vectors.upsert('faces', [point('a', [1, 0, 0], { videoId: 'v1' })]);
        await store.vectors.upsert('frames', [
          { id: 'f1', vector: vector([1, 0]), payload: { videoId: 'v1' } },
          { id: 'f2', vector: vector([0, 1]), payload: { videoId: 'v2' } },
        ]);
        await store.vectors.deleteByVideo('v1', ['frames']);
        expect(await store.vectors.count('faces')).toBe(1);
        expect((await store.vectors.search('frames', vector([1, 1]), 10)).map((h) => h.id)).toEqual(['f2']);
      });
    });

    describe('JobQueue', () => {
      const enqueue = (path: string, priority?: number, videoId: string | null = null) =>
        store.jobs.enqueue({ kind: 'INDEX_VIDEO', videoId, request: { path, title: `t ${path}` }, ...(priority === undefined ? {} : { priority }) });
      const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

      it('enqueues a QUEUED job and reads it back singly, in batches and in newest-first pages', async () => {
        const first = await enqueue('/m/1.mp4');
        expect(first).toMatchObject({
          kind: 'INDEX_VIDEO',
          videoId: null,
          request: { path: '/m/1.mp4', title: 't /m/1.mp4' },
          status: 'QUEUED',
          priority: 0,
          progress: 0,
          stage: null,
          stagesDone: [],
          error: null,
          attempts: 0,
          workerId: null,
          startedAt: null,
          finishedAt: null,
          heartbeatAt: null,
        });
        expect(first.id).toEqual(expect.any(String));
        expect(Number.isNaN(Date.parse(first.createdAt))).toBe(false);
        const jobs = [first, await enqueue('/m/2.mp4'), await enqueue('/m/3.mp4'), await enqueue('/m/4.mp4')];
        expect(await store.jobs.get(first.id)).toEqual(first);
        expect(await store.jobs.get('nope')).toBeNull();
        expect((await store.jobs.getMany([jobs[2]!.id, 'nope', first.id])).map((j) => j?.id ?? null)).toEqual([jobs[2]!.id, null, first.id]);

        await store.jobs.cancel(jobs[1]!.id);
        const seen: string[] = [];
        let after: string | null = null;
        for (;;) {
          const page = await store.jobs.list(null, { first: 3, after });
          expect(page.totalCount).toBe(4);
          seen.push(...page.items.map((j) => j.id));
          if (!page.hasNextPage) break;
          after = page.endCursor;
        }
        expect(seen).toEqual(jobs.map((j) => j.id).reverse());
        const queued = await store.jobs.list('QUEUED', { first: 10 });
        expect(queued.items.map((j) => j.id)).toEqual([jobs[3]!.id, jobs[2]!.id, first.id]);
        expect(queued.totalCount).toBe(3);
      });

      it('claims the highest priority first, then the NEWEST job, and marks it RUNNING', async () => {
        const old = await enqueue('/m/old.mp4');
        const urgent = await enqueue('/m/urgent.mp4', 5);
        const newest = await enqueue('/m/new.mp4');
        const claimed = await store.jobs.claim('w1');
        expect(claimed).toMatchObject({ id: urgent.id, status: 'RUNNING', workerId: 'w1', attempts: 1 });
        expect(claimed!.startedAt).toEqual(expect.any(String));
        expect(claimed!.heartbeatAt).toEqual(expect.any(String));
        expect((await store.jobs.claim('w1'))?.id).toBe(newest.id);
        expect((await store.jobs.claim('w2'))?.id).toBe(old.id);
        expect(await store.jobs.claim('w2')).toBeNull();
        expect(await store.jobs.get(urgent.id)).toEqual(claimed);
      });

      it('records progress, heartbeats, the video, completion and failure', async () => {
        const job = await enqueue('/m/a.mp4');
        await store.jobs.claim('w1');
        await store.jobs.progress(job.id, { stage: 'shots', progress: 0.25, stagesDone: ['probe'] });
        await store.jobs.progress(job.id, { stage: 'faces', progress: 0.5 });
        await store.jobs.setVideo(job.id, 'v1');
        const before = (await store.jobs.get(job.id))!;
        expect(before).toMatchObject({ stage: 'faces', progress: 0.5, stagesDone: ['probe'], videoId: 'v1' });
        expect((await store.jobs.activeForVideo('v1'))?.id).toBe(job.id);
        await sleep(5);
        await store.jobs.heartbeat(job.id, 'w1');
        expect((await store.jobs.get(job.id))!.heartbeatAt! > before.heartbeatAt!).toBe(true);
        await store.jobs.complete(job.id);
        const done = await store.jobs.get(job.id);
        expect(done).toMatchObject({ status: 'SUCCEEDED', progress: 1 });
        expect(done!.finishedAt).toEqual(expect.any(String));
        expect(await store.jobs.activeForVideo('v1')).toBeNull();

        const failing = await enqueue('/m/b.mp4');
        await store.jobs.claim('w1');
        await store.jobs.fail(failing.id, 'decoder exploded');
        expect(await store.jobs.get(failing.id)).toMatchObject({ status: 'FAILED', error: 'decoder exploded' });
      });

      it('requeues a running job keeping its finished stages', async () => {
        const job = await enqueue('/m/a.mp4');
        await store.jobs.claim('w1');
        await store.jobs.progress(job.id, { stage: 'faces', progress: 0.4, stagesDone: ['probe', 'shots'] });
        await store.jobs.requeue(job.id);
        expect(await store.jobs.get(job.id)).toMatchObject({ status: 'QUEUED', stagesDone: ['probe', 'shots'], attempts: 1 });
        expect(await store.jobs.claim('w2')).toMatchObject({ id: job.id, workerId: 'w2', attempts: 2, stagesDone: ['probe', 'shots'] });
      });

      it('cancels queued and running jobs; a cancelled job stays cancelled', async () => {
        const queued = await enqueue('/m/q.mp4', 0, 'vq');
        const running = await enqueue('/m/r.mp4', 1);
        await store.jobs.claim('w1');
        expect(await store.jobs.cancel(queued.id)).toMatchObject({ id: queued.id, status: 'CANCELLED' });
        expect(await store.jobs.activeForVideo('vq')).toBeNull();
        expect(await store.jobs.cancel(running.id)).toMatchObject({ id: running.id, status: 'CANCELLED' });
        await store.jobs.complete(running.id);
        await store.jobs.fail(running.id, 'late');
        expect(await store.jobs.get(running.id)).toMatchObject({ status: 'CANCELLED', error: null });
        expect(await store.jobs.claim('w1')).toBeNull();
        expect(await store.jobs.cancel('nope')).toBeNull();
      });

      it('requeues RUNNING jobs whose heartbeat is stale, and only those', async () => {
        const stale = await enqueue('/m/stale.mp4');
        await store.jobs.claim('w1');
        await sleep(30);
        const fresh = await enqueue('/m/fresh.mp4');
        await store.jobs.claim('w2');
        expect(await store.jobs.requeueStale(60_000)).toBe(0);
        expect(await store.jobs.requeueStale(20)).toBe(1);
        expect(await store.jobs.get(stale.id)).toMatchObject({ status: 'QUEUED', workerId: null });
        expect(await store.jobs.get(fresh.id)).toMatchObject({ status: 'RUNNING', workerId: 'w2' });
      });

      it('drops the OLDEST queued jobs beyond the backlog', async () => {
        const jobs = [];
        for (let i = 0; i < 5; i += 1) jobs.push(await enqueue(`/m/${i}.mp4`));
        await store.jobs.claim('w1');
        // jobs[4] (newest) is running; of the four still queued the two newest stay.
        expect(await store.jobs.dropOldestBeyond(2)).toBe(2);
        const status = await store.jobs.getMany(jobs.map((j) => j.id));
        expect(status.map((j) => j!.status)).toEqual(['CANCELLED', 'CANCELLED', 'QUEUED', 'QUEUED', 'RUNNING']);
        expect(status[0]!.error).toBe('dropped: backlog full');
        expect(await store.jobs.dropOldestBeyond(2)).toBe(0);
      });

      it('counts jobs in every status, zero included', async () => {
        const empty: Record<JobStatus, number> = { QUEUED: 0, RUNNING: 0, SUCCEEDED: 0, FAILED: 0, CANCELLED: 0 };
        expect(await store.jobs.countByStatus()).toEqual(empty);
        await enqueue('/m/1.mp4');
        await enqueue('/m/2.mp4');
        await store.jobs.claim('w');
        expect(await store.jobs.countByStatus()).toEqual({ ...empty, QUEUED: 1, RUNNING: 1 });
      });

      it('never hands the same job to two concurrent claims', async () => {
        for (let i = 0; i < 20; i += 1) await enqueue(`/m/${i}.mp4`);
        const claims = await Promise.all(Array.from({ length: 40 }, (_, i) => store.jobs.claim(`w${i % 4}`)));
        const ids = claims.filter((j) => j !== null).map((j) => j.id);
        expect(ids).toHaveLength(20);
        expect(new Set(ids).size).toBe(20);
      });
    });
  });
}
