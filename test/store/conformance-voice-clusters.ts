// The VoiceClusterRepository contract (src/store/voice-clusters.ts), run against every backend:
// embedded SQLite (the reference), the in-memory fake, and Elasticsearch when a cluster is
// reachable (test/store/elastic-voice-clusters.test.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VoiceClusterRecord, VoiceClusterRepository, VoiceClusterWithVector, VoiceTurnRecord } from '../../src/store/voice-clusters.js';

export interface VoiceClusterBackend {
  clusters: VoiceClusterRepository;
  dispose(): Promise<void>;
}

export function voiceTurn(id: string, start: number, actorId: string | null = null, ownMatch = false): VoiceTurnRecord {
  return { id, start, end: start + 2.5, actorId, confidence: actorId ? 0.75 : 0, ownMatch };
}

export function voiceCluster(id: string, videoId: string, createdAt: string, patch: Partial<VoiceClusterRecord> = {}): VoiceClusterRecord {
  return {
    id,
    videoId,
    actorId: null,
    origin: null,
    linkedTrackId: null,
    linkedShare: 0,
    linkedFaceId: null,
    turns: [voiceTurn(`${id}-t0`, 0)],
    speechSec: 2.5,
    modelId: 'gmm-test',
    createdAt,
    updatedAt: createdAt,
    ...patch,
  };
}

export const withVector = (record: VoiceClusterRecord, ...values: number[]): VoiceClusterWithVector => ({ record, vector: Float32Array.from(values.length ? values : [0.6, 0.8, 0]) });

const JAN = '2026-01-01T00:00:00.000Z';
const FEB = '2026-02-01T00:00:00.000Z';
const MAR = '2026-03-01T00:00:00.000Z';
const ids = (records: readonly VoiceClusterRecord[]): string[] => records.map((r) => r.id);

