// Voice clusters indexed by an older version, as points of the vector index (collection
// 'voice_clusters', the record in the payload), move to their repository when the store opens:
// an embedded file at the schema before the voice-cluster table, written the old way, and the
// move itself on the in-memory fakes (the path a Qdrant or Elasticsearch setup takes).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/store/embedded/db.js';
import { MIGRATIONS, migrate } from '../../src/store/embedded/migrations.js';
import { EmbeddedVectorIndex } from '../../src/store/embedded/vector-index.js';
import { VOICE_CLUSTERS_MIGRATION_SQL } from '../../src/store/embedded/voice-clusters.js';
import type { VectorPayload, VectorPoint } from '../../src/store/interfaces.js';
import { LEGACY_VOICE_CLUSTERS_COLLECTION, moveLegacyVoiceClusters } from '../../src/store/legacy-voice-clusters.js';
import { openStore } from '../../src/store/open.js';
import { FakeVectorIndex } from '../helpers/fake-store.js';
import { FakeVoiceClusterRepository } from '../helpers/fake-voice-clusters.js';
import { voiceCluster, voiceTurn, withVector } from './conformance-voice-clusters.js';

const MODEL = 'gmm-ubm64-old';
const turns = [voiceTurn('v1:turn:0', 0, 'bob', true), voiceTurn('v1:turn:1', 3)];

/** A cluster point exactly as the voices stage of the older version wrote it. */
function legacyPoint(id: string, videoId: string, vector: number[], named: { actorId: string; origin: string } | null, pointTurns: unknown[] = turns): VectorPoint {
  const payload: VectorPayload = {
    videoId,
    ...(named ? { actorId: named.actorId } : {}),
    named: named !== null,
    origin: named?.origin ?? null,
    linkedTrackId: named ? `${videoId}:track:2` : null,
    linkedShare: named ? 0.75 : 0,
    linkedFaceId: named ? `${videoId}:face:7` : null,
    turns: JSON.stringify(pointTurns),
    speechSec: 5.5,
    modelId: MODEL,
    createdAt: '2026-11-01T10:00:00.000Z',
    updatedAt: '2026-11-02T10:00:00.000Z',
  };
  return { id, vector: Float32Array.from(vector), payload };
}

const LEGACY_POINTS = [legacyPoint('v1:voice-cluster:0', 'v1', [0.6, 0.8, 0], { actorId: 'bob', origin: 'VOICE' }), legacyPoint('v1:voice-cluster:1', 'v1', [0, 0, 1], null, []), legacyPoint('v2:voice-cluster:0', 'v2', [1, 0, 0], null, [voiceTurn('v2:turn:0', 1)])];

const expectedBob = voiceCluster('v1:voice-cluster:0', 'v1', '2026-11-01T10:00:00.000Z', {
  actorId: 'bob',
  origin: 'VOICE',
  linkedTrackId: 'v1:track:2',
  linkedShare: 0.75,
  linkedFaceId: 'v1:face:7',
  turns,
  speechSec: 5.5,
  modelId: MODEL,
  updatedAt: '2026-11-02T10:00:00.000Z',
});

describe('voice clusters of an older version', () => {
  let dir: string | null = null;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = null;
  });

  it('an embedded file written the old way opens with its clusters in the new table, the points gone, nothing lost', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-legacy-voices-'));
    const db = openDatabase(dir);
    const before = MIGRATIONS.indexOf(VOICE_CLUSTERS_MIGRATION_SQL);
    expect(before).toBeGreaterThan(0);
    migrate(db, MIGRATIONS.slice(0, before));
    const oldVectors = new EmbeddedVectorIndex(db);
    await oldVectors.ensureCollection({ name: LEGACY_VOICE_CLUSTERS_COLLECTION, dim: 3, metric: 'cosine', modelId: MODEL });
    await oldVectors.upsert(LEGACY_VOICE_CLUSTERS_COLLECTION, LEGACY_POINTS);
    db.close();

    const config = loadConfig({ VIDSEARCH_DATA_DIR: dir }, dir);
    const store = await openStore(config);
    try {
      expect(store.schemaVersion).toBe(MIGRATIONS.length);
      expect(await store.vectors.count(LEGACY_VOICE_CLUSTERS_COLLECTION)).toBe(0);
      expect(await store.voiceClusters.listOfVideo('v1')).toEqual([expectedBob, voiceCluster('v1:voice-cluster:1', 'v1', '2026-11-01T10:00:00.000Z', { turns: [], speechSec: 5.5, modelId: MODEL, updatedAt: '2026-11-02T10:00:00.000Z' })]);
      expect([...(await store.voiceClusters.getVector('v1:voice-cluster:0'))!]).toEqual([...Float32Array.from([0.6, 0.8, 0])]);
      expect((await store.voiceClusters.listOfActor('bob')).map((c) => c.id)).toEqual(['v1:voice-cluster:0']);
      const unnamed = await store.voiceClusters.list({ named: false }, { first: 10, after: null });
      expect(unnamed.items.map((c) => c.id)).toEqual(['v2:voice-cluster:0', 'v1:voice-cluster:1']);
    } finally {
      await store.close();
    }
    // Opening again moves nothing twice and loses nothing.
    const again = await openStore(config);
    try {
      expect((await again.voiceClusters.list({}, { first: 10, after: null })).totalCount).toBe(3);
    } finally {
      await again.close();
    }
  });

  it('moves points video by video on any backend; a video whose clusters the repository already holds keeps them, its stale points go', async () => {
    const vectors = new FakeVectorIndex();
    await vectors.upsert(LEGACY_VOICE_CLUSTERS_COLLECTION, LEGACY_POINTS);
    const clusters = new FakeVoiceClusterRepository();
    const reindexed = withVector(voiceCluster('v2:voice-cluster:0', 'v2', '2026-12-01T00:00:00.000Z', { actorId: 'ann', origin: 'EDITOR' }), 0, 1, 0);
    await clusters.replaceVideo('v2', [reindexed]);

    expect(await moveLegacyVoiceClusters(vectors, clusters)).toBe(2);
    expect(await vectors.count(LEGACY_VOICE_CLUSTERS_COLLECTION)).toBe(0);
    expect(await clusters.get('v1:voice-cluster:0')).toEqual(expectedBob);
    expect(await clusters.listOfVideo('v2')).toEqual([reindexed.record]);
    expect(await moveLegacyVoiceClusters(vectors, clusters)).toBe(0);
  });
});
