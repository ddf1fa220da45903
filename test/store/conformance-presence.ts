// The ActorRepository and AppearanceRepository contract (src/store/actors.ts, appearances.ts),
// run against every backend: embedded SQLite (the reference), the in-memory fakes, and
// Elasticsearch when a cluster is reachable (test/store/elastic-presence.test.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf } from '../helpers/errors.js';
import type { ActorRecord, ActorRepository, FaceTemplateRecord } from '../../src/store/actors.js';
import type { AppearanceRepository, AppearanceSpanRecord, FaceClusterRecord, FaceRecord, FaceTrackRecord } from '../../src/store/appearances.js';

export interface PresenceRepositories {
  actors: ActorRepository;
  appearances: AppearanceRepository;
  dispose(): Promise<void>;
}

const vec = (...values: number[]): Float32Array => Float32Array.from(values);

export function actor(id: string, name: string, aliases: string[] = [], createdAt = '2026-01-01T00:00:00.000Z'): ActorRecord {
  return { id, name, aliases, createdAt, updatedAt: createdAt };
}

export function template(id: string, actorId: string, createdAt = '2026-01-01T00:00:00.000Z', thumbnail: Buffer | null = Buffer.from([0xff, 0xd8, id.length])): FaceTemplateRecord {
  return { id, actorId, modelId: 'arcface', source: `upload ${id}`, thumbnail, createdAt };
}

export function track(id: string, videoId: string, patch: Partial<FaceTrackRecord> = {}): FaceTrackRecord {
  return {
    id,
    videoId,
    shotIndex: 0,
    start: 0,
    end: 2,
    faceCount: 4,
    actorId: null,
    clusterId: null,
    similarity: null,
    confidence: 0,
    bestFaceId: `${id}-f0`,
    embedding: vec(1, 0),
    modelId: 'm',
    ...patch,
  };
}

export function face(id: string, videoId: string, trackId: string, patch: Partial<FaceRecord> = {}): FaceRecord {
  return { id, videoId, trackId, time: 1, box: { x: 1, y: 2, width: 30, height: 40 }, detectionScore: 0.9, quality: 0.5, thumbnail: null, ...patch };
}

export function cluster(id: string, size: number, sum: Float32Array, createdAt: string, patch: Partial<FaceClusterRecord> = {}): FaceClusterRecord {
  return { id, actorId: null, size, vectorSum: sum, modelId: 'm', bestFaceId: null, bestFaceQuality: 0, createdAt, updatedAt: createdAt, ...patch };
}

export function span(id: string, videoId: string, actorId: string, start: number, evidence: 'FACE' | 'VOICE' = 'FACE', confidence = 0.8): AppearanceSpanRecord {
  return { id, videoId, actorId, start, end: start + 1, confidence, evidence, sourceIds: [`${id}-src`], bestFaceId: evidence === 'FACE' ? `${id}-face` : null };
}

const ids = (records: readonly ({ id: string } | null)[]): (string | null)[] => records.map((r) => r?.id ?? null);
const noFaces = { tracks: [], faces: [], spans: [], clusters: [] };

