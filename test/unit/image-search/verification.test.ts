import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { LocalFeatures } from '../../../src/models/image-descriptors/local-features.js';
import { collapse, type RankedFrame } from '../../../src/services/image-search/candidates.js';
import type { WindowFrame } from '../../../src/services/image-search/frame-source.js';
import { phaseClock } from '../../../src/services/image-search/phases.js';
import type { QueryVariant } from '../../../src/services/image-search/types.js';
import { createVerifier, rivalInliers, seedFrames, strongest, type CascadeSession, type Verification } from '../../../src/services/image-search/verification.js';
import { makeVideo } from '../../helpers/fake-store.js';

const NO_FEATURES: LocalFeatures = { count: 0, points: new Float32Array(0), descriptors: new Uint8Array(0) };
const VARIANTS: QueryVariant[] = [{ region: { x: 0, y: 0, width: 10, height: 10 }, mirror: false }];

function ranked(videoId: string, time: number, fused: number): RankedFrame {
  return { hit: { id: `${videoId}:${time}`, score: fused, payload: { videoId, time, from: time, to: time } }, score: fused, fused, variant: 0 };
}

function verification(videoId: string, inliers: number): Verification {
  const [group] = collapse([ranked(videoId, 1, 1)], 1);
  return { group: group!, video: makeVideo({ id: videoId }), inliers, frameTime: 1, mirror: false, homography: null, stored: true };
}

/** A library where each video's frames match the screenshot with a fixed number of inliers. */
function library(inliersByVideo: Record<string, number>, maps: Record<string, number[]> = {}) {
  const videos = new Map(Object.keys(inliersByVideo).map((id) => [id, makeVideo({ id, durationSec: 30 })]));
  const matched: string[] = [];
  const verifier = createVerifier({
    catalog: { getVideo: async (id) => videos.get(id) ?? null },
    frames: {
      window: async (video) => ({
        stored: true,
        frames: [{ time: 1, repeat: false, features: () => ({ ...NO_FEATURES, count: inliersByVideo[video.id]!, video: video.id }) as LocalFeatures }],
      }),
    },
    matcher: {
      match: async (_query, frame) => {
        const video = (frame as LocalFeatures & { video: string }).video;
        matched.push(video);
        return { inliers: inliersByVideo[video]!, matches: inliersByVideo[video]!, homography: maps[video] ?? [1, 0, 0, 0, 1, 0, 0, 0, 1] };
      },
    },
    log: pino({ level: 'silent' }),
  });
  const session = (): CascadeSession => ({
    clock: phaseClock(undefined),
    orientedQuery: async () => ({ grey: { data: new Uint8Array(1), width: 640, height: 360, channels: 1 }, features: NO_FEATURES }),
    candidates: 0,
    matches: 0,
    checked: new Map(),
    tried: new Map(),
    mirrorFirst: null,
  });
  return { verifier, session, matched };
}

