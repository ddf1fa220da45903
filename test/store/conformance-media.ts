// The contract of the media-derived repositories (technical cues, intro/outro fingerprints and
// skip markers, frame evidence), backend-agnostic: embedded SQLite, Elasticsearch and the in-memory
// fakes run it through the interfaces only.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VideoRecord } from '../../src/domain.js';
import type { Catalog, FrameEvidence, Store } from '../../src/store/interfaces.js';
import type { EpisodeFingerprint, SkipMarkerRecord } from '../../src/store/intro.js';
import type { ShotQualityRecord, TechnicalCueRecord, VisualFlagRecord } from '../../src/store/technical.js';
import { video } from './conformance.js';

export interface MediaFixture extends Pick<Store, 'technical' | 'intro' | 'frameEvidence'> {
  /** Where videos (and so series membership) live. */
  catalog: Pick<Catalog, 'putVideo' | 'updateVideo'>;
  dispose(): Promise<void>;
}

export function technicalCue(videoId: string, type: TechnicalCueRecord['type'], start: number, overrides: Partial<TechnicalCueRecord> = {}): TechnicalCueRecord {
  return { id: `${videoId}:${type}:${start * 1000}`, videoId, type, start, end: start + 2, confidence: 0.9, activeArea: null, ...overrides };
}

export function shotQuality(videoId: string, shotIndex: number, overrides: Partial<ShotQualityRecord> = {}): ShotQualityRecord {
  return {
    videoId,
    shotIndex,
    start: shotIndex * 10,
    end: shotIndex * 10 + 10,
    time: shotIndex * 10 + 5,
    sharpness: 0.8,
    faceSharpness: null,
    blockiness: 0.1,
    brightness: 120,
    contrast: 40,
    clean: true,
    issues: [],
    ...overrides,
  };
}

export function visualFlag(videoId: string, segment: number, label: VisualFlagRecord['label'], overrides: Partial<VisualFlagRecord> = {}): VisualFlagRecord {
  return {
    id: `${videoId}-seg${segment}:${label}`,
    videoId,
    segmentId: `${videoId}-seg${segment}`,
    label,
    start: segment * 10,
    end: segment * 10 + 10,
    score: 0.7,
    risk: 0.55,
    flagged: true,
    evidenceTimes: [segment * 10 + 4, segment * 10 + 2],
    modelId: 'nsfw-test',
    ...overrides,
  };
}

/** A fingerprint whose hashes are derived from `seed`, with values above 2^31 (the sign bit must survive). */
export function fingerprint(videoId: string, seed: number, overrides: Partial<EpisodeFingerprint> = {}): EpisodeFingerprint {
  const window = (start: number, salt: number) => ({
    start,
    visual: Uint32Array.from({ length: 6 }, (_, i) => (0x9e3779b9 * (seed + salt + i)) >>> 0),
    visualInformative: Uint8Array.from({ length: 3 }, (_, i) => (seed + salt + i) % 2),
    audio: Uint32Array.from({ length: 4 }, (_, i) => (i === 1 ? 0 : (0xfffffff0 - seed * 7 - salt - i) >>> 0)),
  });
  return { videoId, durationSec: 1300, visualStepSec: 0.5, audioStepSec: 0.25, version: 2, head: window(0, 1), tail: window(1000, 2), ...overrides };
}

export function skipMarker(videoId: string, kind: SkipMarkerRecord['kind'], source: SkipMarkerRecord['source'], start: number, overrides: Partial<SkipMarkerRecord> = {}): SkipMarkerRecord {
  return {
    videoId,
    kind,
    source,
    start,
    end: start + 30,
    confidence: source === 'EDITOR' ? 1 : 0.8,
    matchedVideoIds: source === 'EDITOR' ? [] : ['sibling-1', 'sibling-2'],
    updatedAt: '2024-05-01T00:00:00.000Z',
    ...overrides,
  };
}

/** A frame's evidence; `thumbnail` false gives a frame the way older indexes stored it (none). */
export function evidenceFrame(time: number, repeat = false, salt = 0, thumbnail = true): FrameEvidence {
  const seed = Math.round(time * 1000) + salt;
  return {
    time,
    picture: Uint8Array.from({ length: 24 }, (_, i) => (seed * 31 + i * 7) % 256),
    features: Uint8Array.from({ length: 16 }, (_, i) => (seed * 17 + i * 13) % 256),
    repeat,
    thumbnail: thumbnail ? { width: 4, height: 3, grey: Uint8Array.from({ length: 12 }, (_, i) => (seed * 11 + i * 5) % 256) } : null,
  };
}

