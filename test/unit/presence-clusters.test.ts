import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import type { VideoRecord } from '../../src/domain.js';
import { createFaceClusterService, type FaceClusterService } from '../../src/services/face-clusters.js';
import { createPresenceService, type PresenceService } from '../../src/services/presence.js';
import { ACTOR_FACES_COLLECTION } from '../../src/store/actors.js';
import { FACES_COLLECTION, type FaceRecord, type FaceTrackRecord } from '../../src/store/appearances.js';
import { ACTORS_MIGRATION_SQL, EmbeddedActorRepository } from '../../src/store/embedded/actors.js';
import { APPEARANCES_MIGRATION_SQL, EmbeddedAppearanceRepository } from '../../src/store/embedded/appearances.js';
import type { VectorIndex, VectorPoint } from '../../src/store/interfaces.js';

/** Just enough of a vector index: points per collection, exact get. */
function memoryVectors(): VectorIndex & { points: Map<string, Map<string, VectorPoint>> } {
  const points = new Map<string, Map<string, VectorPoint>>();
  const of = (c: string) => points.get(c) ?? points.set(c, new Map()).get(c)!;
  return {
    points,
    ensureCollection: async () => 'ok',
    upsert: async (c, list) => list.forEach((p) => of(c).set(p.id, p)),
    search: async () => [],
    get: async (c, ids) => ids.map((id) => of(c).get(id) ?? null),
    delete: async (c, ids) => ids.forEach((id) => of(c).delete(id)),
    deleteByVideo: async () => undefined,
    count: async (c) => of(c).size,
    scroll: async (c, _filter, limit) => [...of(c).values()].slice(0, limit).map(({ id, payload }) => ({ id, payload })),
  };
}

const track = (id: string, videoId: string, start: number, end: number, patch: Partial<FaceTrackRecord> = {}): FaceTrackRecord => ({
  id,
  videoId,
  shotIndex: 0,
  start,
  end,
  faceCount: 2,
  actorId: null,
  clusterId: null,
  similarity: null,
  confidence: 0,
  bestFaceId: `${id}-f0`,
  embedding: Float32Array.of(1, 0),
  modelId: 'm1',
  ...patch,
});

const facesOf = (t: FaceTrackRecord): FaceRecord[] =>
  [0, 1].map((k) => ({ id: `${t.id}-f${k}`, videoId: t.videoId, trackId: t.id, time: t.start + k, box: { x: 0, y: 0, width: 50, height: 50 }, detectionScore: 0.9, quality: 0.9 - k * 0.5, thumbnail: Buffer.from([0xff, 0xd8, k]) }));

