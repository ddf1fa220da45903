import { describe, expect, it } from 'vitest';
import { computeOnlyWatch, createPresenceService, type WatchOptions } from '../../src/services/presence.js';
import type { AppearanceSpanRecord, SpanEvidence } from '../../src/store/appearances.js';
import type { VideoRecord } from '../../src/domain.js';
import type { ActorRecord } from '../../src/store/actors.js';

let n = 0;
function span(actorId: string, start: number, end: number, evidence: SpanEvidence = 'FACE', confidence = 0.8): AppearanceSpanRecord {
  return { id: `s${n++}`, videoId: 'v', actorId, start, end, confidence, evidence, sourceIds: [], bestFaceId: evidence === 'FACE' ? `f${n}` : null };
}

const options = (patch: Partial<WatchOptions> = {}): WatchOptions => ({ mode: 'ANY', padSec: 0, mergeGapSec: 1, minSpanSec: 0.5, durationSec: 100, ...patch });

describe('computeOnlyWatch', () => {
  it('bridges short gaps, keeps long ones and drops glimpses', () => {
    const result = computeOnlyWatch([span('a', 0, 2), span('a', 2.8, 4), span('a', 10, 12), span('a', 20, 20.3)], ['a'], options());
    expect(result.playlist).toEqual([[0, 4], [10, 12]]);
    expect(result.totalSec).toBe(6);
    expect(result.share).toBeCloseTo(0.06);
  });

  it('ANY unites actors and names who is in each span', () => {
    const result = computeOnlyWatch([span('a', 0, 3), span('b', 2, 6), span('b', 30, 32)], ['a', 'b'], options());
    expect(result.spans.map((s) => [s.start, s.end, s.actors])).toEqual([
      [0, 6, ['a', 'b']],
      [30, 32, ['b']],
    ]);
  });

  it('ALL keeps only the times where every actor is present', () => {
    const result = computeOnlyWatch([span('a', 0, 10, 'FACE', 0.9), span('b', 4, 6, 'FACE', 0.6), span('b', 8, 20)], ['a', 'b'], options({ mode: 'ALL', mergeGapSec: 0 }));
    expect(result.playlist).toEqual([[4, 6], [8, 10]]);
    expect(result.spans[0]!.actors).toEqual(['a', 'b']);
    // Together only as sure as the less certain actor.
    expect(result.spans[0]!.confidence).toBe(0.6);
    expect(computeOnlyWatch([span('a', 0, 10)], ['a', 'b'], options({ mode: 'ALL' })).spans).toEqual([]);
  });

  it('fuses face and voice evidence per actor', () => {
    const result = computeOnlyWatch([span('a', 0, 2, 'FACE'), span('a', 1.5, 5, 'VOICE'), span('a', 10, 12, 'VOICE'), span('a', 20, 22, 'FACE')], ['a'], options({ mergeGapSec: 0 }));
    expect(result.spans.map((s) => [s.start, s.end, s.evidence])).toEqual([
      [0, 5, 'BOTH'],
      [10, 12, 'VOICE'],
      [20, 22, 'FACE'],
    ]);
  });

  it('pads, clips to the video and re-joins padded neighbours', () => {
    const result = computeOnlyWatch([span('a', 0.5, 3), span('a', 5, 8), span('a', 97, 99.5)], ['a'], options({ padSec: 1, mergeGapSec: 0 }));
    expect(result.playlist).toEqual([[0, 9], [96, 100]]);
  });

  it('ignores spans of actors not asked for', () => {
    expect(computeOnlyWatch([span('x', 0, 50)], ['a'], options()).totalSec).toBe(0);
  });
});