/** Frames as plain values: backends may hand back Buffers or Uint8Arrays. */
export function plainEvidence(frames: readonly FrameEvidence[]): { time: number; picture: number[]; features: number[]; repeat: boolean; thumbnail: unknown }[] {
  return frames.map((f) => ({
    time: f.time,
    picture: [...f.picture],
    features: [...f.features],
    repeat: f.repeat,
    thumbnail: f.thumbnail ? { width: f.thumbnail.width, height: f.thumbnail.height, grey: [...f.thumbnail.grey] } : null,
  }));
}

function plainFingerprint(f: EpisodeFingerprint): unknown {
  const window = (w: EpisodeFingerprint['head']) => ({
    start: w.start,
    visual: w.visual instanceof Uint32Array ? [...w.visual] : 'not a Uint32Array',
    visualInformative: w.visualInformative instanceof Uint8Array ? [...w.visualInformative] : 'not a Uint8Array',
    audio: w.audio instanceof Uint32Array ? [...w.audio] : 'not a Uint32Array',
  });
  return { ...f, head: window(f.head), tail: window(f.tail) };
}

export function describeMediaConformance(name: string, open: () => Promise<MediaFixture>): void {
  describe(`media repositories conformance: ${name}`, () => {
    let repos: MediaFixture;
    beforeEach(async () => {
      repos = await open();
    });
    afterEach(async () => {
      await repos.dispose();
    });

    describe('technical', () => {
      it('replaces each set per video and reads it back whole in the documented order', async () => {
        const box = { x: 0, y: 60, width: 1280, height: 600 };
        await repos.technical.replaceCues('v1', [
          technicalCue('v1', 'SILENCE', 30),
          technicalCue('v1', 'LETTERBOX', 0, { end: 100, activeArea: box, confidence: 1 }),
          technicalCue('v1', 'BLACK_FRAMES', 0, { end: 1.5 }),
        ]);
        await repos.technical.replaceCues('v2', [technicalCue('v2', 'SLATE', 3)]);
        expect(await repos.technical.getCues('v1')).toEqual([
          technicalCue('v1', 'BLACK_FRAMES', 0, { end: 1.5 }),
          technicalCue('v1', 'LETTERBOX', 0, { end: 100, activeArea: box, confidence: 1 }),
          technicalCue('v1', 'SILENCE', 30),
        ]);

        // A replace drops what is not given again; other videos keep theirs.
        await repos.technical.replaceCues('v1', [technicalCue('v1', 'FREEZE_FRAME', 12)]);
        expect(await repos.technical.getCues('v1')).toEqual([technicalCue('v1', 'FREEZE_FRAME', 12)]);
        expect(await repos.technical.getCues('v2')).toEqual([technicalCue('v2', 'SLATE', 3)]);
        await repos.technical.replaceCues('v1', []);
        expect(await repos.technical.getCues('v1')).toEqual([]);
        expect(await repos.technical.getCues('nothing')).toEqual([]);
      });

      it('keeps shot quality in shot order with nulls, flags and issues as given; the last row of a shot wins', async () => {
        const rows = [
          shotQuality('v1', 2, { clean: false, issues: ['blur', 'dark'], sharpness: 0.1, brightness: 20 }),
          shotQuality('v1', 0, { faceSharpness: 0.55 }),
          shotQuality('v1', 1, { sharpness: 0.2 }),
          shotQuality('v1', 1, { sharpness: 0.3, issues: ['blocky'], clean: false }),
        ];
        await repos.technical.replaceShotQuality('v1', rows);
        expect(await repos.technical.getShotQuality('v1')).toEqual([rows[1], rows[3], rows[0]]);
        await repos.technical.replaceShotQuality('v1', [shotQuality('v1', 5)]);
        expect(await repos.technical.getShotQuality('v1')).toEqual([shotQuality('v1', 5)]);
      });

      it('keeps visual flags in time order (label breaks ties) with their evidence times best first', async () => {
        const flags = [visualFlag('v1', 3, 'SEXY'), visualFlag('v1', 1, 'SEXY'), visualFlag('v1', 1, 'PORN', { score: 0.95, evidenceTimes: [13, 11, 12] })];
        await repos.technical.replaceVisualFlags('v1', flags);
        expect(await repos.technical.getVisualFlags('v1')).toEqual([flags[2], flags[1], flags[0]]);
        await repos.technical.replaceVisualFlags('v1', []);
        expect(await repos.technical.getVisualFlags('v1')).toEqual([]);
      });

      it('replacing one set leaves the other sets of the video alone; deleting the video drops all three', async () => {
        await repos.technical.replaceCues('v1', [technicalCue('v1', 'SILENCE', 1)]);
        await repos.technical.replaceShotQuality('v1', [shotQuality('v1', 0)]);
        await repos.technical.replaceVisualFlags('v1', [visualFlag('v1', 0, 'HENTAI')]);
        await repos.technical.replaceCues('v2', [technicalCue('v2', 'SILENCE', 1)]);
        await repos.technical.replaceShotQuality('v1', [shotQuality('v1', 1)]);
        expect(await repos.technical.getCues('v1')).toEqual([technicalCue('v1', 'SILENCE', 1)]);
        expect(await repos.technical.getVisualFlags('v1')).toEqual([visualFlag('v1', 0, 'HENTAI')]);

        await repos.technical.deleteVideo('v1');
        expect(await repos.technical.getCues('v1')).toEqual([]);
        expect(await repos.technical.getShotQuality('v1')).toEqual([]);
        expect(await repos.technical.getVisualFlags('v1')).toEqual([]);
        expect(await repos.technical.getCues('v2')).toEqual([technicalCue('v2', 'SILENCE', 1)]);
        await repos.technical.deleteVideo('never-there');
      });
    });

    describe('intro', () => {
      const at = (second: number): string => new Date(Date.UTC(2024, 4, 1, 0, 0, second)).toISOString();
      const episode = (id: string, season: number | null, number: number | null, createdSecond: number, series = 'S'): VideoRecord =>
        video(id, { series, season, episode: number, createdAt: at(createdSecond) });

      it('returns the fingerprints of the series’ videos, ordered by season, episode, creation and id (missing numbers first)', async () => {
        const videos = [
          episode('e3', 1, 2, 1),
          episode('e1', 2, 1, 2),
          episode('e2', 1, 1, 3),
          episode('e5', null, null, 9),
          episode('e4', 1, 2, 1),
          episode('other', 1, 1, 0, 'T'),
          episode('bare', 1, 3, 0),
        ];
        for (const v of videos) await repos.catalog.putVideo(v);
        for (const [i, id] of ['e1', 'e2', 'e3', 'e4', 'e5', 'other', 'orphan'].entries()) await repos.intro.putFingerprint(fingerprint(id, i));
        const found = await repos.intro.getFingerprintsOfSeries('S');
        expect(found.map((f) => f.videoId)).toEqual(['e5', 'e2', 'e3', 'e4', 'e1']);
        expect(found.map(plainFingerprint)).toEqual(['e5', 'e2', 'e3', 'e4', 'e1'].map((id) => plainFingerprint(fingerprint(id, ['e1', 'e2', 'e3', 'e4', 'e5'].indexOf(id)))));
        expect(Math.max(...found[0]!.head.audio)).toBeGreaterThan(2 ** 31);
        expect(await repos.intro.getFingerprintsOfSeries('nothing')).toEqual([]);

        // A re-put overwrites; a video moved to another series takes its fingerprint along.
        await repos.intro.putFingerprint(fingerprint('e1', 42, { version: 3 }));
        await repos.catalog.updateVideo('e2', { series: 'T' });
        expect((await repos.intro.getFingerprintsOfSeries('S')).map((f) => [f.videoId, f.version])).toEqual([['e5', 2], ['e3', 2], ['e4', 2], ['e1', 3]]);
        expect((await repos.intro.getFingerprintsOfSeries('T')).map((f) => f.videoId)).toEqual(['other', 'e2']);
      });

      it('replaces automatic markers of the given videos, absent meaning none, and leaves editors’ markers and other videos alone', async () => {
        const editorIntro = skipMarker('a', 'INTRO', 'EDITOR', 5);
        await repos.intro.putEditorMarker('a', 'INTRO', editorIntro);
        await repos.intro.replaceAutoMarkers(
          ['a', 'b', 'c'],
          [skipMarker('a', 'OUTRO', 'AUTO', 1200), skipMarker('a', 'INTRO', 'AUTO', 10), skipMarker('b', 'INTRO', 'AUTO', 11), skipMarker('c', 'OUTRO', 'AUTO', 900)],
        );
        expect(await repos.intro.getMarkers(['c', 'zzz', 'a', 'b'])).toEqual([
          [skipMarker('c', 'OUTRO', 'AUTO', 900)],
          [],
          // Per kind (INTRO before OUTRO), the editor's marker before the automatic one.
          [editorIntro, skipMarker('a', 'INTRO', 'AUTO', 10), skipMarker('a', 'OUTRO', 'AUTO', 1200)],
          [skipMarker('b', 'INTRO', 'AUTO', 11)],
        ]);

        await repos.intro.replaceAutoMarkers(['a', 'b'], [skipMarker('a', 'OUTRO', 'AUTO', 1190, { matchedVideoIds: ['b'] })]);
        expect(await repos.intro.getMarkers(['a', 'b', 'c'])).toEqual([
          [editorIntro, skipMarker('a', 'OUTRO', 'AUTO', 1190, { matchedVideoIds: ['b'] })],
          [],
          [skipMarker('c', 'OUTRO', 'AUTO', 900)],
        ]);
        await repos.intro.replaceAutoMarkers([], []);
        expect(await repos.intro.getMarkers([])).toEqual([]);
      });

      it('sets an editor marker per kind (replacing the previous one, stored as an editor’s), and null removes only it', async () => {
        await repos.intro.replaceAutoMarkers(['a'], [skipMarker('a', 'INTRO', 'AUTO', 10)]);
        await repos.intro.putEditorMarker('a', 'INTRO', skipMarker('a', 'INTRO', 'EDITOR', 4));
        await repos.intro.putEditorMarker('a', 'OUTRO', skipMarker('a', 'OUTRO', 'EDITOR', 1250));
        // Whatever the record says, the call's video and kind make the marker an editor's, matching nothing.
        await repos.intro.putEditorMarker('a', 'INTRO', skipMarker('x', 'OUTRO', 'AUTO', 6, { updatedAt: '2024-06-01T00:00:00.000Z' }));
        const editorIntro = skipMarker('a', 'INTRO', 'EDITOR', 6, { confidence: 0.8, updatedAt: '2024-06-01T00:00:00.000Z' });
        expect(await repos.intro.getMarkers(['a'])).toEqual([[editorIntro, skipMarker('a', 'INTRO', 'AUTO', 10), skipMarker('a', 'OUTRO', 'EDITOR', 1250)]]);

        await repos.intro.putEditorMarker('a', 'INTRO', null);
        await repos.intro.putEditorMarker('b', 'OUTRO', null);
        expect(await repos.intro.getMarkers(['a', 'b'])).toEqual([[skipMarker('a', 'INTRO', 'AUTO', 10), skipMarker('a', 'OUTRO', 'EDITOR', 1250)], []]);
      });

      it('deleting a video drops its fingerprint and every marker', async () => {
        await repos.catalog.putVideo(episode('a', 1, 1, 0));
        await repos.catalog.putVideo(episode('b', 1, 2, 0));
        await repos.intro.putFingerprint(fingerprint('a', 1));
        await repos.intro.putFingerprint(fingerprint('b', 2));
        await repos.intro.replaceAutoMarkers(['a', 'b'], [skipMarker('a', 'INTRO', 'AUTO', 10), skipMarker('b', 'INTRO', 'AUTO', 10)]);
        await repos.intro.putEditorMarker('a', 'OUTRO', skipMarker('a', 'OUTRO', 'EDITOR', 1250));
        await repos.intro.deleteVideo('a');
        expect((await repos.intro.getFingerprintsOfSeries('S')).map((f) => f.videoId)).toEqual(['b']);
        expect(await repos.intro.getMarkers(['a', 'b'])).toEqual([[], [skipMarker('b', 'INTRO', 'AUTO', 10)]]);
      });
    });

    describe('frame evidence', () => {
      it('keeps each frame’s grey thumbnail, and none for a frame stored without one (older indexes)', async () => {
        await repos.frameEvidence.add('v1', 'm1', [evidenceFrame(1), evidenceFrame(2, false, 0, false)]);
        const [withThumbnail, without] = await repos.frameEvidence.window('v1', 'm1', 0, 5);
        expect(plainEvidence([withThumbnail!])[0]!.thumbnail).toEqual({ width: 4, height: 3, grey: [...evidenceFrame(1).thumbnail!.grey] });
        expect(without!.thumbnail ?? null).toBeNull();
      });

      it('reads a window in time order with inclusive millisecond bounds, only frames of the model asked for', async () => {
        await repos.frameEvidence.add('v1', 'm1', [evidenceFrame(2), evidenceFrame(0.5), evidenceFrame(1.25)]);
        await repos.frameEvidence.add('v1', 'm1', [evidenceFrame(3.25), evidenceFrame(1.5)]);
        await repos.frameEvidence.add('v1', 'm2', [evidenceFrame(2.5)]);
        await repos.frameEvidence.add('v2', 'm1', [evidenceFrame(1.5, false, 9)]);
        expect(plainEvidence(await repos.frameEvidence.window('v1', 'm1', 1.25, 3.25))).toEqual(plainEvidence([evidenceFrame(1.25), evidenceFrame(1.5), evidenceFrame(2), evidenceFrame(3.25)]));
        expect(plainEvidence(await repos.frameEvidence.window('v1', 'm1', 0, 10))).toEqual(plainEvidence([0.5, 1.25, 1.5, 2, 3.25].map((t) => evidenceFrame(t))));
        expect(plainEvidence(await repos.frameEvidence.window('v1', 'm2', 0, 10))).toEqual(plainEvidence([evidenceFrame(2.5)]));
        expect(plainEvidence(await repos.frameEvidence.window('v1', 'm1', 2, 2))).toEqual(plainEvidence([evidenceFrame(2)]));
        expect(await repos.frameEvidence.window('v1', 'm1', 2.0004, 3.2499)).toEqual([]);
        expect(await repos.frameEvidence.window('v1', 'm3', 0, 10)).toEqual([]);
        expect(await repos.frameEvidence.window('v9', 'm1', 0, 10)).toEqual([]);
      });

      it('a frame added again at the same millisecond overwrites the stored one, whichever model made it', async () => {
        await repos.frameEvidence.add('v1', 'm1', [evidenceFrame(1), evidenceFrame(2)]);
        await repos.frameEvidence.add('v1', 'm1', [evidenceFrame(1, true, 5)]);
        await repos.frameEvidence.add('v1', 'm2', [evidenceFrame(2, false, 6)]);
        expect(plainEvidence(await repos.frameEvidence.window('v1', 'm1', 0, 5))).toEqual(plainEvidence([evidenceFrame(1, true, 5)]));
        expect(plainEvidence(await repos.frameEvidence.window('v1', 'm2', 0, 5))).toEqual(plainEvidence([evidenceFrame(2, false, 6)]));
      });

      it('leads a window that opens on repeats with the last frame before it that is no repeat', async () => {
        const frames = [evidenceFrame(1), evidenceFrame(2), evidenceFrame(3, true), evidenceFrame(4, true), evidenceFrame(5), evidenceFrame(6, true)];
        await repos.frameEvidence.add('v1', 'm1', frames);
        await repos.frameEvidence.add('v1', 'm2', [evidenceFrame(3.5)]);
        expect(plainEvidence(await repos.frameEvidence.window('v1', 'm1', 3.5, 5))).toEqual(plainEvidence([evidenceFrame(2), evidenceFrame(4, true), evidenceFrame(5)]));
        expect(plainEvidence(await repos.frameEvidence.window('v1', 'm1', 3, 3))).toEqual(plainEvidence([evidenceFrame(2), evidenceFrame(3, true)]));
        expect(plainEvidence(await repos.frameEvidence.window('v1', 'm1', 6, 7))).toEqual(plainEvidence([evidenceFrame(5), evidenceFrame(6, true)]));
        // Opening on a frame that is no repeat, or on nothing: no lead.
        expect(plainEvidence(await repos.frameEvidence.window('v1', 'm1', 2, 3))).toEqual(plainEvidence([evidenceFrame(2), evidenceFrame(3, true)]));
        expect(await repos.frameEvidence.window('v1', 'm1', 6.5, 7)).toEqual([]);

        await repos.frameEvidence.add('v2', 'm1', [evidenceFrame(1, true), evidenceFrame(2, true)]);
        expect(plainEvidence(await repos.frameEvidence.window('v2', 'm1', 2, 3))).toEqual(plainEvidence([evidenceFrame(2, true)]));
      });

      it('deleting a video drops its frames and no other video’s', async () => {
        await repos.frameEvidence.add('v1', 'm1', [evidenceFrame(1), evidenceFrame(2)]);
        await repos.frameEvidence.add('v2', 'm1', [evidenceFrame(1)]);
        await repos.frameEvidence.deleteVideo('v1');
        expect(await repos.frameEvidence.window('v1', 'm1', 0, 10)).toEqual([]);
        expect(plainEvidence(await repos.frameEvidence.window('v2', 'm1', 0, 10))).toEqual(plainEvidence([evidenceFrame(1)]));
        await repos.frameEvidence.add('v1', 'm1', [evidenceFrame(3)]);
        expect(plainEvidence(await repos.frameEvidence.window('v1', 'm1', 0, 10))).toEqual(plainEvidence([evidenceFrame(3)]));
      });
    });
  });
}
