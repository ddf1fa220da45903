import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AppearanceSpanRecord, FaceClusterRecord } from '../../src/store/appearances.js';
import { APPEARANCES_MIGRATION_SQL, EmbeddedAppearanceRepository } from '../../src/store/embedded/appearances.js';
import { track } from '../store/conformance-presence.js';

const vec = (...values: number[]) => Float32Array.from(values);

function cluster(id: string, size: number, sum: Float32Array, createdAt: string): FaceClusterRecord {
  return { id, actorId: null, size, vectorSum: sum, modelId: 'm', bestFaceId: null, bestFaceQuality: 0, createdAt, updatedAt: createdAt };
}

function span(id: string, videoId: string, actorId: string, start: number, evidence: 'FACE' | 'VOICE' = 'FACE', confidence = 0.8): AppearanceSpanRecord {
  return { id, videoId, actorId, start, end: start + 1, confidence, evidence, sourceIds: [id], bestFaceId: null };
}

describe('EmbeddedAppearanceRepository', () => {
  let repo: EmbeddedAppearanceRepository;
  beforeEach(() => {
    const db = new Database(':memory:');
    db.exec(APPEARANCES_MIGRATION_SQL);
    repo = new EmbeddedAppearanceRepository(db);
  });

  it('replaces a video atomically and keeps other evidence', async () => {
    await repo.replaceSpans('v1', 'VOICE', [span('voice1', 'v1', 'a', 9, 'VOICE')]);
    const face = { id: 't1-f0', videoId: 'v1', trackId: 't1', time: 1, box: { x: 1, y: 2, width: 3, height: 4 }, detectionScore: 0.9, quality: 0.7, thumbnail: Buffer.from([1, 2]) };
    await repo.replaceVideoFaces('v1', {
      tracks: [track('t1', 'v1', { actorId: 'a', confidence: 0.9, embedding: vec(0.6, 0.8) })],
      faces: [face],
      spans: [span('s1', 'v1', 'a', 0)],
      clusters: [],
    });
    const [stored] = await repo.getTracksOfVideo('v1');
    expect(Array.from(stored!.embedding)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(await repo.getFaces(['t1-f0', 'nope'])).toEqual([face, null]);
    expect((await repo.getSpans('v1', ['a'], 0)).map((s) => s.id)).toEqual(['s1', 'voice1']);
    await repo.replaceVideoFaces('v1', { tracks: [], faces: [], spans: [], clusters: [] });
    expect(await repo.getTracksOfVideo('v1')).toEqual([]);
    expect((await repo.getSpansOfVideo('v1')).map((s) => s.evidence)).toEqual(['VOICE']);
  });

  it('filters spans by actor and confidence and pages an actor across videos', async () => {
    await repo.replaceSpans('v1', 'FACE', [span('x1', 'v1', 'a', 5), span('x2', 'v1', 'a', 1, 'FACE', 0.4), span('x3', 'v1', 'b', 0)]);
    await repo.replaceSpans('v2', 'FACE', [span('y1', 'v2', 'a', 3)]);
    expect((await repo.getSpans('v1', ['a'], 0.5)).map((s) => s.id)).toEqual(['x1']);
    const first = await repo.listSpansOfActor('a', { first: 2 });
    expect(first.items.map((s) => s.id)).toEqual(['x2', 'x1']);
    expect(first.hasNextPage).toBe(true);
    const second = await repo.listSpansOfActor('a', { first: 2, after: first.endCursor });
    expect(second.items.map((s) => s.id)).toEqual(['y1']);
    expect(second.totalCount).toBe(3);
  });

  it('lists clusters newest first and takes deleted videos out of their clusters', async () => {
    await repo.putClusters([cluster('c1', 2, vec(2, 0), '2026-01-01'), cluster('c2', 1, vec(0, 1), '2026-01-02')]);
    await repo.replaceVideoFaces('v1', { tracks: [track('t1', 'v1', { clusterId: 'c1' })], faces: [], spans: [], clusters: [] });
    await repo.replaceVideoFaces('v2', { tracks: [track('t2', 'v2', { clusterId: 'c1' }), track('t3', 'v2', { clusterId: 'c2', embedding: vec(0, 1) })], faces: [], spans: [], clusters: [] });
    const page = await repo.listClusters({ named: false }, { first: 1 });
    expect(page.items.map((c) => c.id)).toEqual(['c2']);
    expect((await repo.listClusters({}, { first: 5, after: page.endCursor })).items.map((c) => c.id)).toEqual(['c1']);
    await repo.deleteVideo('v2');
    expect(await repo.getCluster('c2')).toBeNull();
    const c1 = await repo.getCluster('c1');
    expect(c1!.size).toBe(1);
    expect(Array.from(c1!.vectorSum)).toEqual([1, 0]);
    expect((await repo.getTracksOfCluster('c1')).map((t) => t.id)).toEqual(['t1']);
  });

  it('forgets an actor and purges old strangers with their faces', async () => {
    await repo.putClusters([cluster('old', 2, vec(2, 0), '2020-01-01'), cluster('new', 1, vec(1, 0), '2022-01-01')]);
    const face = (id: string, trackId: string) => ({ id, videoId: 'v1', trackId, time: 0, box: { x: 0, y: 0, width: 9, height: 9 }, detectionScore: 1, quality: 1, thumbnail: null });
    await repo.replaceVideoFaces('v1', {
      tracks: [track('t1', 'v1', { actorId: 'a', clusterId: 'old' }), track('t2', 'v1', { clusterId: 'old' }), track('t3', 'v1', { clusterId: 'new' })],
      faces: [face('f1', 't1'), face('f2', 't2'), face('f3', 't3')],
      spans: [span('s', 'v1', 'a', 0)],
      clusters: [],
    });
    await repo.forgetActor('a');
    expect((await repo.getTracksOfVideo('v1'))[0]!.actorId).toBeNull();
    expect(await repo.getSpansOfVideo('v1')).toEqual([]);
    await repo.assignTracks(['t1'], 'b', 1);
    expect(await repo.purgeUnknownFaces('2021-01-01')).toEqual({ clusterIds: ['old'], faceIds: ['f2'] });
    const left = await repo.getTracksOfVideo('v1');
    expect(left.map((t) => [t.id, t.clusterId])).toEqual([['t1', null], ['t3', 'new']]);
    expect((await repo.getFaces(['f1', 'f2', 'f3'])).map((f) => f?.id ?? null)).toEqual(['f1', null, 'f3']);
  });
});
