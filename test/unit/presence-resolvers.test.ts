// GraphQL layer of presence: onlyWatch/actorTimeline/appearances for every role, face-cluster
// operations for editors only, error codes, and signed face URLs — on the real services over an
// in-memory SQLite appearance store.
import type { ApolloServer } from '@apollo/server';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../src/config.js';
import type { VideoRecord } from '../../src/domain.js';
import { createApolloServer } from '../../src/http/graphql.js';
import { MediaUrlSigner } from '../../src/http/media-urls.js';
import { createRequestContext, type RequestContext } from '../../src/resolvers/context.js';
import { buildVidsearchSchema } from '../../src/resolvers/schema.js';
import { createFaceClusterService } from '../../src/services/face-clusters.js';
import type { Services } from '../../src/services/index.js';
import { createPresenceService } from '../../src/services/presence.js';
import type { FaceTrackRecord } from '../../src/store/appearances.js';
import { ACTORS_MIGRATION_SQL, EmbeddedActorRepository } from '../../src/store/embedded/actors.js';
import { APPEARANCES_MIGRATION_SQL, EmbeddedAppearanceRepository } from '../../src/store/embedded/appearances.js';
import type { VectorIndex } from '../../src/store/interfaces.js';

const signer = new MediaUrlSigner(Buffer.from('presence-test-secret-0123456789'));
const keys = parseApiKeys('s:search,e:editor');
let server: ApolloServer<RequestContext>;
let services: Services;

const now = '2026-01-01T00:00:00.000Z';
const video = { id: 'v1', durationSec: 30, title: 'Ep 1' } as VideoRecord;

function track(id: string, start: number, end: number, patch: Partial<FaceTrackRecord>): FaceTrackRecord {
  return { id, videoId: 'v1', shotIndex: 0, start, end, faceCount: 1, actorId: null, clusterId: null, similarity: null, confidence: 0, bestFaceId: `${id}-f`, embedding: Float32Array.of(1), modelId: 'm', ...patch };
}

beforeAll(async () => {
  const db = new Database(':memory:');
  db.exec(ACTORS_MIGRATION_SQL);
  db.exec(APPEARANCES_MIGRATION_SQL);
  const appearances = new EmbeddedAppearanceRepository(db);
  const actors = new EmbeddedActorRepository(db);
  await actors.createActor({ id: 'alice', name: 'Alice', aliases: [], createdAt: now, updatedAt: now }, []);
  await appearances.putClusters([{ id: 'c1', actorId: null, size: 1, vectorSum: Float32Array.of(1), modelId: 'm', bestFaceId: 't2-f', bestFaceQuality: 0.8, createdAt: now, updatedAt: now }]);
  const tracks = [track('t1', 2, 6, { actorId: 'alice', confidence: 0.9 }), track('t2', 10, 14, { clusterId: 'c1' })];
  await appearances.replaceVideoFaces('v1', {
    tracks,
    faces: tracks.map((t) => ({ id: t.bestFaceId, videoId: 'v1', trackId: t.id, time: t.start + 1, box: { x: 1, y: 2, width: 30, height: 30 }, detectionScore: 0.9, quality: 0.8, thumbnail: Buffer.from([0xff, 0xd8]) })),
    spans: [{ id: 'sp1', videoId: 'v1', actorId: 'alice', start: 2, end: 6, confidence: 0.9, evidence: 'FACE', sourceIds: ['t1'], bestFaceId: 't1-f' }],
    clusters: [],
  });
  await appearances.replaceSpans('v1', 'VOICE', [{ id: 'sp2', videoId: 'v1', actorId: 'alice', start: 5, end: 8, confidence: 0.7, evidence: 'VOICE', sourceIds: [], bestFaceId: null }]);
  const catalog = { getVideo: async (id: string) => (id === 'v1' ? video : null) };
  const vectors = { get: async (_c: string, ids: readonly string[]) => ids.map(() => null) } as unknown as VectorIndex;
  services = {
    presence: createPresenceService({ catalog, appearances, actors }),
    faceClusters: createFaceClusterService({ appearances, actors, vectors, currentFaceModelId: async () => 'm' }),
    actors: { getActors: (ids: readonly string[]) => actors.getActors(ids) },
    videos: { getMany: async (ids: readonly string[]) => ids.map((id) => (id === 'v1' ? video : null)) },
  } as unknown as Services;
  server = createApolloServer({ schema: await buildVidsearchSchema(), log: pino({ level: 'silent' }) });
  await server.start();
});

afterAll(async () => {
  await server.stop();
});