export function describeVoiceClusterConformance(name: string, open: () => Promise<VoiceClusterBackend>): void {
  describe(`voice-cluster conformance: ${name}`, () => {
    let backend: VoiceClusterBackend;
    let clusters: VoiceClusterRepository;
    beforeEach(async () => {
      backend = await open();
      clusters = backend.clusters;
    });
    afterEach(async () => {
      await backend.dispose();
    });

    it('stores a video’s clusters whole and reads them back by id, by video (id order) and their embeddings', async () => {
      const named = voiceCluster('v1:c1', 'v1', JAN, {
        actorId: 'bob',
        origin: 'FACE',
        linkedTrackId: 'v1:track:3',
        linkedShare: 0.85,
        linkedFaceId: 'v1:face:9',
        turns: [voiceTurn('t0', 0, 'bob'), voiceTurn('t1', 3, 'ann', true), voiceTurn('t2', 7)],
        speechSec: 7.5,
      });
      await clusters.replaceVideo('v1', [withVector(voiceCluster('v1:c2', 'v1', JAN), 0, 1, 0), withVector(named, 0.25, -0.5, 1)]);
      expect(await clusters.get('v1:c1')).toEqual(named);
      expect(await clusters.get('nope')).toBeNull();
      expect(ids(await clusters.listOfVideo('v1'))).toEqual(['v1:c1', 'v1:c2']);
      expect(await clusters.listOfVideo('v2')).toEqual([]);
      expect([...(await clusters.getVector('v1:c1'))!]).toEqual([0.25, -0.5, 1]);
      expect(await clusters.getVector('nope')).toBeNull();
    });

    it('replacing a video’s clusters drops the ones not given again and leaves other videos alone; none empties it', async () => {
      await clusters.replaceVideo('v1', [withVector(voiceCluster('v1:c0', 'v1', JAN)), withVector(voiceCluster('v1:c1', 'v1', JAN))]);
      await clusters.replaceVideo('v2', [withVector(voiceCluster('v2:c0', 'v2', JAN))]);
      await clusters.replaceVideo('v1', [withVector(voiceCluster('v1:c0', 'v1', FEB, { speechSec: 9 }), 1, 0, 0)]);
      expect(await clusters.listOfVideo('v1')).toEqual([voiceCluster('v1:c0', 'v1', FEB, { speechSec: 9 })]);
      expect([...(await clusters.getVector('v1:c0'))!]).toEqual([1, 0, 0]);
      expect(await clusters.get('v1:c1')).toBeNull();
      expect(ids(await clusters.listOfVideo('v2'))).toEqual(['v2:c0']);
      await clusters.replaceVideo('v1', []);
      expect(await clusters.listOfVideo('v1')).toEqual([]);
      await expect(clusters.replaceVideo('v1', [withVector(voiceCluster('v2:c9', 'v2', JAN))])).rejects.toThrow(/another video/);
    });

    it('lists newest first (then id, descending) page by page, all, named or unnamed, with totals', async () => {
      await clusters.replaceVideo('v1', [withVector(voiceCluster('a', 'v1', JAN)), withVector(voiceCluster('b', 'v1', JAN, { actorId: 'bob', origin: 'VOICE' }))]);
      await clusters.replaceVideo('v2', [withVector(voiceCluster('c', 'v2', FEB)), withVector(voiceCluster('d', 'v2', MAR))]);
      const first = await clusters.list({}, { first: 2, after: null });
      expect([ids(first.items), first.hasNextPage, first.totalCount]).toEqual([['d', 'c'], true, 4]);
      const second = await clusters.list({}, { first: 2, after: first.endCursor });
      expect([ids(second.items), second.hasNextPage, second.totalCount]).toEqual([['b', 'a'], false, 4]);
      const unnamed = await clusters.list({ named: false }, { first: 10, after: null });
      expect([ids(unnamed.items), unnamed.totalCount]).toEqual([['d', 'c', 'a'], 3]);
      const named = await clusters.list({ named: true }, { first: 10, after: null });
      expect([ids(named.items), named.totalCount]).toEqual([['b'], 1]);
      expect(named.items[0]).toEqual(voiceCluster('b', 'v1', JAN, { actorId: 'bob', origin: 'VOICE' }));
      expect(ids((await clusters.list({ named: null }, { first: 0, after: null })).items)).toEqual([]);
    });

    it('finds an actor’s clusters by the cluster’s actor or any turn’s, and updates actor, origin and turns in place', async () => {
      await clusters.replaceVideo('v1', [
        withVector(voiceCluster('a', 'v1', JAN, { actorId: 'bob', origin: 'VOICE', turns: [voiceTurn('t0', 0, 'bob')] })),
        withVector(voiceCluster('b', 'v1', JAN, { turns: [voiceTurn('t1', 0), voiceTurn('t2', 4, 'bob', true)] })),
        withVector(voiceCluster('c', 'v1', JAN, { actorId: 'ann', origin: 'FACE', turns: [voiceTurn('t3', 0, 'ann')] })),
      ]);
      expect(ids(await clusters.listOfActor('bob'))).toEqual(['a', 'b']);
      expect(await clusters.listOfActor('nobody')).toEqual([]);

      const [a, b] = await clusters.listOfActor('bob');
      const renamedA = { ...a!, actorId: 'rob', origin: 'EDITOR' as const, turns: [voiceTurn('t0', 0, 'rob')], updatedAt: MAR };
      const renamedB = { ...b!, turns: [voiceTurn('t1', 0), voiceTurn('t2', 4, 'rob', true)], updatedAt: MAR };
      // A cluster that is gone (its video re-indexed meanwhile) is not written back.
      await clusters.update([renamedA, renamedB, voiceCluster('gone', 'v1', JAN, { actorId: 'rob' })]);
      expect(await clusters.listOfActor('bob')).toEqual([]);
      expect(await clusters.listOfActor('rob')).toEqual([renamedA, renamedB]);
      expect(await clusters.get('gone')).toBeNull();
      expect([...(await clusters.getVector('a'))!]).toEqual([...withVector(renamedA).vector]);
      expect(ids((await clusters.list({ named: true }, { first: 10, after: null })).items)).toEqual(['c', 'a']);
      await clusters.update([]);
    });

    it('purges only clusters nobody is known in, last updated before the cut-off', async () => {
      await clusters.replaceVideo('v1', [
        withVector(voiceCluster('old-stranger', 'v1', JAN)),
        withVector(voiceCluster('old-turn-known', 'v1', JAN, { turns: [voiceTurn('t0', 0), voiceTurn('t1', 3, 'bob', true)] })),
        withVector(voiceCluster('old-named', 'v1', JAN, { actorId: 'ann', origin: 'FACE', turns: [voiceTurn('t2', 0, 'ann')] })),
        withVector(voiceCluster('new-stranger', 'v1', MAR)),
      ]);
      expect(await clusters.purgeUnknown(FEB)).toBe(1);
      expect(ids(await clusters.listOfVideo('v1'))).toEqual(['new-stranger', 'old-named', 'old-turn-known']);
      expect(await clusters.purgeUnknown(FEB)).toBe(0);
    });

    it('deletes a video’s clusters with the video, and only them', async () => {
      await clusters.replaceVideo('v1', [withVector(voiceCluster('v1:c0', 'v1', JAN, { actorId: 'bob', turns: [voiceTurn('t0', 0, 'bob')] }))]);
      await clusters.replaceVideo('v2', [withVector(voiceCluster('v2:c0', 'v2', JAN))]);
      await clusters.deleteVideo('v1');
      await clusters.deleteVideo('never-indexed');
      expect(await clusters.get('v1:c0')).toBeNull();
      expect(await clusters.getVector('v1:c0')).toBeNull();
      expect(await clusters.listOfActor('bob')).toEqual([]);
      expect(ids((await clusters.list({}, { first: 10, after: null })).items)).toEqual(['v2:c0']);
    });
  });
}