describe('verification cascade', () => {
  it('reaches the true clip ranked 8th by the first stage and stops once it passes with a margin', async () => {
    const inliers: Record<string, number> = { v0: 30, v1: 25, v2: 28, v3: 22, v4: 31, v5: 20, v6: 26, truth: 220, v8: 24, v9: 21, v10: 23 };
    const { verifier, session, matched } = library(inliers);
    const order = ['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'truth', 'v8', 'v9', 'v10'];
    const groups = collapse(order.map((id, i) => ranked(id, 1, 1 - i / 20)), 40);
    const s = session();
    const verified = await verifier.cascade(groups, VARIANTS, s);
    const { best, certain } = strongest(verified, false);
    expect(best!.video.id).toBe('truth');
    expect(certain).toBe(true);
    // Stopped at the true clip: the three after it were never matched.
    expect(matched).not.toContain('v8');
    expect(s.candidates).toBe(8);
  });

  it('does not call a match certain before another video was checked, nor when a rival is about as strong', async () => {
    const { verifier, session } = library({ a: 150, b: 140 });
    const verified = await verifier.cascade(collapse([ranked('a', 1, 1), ranked('b', 1, 0.9)], 40), VARIANTS, session());
    expect(verified.map((v) => v.video.id)).toEqual(['a', 'b']);
    expect(strongest(verified, false).certain).toBe(false);
    expect(strongest([verification('a', 150)], true).certain).toBe(false);
    expect(strongest([verification('a', 150)], false).certain).toBe(true);
  });

  it('counts no inliers for a map no screenshot can have: the true clip with fewer but sane inliers wins', async () => {
    // Fit half (constructed low-texture pan): 37 inliers on a map collapsing the screenshot onto a line.
    const collapsed = [-0.119, -1.706, 131.04, -0.12, -1.725, 132.48, -0.001, -0.013, 1];
    const { verifier, session } = library({ lookalike: 37, truth: 15 }, { lookalike: collapsed });
    const verified = await verifier.cascade(collapse([ranked('lookalike', 1, 1), ranked('truth', 1, 0.9)], 40), VARIANTS, session());
    expect(verified.find((v) => v.video.id === 'lookalike')!.inliers).toBe(0);
    expect(strongest(verified, false).best!.video.id).toBe('truth');
  });

  it('stops at the candidate budget when nothing passes', async () => {
    const inliers = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`v${i}`, 12]));
    const { verifier, session } = library(inliers);
    const s = session();
    await verifier.cascade(collapse(Object.keys(inliers).map((id, i) => ranked(id, 1, 1 - i / 100)), 40), VARIANTS, s);
    expect(s.candidates).toBe(30);
  });

  it('tries the mirrored screenshot where the upright one matches only on symmetric structure, and prefers it afterwards', async () => {
    // A mirrored screenshot: the upright query matches the true clip's symmetric backdrop (42
    // inliers, the fit halves' most since keypoints are taken at the stored frames' scale: enough to
    // look certain), the mirrored query matches it fully.
    const inliers: Record<string, Record<'upright' | 'mirror', number>> = { truth: { upright: 42, mirror: 210 }, other: { upright: 11, mirror: 4 }, third: { upright: 3, mirror: 12 } };
    const videos = new Map(Object.keys(inliers).map((id) => [id, makeVideo({ id, durationSec: 30 })]));
    const tried: string[] = [];
    const verifier = createVerifier({
      catalog: { getVideo: async (id) => videos.get(id) ?? null },
      frames: { window: async (video) => ({ stored: true, frames: [{ time: 1, repeat: false, features: () => ({ ...NO_FEATURES, video: video.id }) as LocalFeatures }] }) },
      matcher: {
        match: async (query, frame) => {
          const video = (frame as LocalFeatures & { video: string }).video;
          const orientation = (query as LocalFeatures & { orientation: 'upright' | 'mirror' }).orientation;
          tried.push(`${video}:${orientation}`);
          return { inliers: inliers[video]![orientation], matches: 0, homography: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
        },
      },
      log: pino({ level: 'silent' }),
    });
    const s: CascadeSession = {
      clock: phaseClock(undefined),
      orientedQuery: async (mirror) => ({ grey: { data: new Uint8Array(1), width: 1, height: 1, channels: 1 }, features: { ...NO_FEATURES, orientation: mirror ? 'mirror' : 'upright' } as LocalFeatures }),
      candidates: 0,
      matches: 0,
      checked: new Map(),
      tried: new Map(),
      mirrorFirst: null,
    };
    const verified = await verifier.cascade(collapse([ranked('truth', 1, 1), ranked('other', 1, 0.9), ranked('third', 1, 0.8)], 40), VARIANTS, s);
    const { best, certain } = strongest(verified, false);
    expect(best!.video.id).toBe('truth');
    expect(best!.mirror).toBe(true);
    expect(best!.inliers).toBe(210);
    expect(certain).toBe(true);
    // After the truth was won mirrored, the next candidate is matched mirrored first.
    expect(tried.slice(0, 3)).toEqual(['truth:upright', 'truth:mirror', 'other:mirror']);
  });

  it('the rival is the strongest other video', () => {
    expect(rivalInliers([verification('a', 90), verification('b', 30), verification('a', 50), verification('c', 40)], 'a')).toBe(40);
    expect(rivalInliers([verification('a', 90)], 'a')).toBe(0);
  });
});

describe('seed frames', () => {
  const frame = (time: number, repeat: boolean): WindowFrame => ({ time, repeat, features: () => NO_FEATURES });

  it('prefers kept frames next to the shortlisted ones, nearest the candidate first', () => {
    const frames = [frame(0, false), frame(0.5, true), frame(1, false), frame(1.5, false), frame(2, true), frame(4, false)];
    const [group] = collapse([ranked('a', 1.5, 1), ranked('a', 1, 0.9)], 1);
    expect(seedFrames(frames, group!).map((f) => f.time)).toEqual([1.5, 1]);
  });

  it('falls back to the nearest frame when the window holds only repeats', () => {
    const [group] = collapse([ranked('a', 3, 1)], 1);
    expect(seedFrames([frame(2, true), frame(2.5, true), frame(3.5, true)], group!)[0]!.time).toBe(2.5);
  });
});