async function gql(query: string, key: string, variables?: Record<string, unknown>) {
  const contextValue = createRequestContext({ services, apiKeys: keys, mediaUrls: signer }, `Bearer ${key}`);
  const response = await server.executeOperation({ query, variables }, { contextValue });
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  const { data, errors } = response.body.singleResult;
  return { data: data as Record<string, any> | null | undefined, codes: (errors ?? []).map((e) => e.extensions?.code) };
}

describe('presence GraphQL', () => {
  it('answers onlyWatch with fused evidence, playlist and a signed face URL', async () => {
    const { data, codes } = await gql(
      `{ onlyWatch(videoId: "v1", actorIds: ["alice"]) { spans { start end actors confidence evidence cast { name } thumbnailUrl } totalSec share playlist } }`,
      's',
    );
    expect(codes).toEqual([]);
    expect(data!.onlyWatch).toMatchObject({ totalSec: 6, share: 0.2, playlist: [[2, 8]] });
    const [span] = data!.onlyWatch.spans;
    expect(span).toMatchObject({ actors: ['alice'], evidence: 'BOTH', confidence: 0.9, cast: [{ name: 'Alice' }] });
    expect(span.thumbnailUrl).toMatch(/^\/media\/face\/t1-f\.jpg\?/);
    const url = new URL(span.thumbnailUrl, 'http://x');
    expect(signer.verify(url.pathname, Object.fromEntries(url.searchParams))).toBe('ok');
  });

  it('gives timelines and appearances to every role', async () => {
    const timeline = await gql(`{ actorTimeline(videoId: "v1") { actor { id } totalSec } }`, 's');
    expect(timeline.data!.actorTimeline).toEqual([{ actor: { id: 'alice' }, totalSec: 6 }]);
    const page = await gql(`{ appearances(actorId: "alice", first: 1) { totalCount edges { node { evidence video { id } } } pageInfo { hasNextPage } } }`, 's');
    expect(page.data!.appearances).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: true }, edges: [{ node: { evidence: 'FACE', video: { id: 'v1' } } }] });
  });

  it('maps bad input to error codes', async () => {
    expect((await gql(`{ onlyWatch(videoId: "nope", actorIds: ["alice"]) { totalSec } }`, 's')).codes).toEqual(['NOT_FOUND']);
    expect((await gql(`{ onlyWatch(videoId: "v1", actorIds: []) { totalSec } }`, 's')).codes).toEqual(['BAD_USER_INPUT']);
    expect((await gql(`{ onlyWatch(videoId: "v1", actorIds: ["alice"], padSec: -2) { totalSec } }`, 's')).codes).toEqual(['BAD_USER_INPUT']);
  });

  it('keeps face clusters and their mutations for editors', async () => {
    expect((await gql(`{ faceClusters { totalCount } }`, 's')).codes).toEqual(['FORBIDDEN']);
    expect((await gql(`mutation { mergeActors(sourceId: "a", targetId: "b") { id } }`, 's')).codes).toEqual(['FORBIDDEN']);
    const list = await gql(`{ faceClusters { totalCount edges { node { id size thumbnailUrl sampleFaces { id time video { id } thumbnailUrl } } } } }`, 'e');
    expect(list.codes).toEqual([]);
    expect(list.data!.faceClusters.edges[0].node).toMatchObject({ id: 'c1', size: 1, sampleFaces: [{ id: 't2-f', time: 11, video: { id: 'v1' } }] });
    const named = await gql(`mutation { nameFaceCluster(clusterId: "c1", newActorName: "Bob") { tracksNamed actor { id name } cluster { id } } }`, 'e');
    expect(named.data!.nameFaceCluster).toMatchObject({ tracksNamed: 1, actor: { name: 'Bob' } });
    const bob = named.data!.nameFaceCluster.actor.id as string;
    const watch = await gql(`query($a: [ID!]!) { onlyWatch(videoId: "v1", actorIds: $a, mode: ALL) { playlist } }`, 's', { a: ['alice', bob] });
    expect(watch.data!.onlyWatch.playlist).toEqual([]);
    const either = await gql(`query($a: [ID!]!) { onlyWatch(videoId: "v1", actorIds: $a) { playlist } }`, 's', { a: ['alice', bob] });
    expect(either.data!.onlyWatch.playlist).toEqual([[2, 8], [10, 14]]);
    expect((await gql(`mutation { nameFaceCluster(clusterId: "c1") { tracksNamed } }`, 'e')).codes).toEqual(['BAD_USER_INPUT']);
  });
});
