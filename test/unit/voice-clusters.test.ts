// Voice clusters on the embedded store: listing, naming (past VOICE spans change at once, the voice
// becomes a template), merging actors, forgetting an actor and purging strangers. Templates are a
// recording fake.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createVoiceClusterService, type VoiceClusterService, type VoiceTemplates } from '../../src/services/voice-clusters.js';
import { createVoiceService } from '../../src/services/voices.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import type { VoiceClusterRecord } from '../../src/store/voice-clusters.js';

const MODEL = 'voice-test-model';
const unit = (...v: number[]) => {
  const n = Math.hypot(...v);
  return new Float32Array(v.map((x) => x / n));
};

let work: string;
let store: Store;
let service: VoiceClusterService;
let learned: { actorId: string; source: string }[];
let moved: [string, string][];

function cluster(id: string, videoId: string, turns: VoiceClusterRecord['turns'], extra: Partial<VoiceClusterRecord> = {}): VoiceClusterRecord {
  const at = extra.updatedAt ?? '2024-01-01T00:00:00.000Z';
  return { id, videoId, actorId: null, origin: null, linkedTrackId: null, linkedShare: 0, linkedFaceId: null, turns, speechSec: 6, modelId: MODEL, createdAt: at, updatedAt: at, ...extra };
}
const turn = (id: string, start: number, end: number, actorId: string | null = null, ownMatch = false) => ({ id, start, end, actorId, confidence: actorId ? 0.9 : 0, ownMatch });

/** The voice service's actor hook; forgetting an actor's voices loads no model and decodes no audio. */
const createVoiceServiceOn = (on: Store) =>
  createVoiceService({ store: on, config: { mediaRoots: [] }, log: createLogger('silent'), models: () => Promise.reject(new Error('no model needed')), decodeAudio: () => Promise.reject(new Error('no audio needed')) });

async function actor(id: string, name = id): Promise<void> {
  const now = new Date().toISOString();
  await store.actors.createActor({ id, name, aliases: [], createdAt: now, updatedAt: now }, []);
}

beforeEach(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'vidsearch-voice-clusters-'));
  store = await openEmbeddedStore(work);
  learned = [];
  moved = [];
  const templates: VoiceTemplates = {
    addTemplateVectors: async (actorId, samples) => {
      learned.push(...samples.map((s) => ({ actorId, source: s.source })));
      return samples.length;
    },
    moveTemplates: async (from, to) => void moved.push([from, to]),
  };
  service = createVoiceClusterService({ clusters: store.voiceClusters, appearances: store.appearances, actors: store.actors, templates, voiceModel: async () => ({ modelId: MODEL }) });
  await actor('bob');
  // v1: an unknown voice (c1) with one turn that matched Bob on its own; a second unknown voice (c2).
  await store.voiceClusters.replaceVideo('v1', [
    { record: cluster('c1', 'v1', [turn('t0', 0, 3), turn('t1', 3.5, 6), turn('t2', 10, 12, 'bob', true)]), vector: unit(1, 0, 0, 0) },
    { record: cluster('c2', 'v1', [turn('t3', 20, 23)], { createdAt: '2024-02-01T00:00:00.000Z', updatedAt: '2024-02-01T00:00:00.000Z' }), vector: unit(0, 1, 0, 0) },
  ]);
});

afterEach(async () => {
  await store.close();
  rmSync(work, { recursive: true, force: true });
});

describe('voice clusters', () => {
  it('lists unnamed clusters newest first, page by page', async () => {
    const first = await service.voiceClusters(1, null);
    expect(first.totalCount).toBe(2);
    expect(first.edges.map((e) => e.node.id)).toEqual(['c2']);
    const second = await service.voiceClusters(1, first.pageInfo.endCursor);
    expect(second.edges.map((e) => e.node.id)).toEqual(['c1']);
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect((await service.voiceClusters(10, null, true)).totalCount).toBe(0);
  });

  it('naming turns the unknown speech into VOICE spans at once and the voice into a template', async () => {
    const result = await service.nameVoiceCluster('c1', { newActorName: '  Alice ' });
    expect(result.actor.name).toBe('Alice');
    expect(result).toMatchObject({ turnsNamed: 2, templateAdded: true, cluster: { actorId: result.actor.id, origin: 'EDITOR' } });
    expect(learned).toEqual([{ actorId: result.actor.id, source: 'voice cluster c1' }]);
    // Ordered by time: the store orders by actor id, and a named actor's is a random UUID.
    const spans = (await store.appearances.getSpansOfVideo('v1')).sort((a, b) => a.start - b.start || a.actorId.localeCompare(b.actorId));
    // Alice 0–6 (pause of 0.5 s bridged); the turn that matched Bob on its own stays Bob's.
    expect(spans.map((s) => [s.actorId === result.actor.id ? 'alice' : s.actorId, s.start, s.end, s.evidence, s.confidence])).toEqual([
      ['alice', 0, 6, 'VOICE', 1],
      ['bob', 10, 12, 'VOICE', 0.9],
    ]);
    expect((await service.voiceClusters(10, null, true)).edges.map((e) => e.node.id)).toEqual(['c1']);
  });

  it('refuses ambiguous or missing names and unknown clusters with typed errors', async () => {
    await expect(service.nameVoiceCluster('c1', {})).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(service.nameVoiceCluster('c1', { actorId: 'bob', newActorName: 'Bob' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(service.nameVoiceCluster('c1', { actorId: 'nobody' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.nameVoiceCluster('nope', { actorId: 'bob' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.voiceClusters(1, 'garbage')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('merging actors moves clusters, turns and voice templates', async () => {
    await actor('robert');
    await service.nameVoiceCluster('c2', { actorId: 'bob' });
    await service.moveActor('bob', 'robert');
    expect(moved).toEqual([['bob', 'robert']]);
    expect((await service.getCluster('c2'))?.actorId).toBe('robert');
    expect((await service.getCluster('c1'))?.turns.find((t) => t.id === 't2')?.actorId).toBe('robert');
    const spans = await store.appearances.getSpansOfVideo('v1');
    expect(new Set(spans.map((s) => s.actorId))).toEqual(new Set(['robert']));
  });

  it('purges only voices nobody is known in, older than the cut-off', async () => {
    // c1 holds a turn identified as Bob: it is not a stranger's voice and stays.
    expect(await service.purgeUnknownVoices('2024-01-15T00:00:00.000Z')).toBe(0);
    expect(await service.purgeUnknownVoices('2024-03-01T00:00:00.000Z')).toBe(1);
    expect(await service.getCluster('c2')).toBeNull();
    expect(await service.getCluster('c1')).not.toBeNull();
  });

  it('deleting an actor makes its clusters and turns unknown again', async () => {
    await service.nameVoiceCluster('c2', { actorId: 'bob' });
    await store.actors.deleteActor('bob');
    await createVoiceServiceOn(store).deleteForActor('bob');
    expect(await service.getCluster('c2')).toMatchObject({ actorId: null, origin: null, turns: [{ actorId: null, confidence: 0, ownMatch: false }] });
    expect((await service.getCluster('c1'))?.turns.find((t) => t.id === 't2')).toMatchObject({ actorId: null, confidence: 0, ownMatch: false });
    expect(await store.voiceClusters.listOfActor('bob')).toEqual([]);
  });
});