describe('face clusters service', () => {
  let clusters: FaceClusterService;
  let presence: PresenceService;
  let repo: EmbeddedAppearanceRepository;
  let actors: EmbeddedActorRepository;
  let vectors: ReturnType<typeof memoryVectors>;
  const now = '2026-01-01T00:00:00.000Z';

  beforeEach(async () => {
    const db = new Database(':memory:');
    db.exec(ACTORS_MIGRATION_SQL);
    db.exec(APPEARANCES_MIGRATION_SQL);
    repo = new EmbeddedAppearanceRepository(db);
    actors = new EmbeddedActorRepository(db);
    vectors = memoryVectors();
    await actors.createActor({ id: 'alice', name: 'Alice', aliases: [], createdAt: now, updatedAt: now }, []);
    const seed = async (videoId: string, tracks: FaceTrackRecord[]) => {
      const faces = tracks.flatMap(facesOf);
      await repo.replaceVideoFaces(videoId, { tracks, faces, spans: [], clusters: [] });
      await vectors.upsert(FACES_COLLECTION, faces.map((f) => ({ id: f.id, vector: Float32Array.of(1, 0), payload: { videoId, trackId: f.trackId } })));
    };
    await repo.putClusters([{ id: 'c1', actorId: null, size: 2, vectorSum: Float32Array.of(2, 0), modelId: 'm1', bestFaceId: 't1-f0', bestFaceQuality: 0.9, createdAt: now, updatedAt: now }]);
    await seed('v1', [track('t1', 'v1', 0, 4, { clusterId: 'c1' }), track('t2', 'v1', 10, 12, { actorId: 'alice', confidence: 0.8 })]);
    await seed('v2', [track('t3', 'v2', 2, 5, { clusterId: 'c1' })]);
    const videos: Record<string, VideoRecord> = { v1: { id: 'v1', durationSec: 20 } as VideoRecord, v2: { id: 'v2', durationSec: 10 } as VideoRecord };
    const catalog = { getVideo: async (id: string) => videos[id] ?? null };
    clusters = createFaceClusterService({ appearances: repo, actors, vectors, currentFaceModelId: async () => 'm1' });
    presence = createPresenceService({ catalog, appearances: repo, actors });
  });

  it('lists unnamed clusters with their best faces', async () => {
    const page = await clusters.faceClusters(10);
    expect(page.edges.map((e) => [e.node.id, e.node.size])).toEqual([['c1', 2]]);
    expect((await clusters.sampleFaces('c1', 5)).map((f) => f.id)).toEqual(['t1-f0', 't3-f0']);
  });

  it('naming a cluster makes its tracks appearances at once and adds templates', async () => {
    const result = await clusters.nameFaceCluster('c1', { newActorName: '  Bob ' });
    expect(result).toMatchObject({ tracksNamed: 2, templatesAdded: 4, videosUpdated: 2 });
    expect(result.actor.name).toBe('Bob');
    const bob = result.actor.id;
    expect((await presence.onlyWatch({ videoId: 'v1', actorIds: [bob] })).playlist).toEqual([[0, 4]]);
    expect((await presence.onlyWatch({ videoId: 'v2', actorIds: [bob] })).playlist).toEqual([[2, 5]]);
    // Alice's span in v1 was rebuilt too, and is untouched.
    expect((await presence.onlyWatch({ videoId: 'v1', actorIds: ['alice'] })).playlist).toEqual([[10, 12]]);
    expect(await actors.countFaceTemplates([bob])).toEqual([4]);
    expect([...vectors.points.get(ACTOR_FACES_COLLECTION)!.values()].every((p) => p.payload.actorId === bob)).toBe(true);
    expect((await clusters.faceClusters(10)).totalCount).toBe(0);
    expect((await clusters.faceClusters(10, null, true)).edges[0]!.node.actorId).toBe(bob);
  });

  it('rejects bad naming requests', async () => {
    await expect(clusters.nameFaceCluster('nope', { newActorName: 'X' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(clusters.nameFaceCluster('c1', {})).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(clusters.nameFaceCluster('c1', { actorId: 'alice', newActorName: 'X' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(clusters.nameFaceCluster('c1', { actorId: 'ghost' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('merges actors: appearances, templates and names move to the target', async () => {
    const { actor: bob } = await clusters.nameFaceCluster('c1', { newActorName: 'Bob' });
    const merged = await clusters.mergeActors(bob.id, 'alice');
    expect(merged.aliases).toEqual(['Bob']);
    expect(await actors.getActor(bob.id)).toBeNull();
    expect((await presence.onlyWatch({ videoId: 'v1', actorIds: ['alice'] })).playlist).toEqual([[0, 4], [10, 12]]);
    expect(await actors.countFaceTemplates(['alice'])).toEqual([4]);
    expect([...vectors.points.get(ACTOR_FACES_COLLECTION)!.values()].every((p) => p.payload.actorId === 'alice')).toBe(true);
    await expect(clusters.mergeActors('alice', 'alice')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(clusters.mergeActors('ghost', 'alice')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('purges old strangers with their face vectors', async () => {
    await expect(clusters.purgeUnknownFaces(-1)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(await clusters.purgeUnknownFaces(365_000)).toBe(0);
    expect(await clusters.purgeUnknownFaces(0)).toBe(1);
    expect((await clusters.faceClusters(10)).totalCount).toBe(0);
    expect([...vectors.points.get(FACES_COLLECTION)!.keys()].sort()).toEqual(['t2-f0', 't2-f1']);
  });

  it('moves faces with their whole track', async () => {
    const { actor: bob } = await clusters.nameFaceCluster('c1', { newActorName: 'Bob' });
    const before = (await actors.countFaceTemplates([bob.id]))[0]!;
    const moved = await clusters.moveFaces(['t2-f1'], bob.id);
    // The moved track's faces are learnt: the editor confirmed them as Bob.
    expect(moved).toMatchObject({ tracksMoved: 1, templatesAdded: 2, videosUpdated: 1 });
    expect(await actors.countFaceTemplates([bob.id])).toEqual([before + 2]);
    expect((await presence.onlyWatch({ videoId: 'v1', actorIds: ['alice'] })).spans).toEqual([]);
    expect((await presence.onlyWatch({ videoId: 'v1', actorIds: [bob.id] })).playlist).toEqual([[0, 4], [10, 12]]);
    await expect(clusters.moveFaces(['nope'], bob.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(clusters.moveFaces([], bob.id)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