export function describePresenceConformance(name: string, open: () => Promise<PresenceRepositories>): void {
  describe(`presence conformance: ${name}`, () => {
    let repos: PresenceRepositories;
    let actors: ActorRepository;
    let appearances: AppearanceRepository;
    beforeEach(async () => {
      repos = await open();
      ({ actors, appearances } = repos);
    });
    afterEach(async () => {
      await repos.dispose();
    });

    describe('actors', () => {
      it('creates an actor with its templates and reads them back: by id, in the caller order, templates by creation then id', async () => {
        const templates = [template('t-b', 'a1', '2026-01-02T00:00:00.000Z'), template('t-c', 'a1', '2026-01-01T00:00:00.000Z'), template('t-a', 'a1', '2026-01-02T00:00:00.000Z', null)];
        await actors.createActor(actor('a1', 'Zhou Xun', ['周迅']), templates);
        await actors.createActor(actor('a2', 'Li Bai'), []);
        expect(await actors.getActor('a1')).toEqual(actor('a1', 'Zhou Xun', ['周迅']));
        expect(await actors.getActor('nope')).toBeNull();
        expect(ids(await actors.getActors(['a2', 'nope', 'a1']))).toEqual(['a2', null, 'a1']);
        expect(await actors.getActors([])).toEqual([]);
        expect(await actors.listFaceTemplates('a1')).toEqual([templates[1], templates[2], templates[0]]);
        expect(await actors.listFaceTemplates('a2')).toEqual([]);
        expect(await actors.getFaceTemplate('t-b')).toEqual(templates[0]);
        expect(await actors.getFaceTemplate('t-a')).toEqual(templates[2]);
        expect(await actors.getFaceTemplate('nope')).toBeNull();
      });

      it('lists actors by name (ASCII case-insensitive) then id, filters by a substring of the name or an alias, and pages', async () => {
        await actors.createActor(actor('a3', 'bob'), []);
        await actors.createActor(actor('a2', 'Bob', ['The Builder']), []);
        await actors.createActor(actor('a1', 'alice', ['Wonder_Land 100%']), []);
        await actors.createActor(actor('a4', 'Carol*'), []);
        const all = await actors.listActors(null, { first: 10 });
        expect(all.items.map((a) => a.id)).toEqual(['a1', 'a2', 'a3', 'a4']);
        expect(all).toMatchObject({ hasNextPage: false, totalCount: 4 });
        expect((await actors.listActors('', { first: 10 })).totalCount).toBe(4);

        const first = await actors.listActors(null, { first: 2 });
        expect(first.items.map((a) => a.id)).toEqual(['a1', 'a2']);
        expect(first).toMatchObject({ hasNextPage: true, totalCount: 4 });
        const second = await actors.listActors(null, { first: 2, after: first.endCursor });
        expect(second.items.map((a) => a.id)).toEqual(['a3', 'a4']);
        expect(second).toMatchObject({ hasNextPage: false, totalCount: 4 });
        const past = await actors.listActors(null, { first: 2, after: second.endCursor });
        expect(past).toMatchObject({ items: [], hasNextPage: false, endCursor: second.endCursor });
        expect(await codeOf(actors.listActors(null, { first: 2, after: 'not a cursor' }))).toBe('BAD_USER_INPUT');

        expect((await actors.listActors('BUILD', { first: 10 })).items.map((a) => a.id)).toEqual(['a2']);
        expect((await actors.listActors('ob', { first: 10 })).items.map((a) => a.id)).toEqual(['a2', 'a3']);
        // Pattern characters of either backend match only themselves.
        expect((await actors.listActors('_land 1', { first: 10 })).items.map((a) => a.id)).toEqual(['a1']);
        expect((await actors.listActors('100%', { first: 10 })).items.map((a) => a.id)).toEqual(['a1']);
        expect((await actors.listActors('%', { first: 10 })).items.map((a) => a.id)).toEqual(['a1']);
        expect((await actors.listActors('l*', { first: 10 })).items.map((a) => a.id)).toEqual(['a4']);
        expect((await actors.listActors('x', { first: 10 })).items).toEqual([]);
        const filtered = await actors.listActors('OB', { first: 1 });
        expect(filtered.items.map((a) => a.id)).toEqual(['a2']);
        expect(filtered).toMatchObject({ hasNextPage: true, totalCount: 2 });
        const filteredRest = await actors.listActors('OB', { first: 1, after: filtered.endCursor });
        expect(filteredRest.items.map((a) => a.id)).toEqual(['a3']);
        expect(filteredRest).toMatchObject({ hasNextPage: false, totalCount: 2 });
      });

      it('updates name or aliases (the other stays), stamps updatedAt, finds the actor by its new alias; null when missing', async () => {
        await actors.createActor(actor('a1', 'Old', ['first']), [template('t1', 'a1')]);
        const renamed = await actors.updateActor('a1', { name: 'New' });
        expect(renamed).toMatchObject({ id: 'a1', name: 'New', aliases: ['first'], createdAt: '2026-01-01T00:00:00.000Z' });
        expect(renamed!.updatedAt > renamed!.createdAt).toBe(true);
        expect(await actors.updateActor('a1', { aliases: ['second'] })).toMatchObject({ name: 'New', aliases: ['second'] });
        expect(await actors.getActor('a1')).toMatchObject({ name: 'New', aliases: ['second'] });
        expect((await actors.listActors('secon', { first: 5 })).items.map((a) => a.id)).toEqual(['a1']);
        expect((await actors.listActors('first', { first: 5 })).items).toEqual([]);
        expect(await actors.updateActor('nope', { name: 'x' })).toBeNull();
        expect(await actors.countFaceTemplates(['a1'])).toEqual([1]);
      });

      it('adds, counts, lists across actors and deletes templates', async () => {
        await actors.createActor(actor('b', 'B'), [template('b2', 'b')]);
        await actors.createActor(actor('a', 'A'), []);
        await actors.addFaceTemplates([template('a2', 'a'), template('b1', 'b'), template('a1', 'a')]);
        expect(await actors.countFaceTemplates(['b', 'nope', 'a'])).toEqual([2, 0, 2]);
        expect(await actors.countFaceTemplates([])).toEqual([]);
        expect((await actors.allFaceTemplates()).map((t) => [t.actorId, t.id])).toEqual([['a', 'a1'], ['a', 'a2'], ['b', 'b1'], ['b', 'b2']]);
        await actors.deleteFaceTemplates(['a1', 'b2', 'nope']);
        await actors.deleteFaceTemplates([]);
        expect((await actors.allFaceTemplates()).map((t) => t.id)).toEqual(['a2', 'b1']);
        expect(await actors.getFaceTemplate('a1')).toBeNull();
        expect(await actors.countFaceTemplates(['a', 'b'])).toEqual([1, 1]);
        await expect(actors.addFaceTemplates([template('x1', 'no-such-actor')])).rejects.toThrow();
      });

      it('deletes an actor with its templates and returns the template ids; null when missing', async () => {
        await actors.createActor(actor('a1', 'A'), [template('t2', 'a1'), template('t1', 'a1')]);
        await actors.createActor(actor('a2', 'B'), [template('t3', 'a2')]);
        expect(((await actors.deleteActor('a1')) ?? []).sort()).toEqual(['t1', 't2']);
        expect(await actors.deleteActor('a1')).toBeNull();
        expect(await actors.getActor('a1')).toBeNull();
        expect(await actors.getFaceTemplate('t1')).toBeNull();
        expect((await actors.allFaceTemplates()).map((t) => t.id)).toEqual(['t3']);
        expect((await actors.listActors(null, { first: 5 })).items.map((a) => a.id)).toEqual(['a2']);
      });
    });

    describe('appearances', () => {
      it('replaces a video atomically: tracks, faces and FACE spans go, VOICE spans and other videos stay', async () => {
        await appearances.replaceSpans('v1', 'VOICE', [span('voice1', 'v1', 'a', 9, 'VOICE')]);
        const thumb = Buffer.from([1, 2, 3]);
        await appearances.replaceVideoFaces('v1', {
          tracks: [track('t2', 'v1', { start: 5 }), track('t1', 'v1', { actorId: 'a', confidence: 0.9, similarity: 0.7, embedding: vec(0.6, 0.8) })],
          faces: [face('f1', 'v1', 't1', { thumbnail: thumb, quality: 0.2 }), face('f2', 'v1', 't1', { quality: 0.9 }), face('f3', 'v1', 't2')],
          spans: [span('s1', 'v1', 'a', 0)],
          clusters: [],
        });
        await appearances.replaceVideoFaces('v2', { ...noFaces, tracks: [track('u1', 'v2')], faces: [face('g1', 'v2', 'u1')] });
        const stored = await appearances.getTracksOfVideo('v1');
        expect(stored.map((t) => t.id)).toEqual(['t1', 't2']);
        expect(stored[0]).toEqual(track('t1', 'v1', { actorId: 'a', confidence: 0.9, similarity: 0.7, embedding: vec(0.6, 0.8) }));
        expect(Array.from(stored[0]!.embedding)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
        expect(await appearances.getFaces(['f1', 'nope', 'g1'])).toEqual([face('f1', 'v1', 't1', { thumbnail: thumb, quality: 0.2 }), null, face('g1', 'v2', 'u1')]);
        expect(ids(await appearances.getTracks(['u1', 'nope', 't2']))).toEqual(['u1', null, 't2']);
        expect((await appearances.getSpans('v1', ['a'], 0)).map((s) => s.id)).toEqual(['s1', 'voice1']);

        await appearances.replaceVideoFaces('v1', { ...noFaces, tracks: [track('t3', 'v1')], faces: [face('f9', 'v1', 't3')], spans: [span('s2', 'v1', 'b', 3)] });
        expect((await appearances.getTracksOfVideo('v1')).map((t) => t.id)).toEqual(['t3']);
        expect(ids(await appearances.getFaces(['f1', 'f9']))).toEqual([null, 'f9']);
        expect(ids(await appearances.getTracks(['t1', 't3']))).toEqual([null, 't3']);
        expect((await appearances.getSpansOfVideo('v1')).map((s) => [s.id, s.evidence])).toEqual([['voice1', 'VOICE'], ['s2', 'FACE']]);

        await appearances.replaceVideoFaces('v1', noFaces);
        expect(await appearances.getTracksOfVideo('v1')).toEqual([]);
        expect(await appearances.getSpansOfVideo('v1')).toEqual([span('voice1', 'v1', 'a', 9, 'VOICE')]);
        expect((await appearances.getTracksOfVideo('v2')).map((t) => t.id)).toEqual(['u1']);
        expect(await appearances.getTracksOfVideo('never-indexed')).toEqual([]);
      });

      it('reads faces of tracks best quality first within each track', async () => {
        await appearances.replaceVideoFaces('v1', {
          ...noFaces,
          tracks: [track('t1', 'v1'), track('t2', 'v1')],
          faces: [face('f1', 'v1', 't1', { quality: 0.2 }), face('f2', 'v1', 't1', { quality: 0.9 }), face('f3', 'v1', 't2', { quality: 0.1 }), face('f4', 'v1', 't2', { quality: 0.6 })],
        });
        expect((await appearances.getFacesOfTracks(['t1', 't2'])).map((f) => f.id)).toEqual(['f2', 'f1', 'f4', 'f3']);
        expect((await appearances.getFacesOfTracks(['t2'])).map((f) => f.id)).toEqual(['f4', 'f3']);
        expect(await appearances.getFacesOfTracks([])).toEqual([]);
        expect(await appearances.getTracks([])).toEqual([]);
        expect(await appearances.getFaces([])).toEqual([]);
      });

      it('finds tracks by cluster and by actor across videos (video, start, id), and editors assign them', async () => {
        await appearances.replaceVideoFaces('v2', { ...noFaces, tracks: [track('x', 'v2', { clusterId: 'c1', actorId: 'a' })] });
        await appearances.replaceVideoFaces('v1', {
          ...noFaces,
          tracks: [track('z', 'v1', { start: 3, clusterId: 'c1' }), track('y', 'v1', { start: 3, clusterId: 'c1', actorId: 'a' }), track('w', 'v1', { start: 1 })],
        });
        expect((await appearances.getTracksOfCluster('c1')).map((t) => t.id)).toEqual(['y', 'z', 'x']);
        expect((await appearances.getTracksOfActor('a')).map((t) => t.id)).toEqual(['y', 'x']);
        expect(await appearances.getTracksOfCluster('nope')).toEqual([]);

        await appearances.assignTracks(['w', 'z', 'nope'], 'b', 1);
        const [w, z] = await appearances.getTracks(['w', 'z']);
        expect(w).toMatchObject({ actorId: 'b', confidence: 1, similarity: null, clusterId: null });
        expect(z).toMatchObject({ actorId: 'b', confidence: 1, clusterId: 'c1' });
        expect((await appearances.getTracksOfActor('b')).map((t) => t.id)).toEqual(['w', 'z']);
        await appearances.assignTracks(['y'], null, 0);
        expect((await appearances.getTracksOfActor('a')).map((t) => t.id)).toEqual(['x']);
        expect((await appearances.getTracks(['y']))[0]).toMatchObject({ actorId: null, confidence: 0 });
      });

      it('writes clusters (size 0 deletes), lists them newest first then id, filters named, and opens the unnamed ones of a model', async () => {
        await appearances.putClusters([
          cluster('c1', 2, vec(2, 0), '2026-01-01'),
          cluster('c2', 1, vec(0, 1), '2026-01-02'),
          cluster('c3', 1, vec(0, 1), '2026-01-02', { actorId: 'a', bestFaceId: 'f1', bestFaceQuality: 0.8 }),
          cluster('c0', 1, vec(1, 1), '2026-01-01', { modelId: 'other' }),
        ]);
        expect(await appearances.getCluster('c3')).toEqual(cluster('c3', 1, vec(0, 1), '2026-01-02', { actorId: 'a', bestFaceId: 'f1', bestFaceQuality: 0.8 }));
        expect(await appearances.getCluster('nope')).toBeNull();
        const first = await appearances.listClusters({}, { first: 3 });
        expect(first.items.map((c) => c.id)).toEqual(['c3', 'c2', 'c1']);
        expect(first).toMatchObject({ hasNextPage: true, totalCount: 4 });
        const rest = await appearances.listClusters({}, { first: 3, after: first.endCursor });
        expect(rest.items.map((c) => c.id)).toEqual(['c0']);
        expect(rest).toMatchObject({ hasNextPage: false, totalCount: 4 });
        expect(await codeOf(appearances.listClusters({}, { first: 3, after: 'not a cursor' }))).toBe('BAD_USER_INPUT');
        expect((await appearances.listClusters({ named: true }, { first: 5 })).items.map((c) => c.id)).toEqual(['c3']);
        const unnamed = await appearances.listClusters({ named: false }, { first: 1 });
        expect(unnamed.items.map((c) => c.id)).toEqual(['c2']);
        expect(unnamed).toMatchObject({ hasNextPage: true, totalCount: 3 });
        expect((await appearances.listClusters({ named: null }, { first: 5 })).totalCount).toBe(4);
        expect((await appearances.openClusters('m')).map((c) => c.id)).toEqual(['c1', 'c2']);

        await appearances.putClusters([cluster('c1', 0, vec(0, 0), '2026-01-01'), cluster('c2', 3, vec(0, 3), '2026-01-02', { updatedAt: '2026-02-01' })]);
        expect(await appearances.getCluster('c1')).toBeNull();
        expect(await appearances.getCluster('c2')).toMatchObject({ size: 3, updatedAt: '2026-02-01' });
        expect(Array.from((await appearances.getCluster('c2'))!.vectorSum)).toEqual([0, 3]);
        expect((await appearances.openClusters('m')).map((c) => c.id)).toEqual(['c2']);
        await appearances.putClusters([]);
      });

      it('applies the cluster changes of a video with its faces', async () => {
        await appearances.replaceVideoFaces('v1', {
          ...noFaces,
          tracks: [track('t1', 'v1', { clusterId: 'c1' })],
          clusters: [cluster('c1', 1, vec(1, 0), '2026-01-01'), cluster('gone', 0, vec(0, 0), '2026-01-01')],
        });
        expect((await appearances.openClusters('m')).map((c) => [c.id, c.size])).toEqual([['c1', 1]]);
        expect((await appearances.getTracksOfCluster('c1')).map((t) => t.id)).toEqual(['t1']);
      });

      it('replaces spans per video and evidence; filters by actor and confidence in time order; refuses spans of another video or evidence', async () => {
        await appearances.replaceSpans('v1', 'FACE', [span('x1', 'v1', 'a', 5), span('x2', 'v1', 'a', 1, 'FACE', 0.4), span('x3', 'v1', 'b', 0)]);
        await appearances.replaceSpans('v1', 'VOICE', [span('x4', 'v1', 'a', 3, 'VOICE', 0.5)]);
        await appearances.replaceSpans('v2', 'FACE', [span('y1', 'v2', 'a', 3)]);
        expect((await appearances.getSpans('v1', ['a'], 0.5)).map((s) => s.id)).toEqual(['x4', 'x1']);
        expect((await appearances.getSpans('v1', ['a', 'b'], 0)).map((s) => s.id)).toEqual(['x3', 'x2', 'x4', 'x1']);
        expect(await appearances.getSpans('v1', [], 0)).toEqual([]);
        expect(await appearances.getSpans('v9', ['a'], 0)).toEqual([]);
        expect((await appearances.getSpansOfVideo('v1')).map((s) => s.id)).toEqual(['x2', 'x4', 'x1', 'x3']);
        // A window keeps the spans touching it (either end counts), in the same order.
        expect((await appearances.getSpansOfVideo('v1', { from: 2, to: 3 })).map((s) => s.id)).toEqual(['x2', 'x4']);
        expect(await appearances.getSpansOfVideo('v1', { from: 5.5, to: 9 })).toEqual([span('x1', 'v1', 'a', 5)]);
        expect(await appearances.getSpansOfVideo('v1', { from: 6.5, to: 9 })).toEqual([]);
        expect((await appearances.getSpans('v1', ['a'], 0)).find((s) => s.id === 'x1')).toEqual(span('x1', 'v1', 'a', 5));

        await appearances.replaceSpans('v1', 'FACE', [span('x5', 'v1', 'b', 2)]);
        expect((await appearances.getSpansOfVideo('v1')).map((s) => s.id)).toEqual(['x4', 'x5']);
        await appearances.replaceSpans('v1', 'VOICE', []);
        expect((await appearances.getSpansOfVideo('v1')).map((s) => s.id)).toEqual(['x5']);
        expect((await appearances.getSpansOfVideo('v2')).map((s) => s.id)).toEqual(['y1']);

        await expect(appearances.replaceSpans('v1', 'FACE', [span('z', 'v2', 'a', 0)])).rejects.toThrow();
        await expect(appearances.replaceSpans('v1', 'VOICE', [span('z', 'v1', 'a', 0, 'FACE')])).rejects.toThrow();
        expect((await appearances.getSpansOfVideo('v1')).map((s) => s.id)).toEqual(['x5']);
      });

      it('replaces the FACE spans of several videos and pages an actor across videos (video, start, id)', async () => {
        await appearances.replaceSpans('v1', 'VOICE', [span('v1-voice', 'v1', 'a', 7, 'VOICE')]);
        await appearances.replaceFaceSpansOfVideos(
          new Map([
            ['v2', [span('y1', 'v2', 'a', 3)]],
            ['v1', [span('x1', 'v1', 'a', 5), span('x2', 'v1', 'a', 1), span('x0', 'v1', 'a', 5), span('x3', 'v1', 'b', 0)]],
          ]),
        );
        const pages: string[][] = [];
        let after: string | null = null;
        for (;;) {
          const page = await appearances.listSpansOfActor('a', { first: 2, after });
          expect(page.totalCount).toBe(5);
          pages.push(page.items.map((s) => s.id));
          if (!page.hasNextPage) break;
          after = page.endCursor;
        }
        expect(pages).toEqual([['x2', 'x0'], ['x1', 'v1-voice'], ['y1']]);
        await appearances.replaceFaceSpansOfVideos(new Map([['v1', []]]));
        expect((await appearances.listSpansOfActor('a', { first: 10 })).items.map((s) => s.id)).toEqual(['v1-voice', 'y1']);
        // A cursor that is not one: the typed error every backend gives, not a plain Error.
        expect(await codeOf(appearances.listSpansOfActor('a', { first: 2, after: 'not a cursor' }))).toBe('BAD_USER_INPUT');
        const none = await appearances.listSpansOfActor('nobody', { first: 10 });
        expect(none).toMatchObject({ items: [], hasNextPage: false, totalCount: 0 });
      });

      it('reassigns an actor: tracks (with their confidence), named clusters and VOICE spans move; FACE spans stay for the caller', async () => {
        await appearances.putClusters([cluster('c1', 1, vec(1, 0), '2026-01-01', { actorId: 'src' })]);
        await appearances.replaceVideoFaces('v1', { ...noFaces, tracks: [track('t1', 'v1', { actorId: 'src', confidence: 0.7, clusterId: 'c1' })], spans: [span('f', 'v1', 'src', 0)] });
        await appearances.replaceSpans('v1', 'VOICE', [span('s', 'v1', 'src', 2, 'VOICE')]);
        await appearances.reassignActor('src', 'dst');
        expect(await appearances.getTracksOfActor('src')).toEqual([]);
        expect((await appearances.getTracksOfActor('dst'))[0]).toMatchObject({ id: 't1', confidence: 0.7 });
        expect(await appearances.getCluster('c1')).toMatchObject({ actorId: 'dst' });
        expect((await appearances.getSpansOfVideo('v1')).map((s) => [s.id, s.actorId])).toEqual([['s', 'dst'], ['f', 'src']]);
      });

      it('forgets an actor: its tracks become unknown, its clusters unnamed, its spans go', async () => {
        await appearances.putClusters([cluster('c1', 1, vec(1, 0), '2026-01-01', { actorId: 'a' })]);
        await appearances.replaceVideoFaces('v1', {
          ...noFaces,
          tracks: [track('t1', 'v1', { actorId: 'a', similarity: 0.9, confidence: 0.8 }), track('t2', 'v1', { actorId: 'b' })],
          spans: [span('s1', 'v1', 'a', 0), span('s2', 'v1', 'b', 0)],
        });
        await appearances.replaceSpans('v1', 'VOICE', [span('s3', 'v1', 'a', 4, 'VOICE')]);
        await appearances.forgetActor('a');
        expect((await appearances.getTracks(['t1']))[0]).toMatchObject({ actorId: null, similarity: null });
        expect(await appearances.getCluster('c1')).toMatchObject({ actorId: null });
        expect((await appearances.getSpansOfVideo('v1')).map((s) => s.id)).toEqual(['s2']);
        expect((await appearances.listSpansOfActor('a', { first: 5 })).totalCount).toBe(0);
      });

      it('purges old strangers with their unknown tracks and faces; named members stay without the cluster', async () => {
        await appearances.putClusters([cluster('old', 2, vec(2, 0), '2020-01-01'), cluster('new', 1, vec(1, 0), '2022-01-01'), cluster('named', 1, vec(1, 0), '2019-01-01', { actorId: 'a' })]);
        await appearances.replaceVideoFaces('v1', {
          ...noFaces,
          tracks: [track('t1', 'v1', { actorId: 'a', clusterId: 'old' }), track('t2', 'v1', { clusterId: 'old' }), track('t3', 'v1', { clusterId: 'new' })],
          faces: [face('f1', 'v1', 't1'), face('f2', 'v1', 't2'), face('f2b', 'v1', 't2'), face('f3', 'v1', 't3')],
        });
        const purged = await appearances.purgeUnknownFaces('2021-01-01');
        expect({ clusterIds: [...purged.clusterIds].sort(), faceIds: [...purged.faceIds].sort() }).toEqual({ clusterIds: ['old'], faceIds: ['f2', 'f2b'] });
        expect((await appearances.getTracksOfVideo('v1')).map((t) => [t.id, t.clusterId])).toEqual([['t1', null], ['t3', 'new']]);
        expect(ids(await appearances.getFaces(['f1', 'f2', 'f3']))).toEqual(['f1', null, 'f3']);
        expect(await appearances.getCluster('old')).toBeNull();
        expect(await appearances.getCluster('named')).not.toBeNull();
        expect(await appearances.purgeUnknownFaces('2021-01-01')).toEqual({ clusterIds: [], faceIds: [] });
      });

      it('deletes a video: returns its face ids, takes its tracks out of their clusters, and leaves other videos', async () => {
        await appearances.putClusters([cluster('c1', 2, vec(2, 0), '2026-01-01', { bestFaceId: 'f2', bestFaceQuality: 0.9 }), cluster('c2', 1, vec(0, 1), '2026-01-02')]);
        await appearances.replaceVideoFaces('v1', { ...noFaces, tracks: [track('t1', 'v1', { clusterId: 'c1' })], faces: [face('f1', 'v1', 't1')] });
        await appearances.replaceVideoFaces('v2', {
          ...noFaces,
          tracks: [track('t2', 'v2', { clusterId: 'c1' }), track('t3', 'v2', { clusterId: 'c2', embedding: vec(0, 1) })],
          faces: [face('f2', 'v2', 't2'), face('f3', 'v2', 't3')],
          spans: [span('s1', 'v2', 'a', 0)],
        });
        await appearances.replaceSpans('v2', 'VOICE', [span('s2', 'v2', 'a', 1, 'VOICE')]);
        expect([...(await appearances.deleteVideo('v2'))].sort()).toEqual(['f2', 'f3']);
        expect(await appearances.getCluster('c2')).toBeNull();
        const c1 = await appearances.getCluster('c1');
        expect(c1).toMatchObject({ size: 1, bestFaceId: null, bestFaceQuality: 0 });
        expect(Array.from(c1!.vectorSum)).toEqual([1, 0]);
        expect(c1!.updatedAt > '2026-01-01').toBe(true);
        expect((await appearances.getTracksOfCluster('c1')).map((t) => t.id)).toEqual(['t1']);
        expect(await appearances.getTracksOfVideo('v2')).toEqual([]);
        expect(await appearances.getSpansOfVideo('v2')).toEqual([]);
        expect(ids(await appearances.getFaces(['f1', 'f2']))).toEqual(['f1', null]);
        expect(await appearances.deleteVideo('v2')).toEqual([]);
        // A deleted video can be indexed again.
        await appearances.replaceVideoFaces('v2', { ...noFaces, tracks: [track('t9', 'v2')] });
        expect((await appearances.getTracksOfVideo('v2')).map((t) => t.id)).toEqual(['t9']);
      });
    });
  });
}