describe('presence service', () => {
  const video = { id: 'v', durationSec: 60 } as VideoRecord;
  const actors: Record<string, ActorRecord> = {
    a: { id: 'a', name: 'A', aliases: [], createdAt: '', updatedAt: '' },
    b: { id: 'b', name: 'B', aliases: [], createdAt: '', updatedAt: '' },
  };
  const stored = [span('a', 0, 5, 'FACE', 0.9), span('a', 10, 15, 'FACE', 0.55), span('b', 3, 12), span('deleted', 1, 9)];
  const service = createPresenceService({
    catalog: { getVideo: async (id) => (id === 'v' ? video : null) },
    actors: { getActor: async (id) => actors[id] ?? null, getActors: async (ids) => ids.map((id) => actors[id] ?? null) },
    appearances: {
      getSpans: async (_videoId, actorIds, minConfidence) => stored.filter((s) => actorIds.includes(s.actorId) && s.confidence >= minConfidence),
      getSpansOfVideo: async () => stored,
      listSpansOfActor: async (actorId, page) => {
        const items = stored.filter((s) => s.actorId === actorId).slice(0, page.first);
        return { items, endCursor: null, hasNextPage: false, totalCount: items.length };
      },
    },
  });

  it('answers with defaults and honours minConfidence', async () => {
    expect((await service.onlyWatch({ videoId: 'v', actorIds: ['a'] })).playlist).toEqual([[0, 5], [10, 15]]);
    expect((await service.onlyWatch({ videoId: 'v', actorIds: ['a'], minConfidence: 0.6 })).playlist).toEqual([[0, 5]]);
    const both = await service.onlyWatch({ videoId: 'v', actorIds: ['a', 'b'], mode: 'ALL' });
    expect(both.playlist).toEqual([[3, 5], [10, 12]]);
    expect(both.share).toBeCloseTo(4 / 60);
  });

  it('rejects bad input with typed errors', async () => {
    await expect(service.onlyWatch({ videoId: 'nope', actorIds: ['a'] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.onlyWatch({ videoId: 'v', actorIds: ['zz'] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.onlyWatch({ videoId: 'v', actorIds: [] })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(service.onlyWatch({ videoId: 'v', actorIds: ['a'], padSec: -1 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(service.onlyWatch({ videoId: 'v', actorIds: ['a'], minConfidence: 2 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(service.appearances('zz')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('gives every actor of a video a timeline', async () => {
    const timeline = await service.actorTimeline('v');
    expect(timeline.map((t) => [t.actorId, t.totalSec])).toEqual([
      ['a', 10],
      ['b', 9],
    ]);
    expect((await service.appearances('b')).edges).toHaveLength(1);
  });
});

describe('presence eval bins', () => {
  it('marks bins covered at least half, judging the last short bin by its own length', async () => {
    const { positiveBins } = await import('../../src/eval/presence.js');
    // Bins of 1 s over 3.4 s: [0,1) [1,2) [2,3) [3,3.4).
    expect(positiveBins([{ start: 0.5, end: 1.2 }], 3.4, 1)).toEqual([true, false, false, false]);
    expect(positiveBins([{ start: 0.6, end: 0.8 }, { start: 0.7, end: 0.95 }], 3.4, 1)).toEqual([false, false, false, false]);
    expect(positiveBins([{ start: 3.2, end: 9 }], 3.4, 1)).toEqual([false, false, false, true]);
    expect(positiveBins([{ start: 3.25, end: 9 }], 3.4, 1)).toEqual([false, false, false, false]);
    expect(positiveBins([], 0, 1)).toEqual([]);
  });

  it('takes an optional per-video "cast" of manifest actor ids and refuses anything else', async () => {
    const { presenceTask } = await import('../../src/eval/presence.js');
    const { EvalInputError } = await import('../../src/eval/types.js');
    const manifest = (cast: unknown) => ({ actors: [{ id: 'a1' }], videos: [{ path: 'v.mp4', truth: [], cast }] });
    const noContext = {} as Parameters<typeof presenceTask.run>[1];
    for (const bad of [['a2'], 'a1', [1]]) await expect(presenceTask.run(manifest(bad), noContext)).rejects.toBeInstanceOf(EvalInputError);
  });
});
