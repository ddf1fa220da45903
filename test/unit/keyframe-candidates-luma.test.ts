// Kept keyframe candidates with a declared luma measure: a candidate is served with its reader's
// measure of the luma as decoded, whichever of the JPEG and the luma arrives first; once the luma
// output ended (a failed decode), a candidate without its measure is served without it.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawFrame } from '../../src/media/frames.js';
import { KeyframeCandidates, type LumaMeasure } from '../../src/media/keyframe-candidates.js';

const W = 16;
const H = 8;
let dir: string;
let jpeg: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-candidates-luma-'));
  jpeg = await sharp(Buffer.alloc(W * H * 3, 90), { raw: { width: W, height: H, channels: 3 } }).jpeg().toBuffer();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const luma = (time: number, value: number): RawFrame => ({ time, data: Buffer.alloc(W * H, value), width: W, height: H });
/** The mean of the luma: tells which picture was measured. */
const mean: LumaMeasure = (frame) => frame.data.reduce((sum, v) => sum + v, 0) / frame.data.length;

describe('keyframe candidates with a luma measure', () => {
  it('serves each candidate with its measure, the JPEG or the luma first', async () => {
    const kept = new KeyframeCandidates(path.join(dir, 'a.spool'), new Map([['quality', mean]]));
    try {
      kept.add(0.5, jpeg);
      const waiting = kept.frameAt(0.5);
      kept.addLuma(luma(0.5, 40));
      expect((await waiting)!.lumaMeasures.get('quality')).toBe(40);
      kept.addLuma(luma(1.0, 70));
      kept.add(1.0, jpeg);
      const served = (await kept.frameAt(1.0))!;
      expect(served.lumaMeasures.get('quality')).toBe(70);
      expect(served.frame).toMatchObject({ time: 1.0, width: W, height: H });
      kept.end(null);
      kept.lumaEnded();
      expect(await kept.frameAt(0.75)).toBeNull();
    } finally {
      kept.close();
    }
  });

  it('serves a candidate without its measure once no more luma comes', async () => {
    const kept = new KeyframeCandidates(path.join(dir, 'b.spool'), new Map([['quality', mean]]));
    try {
      kept.add(0.5, jpeg);
      const waiting = kept.frameAt(0.5);
      kept.lumaEnded();
      expect((await waiting)!.lumaMeasures.size).toBe(0);
    } finally {
      kept.close();
    }
  });

  it('serves at once when nobody declared a measure', async () => {
    const kept = new KeyframeCandidates(path.join(dir, 'c.spool'));
    try {
      kept.add(0.5, jpeg);
      expect((await kept.frameAt(0.5))!.lumaMeasures.size).toBe(0);
    } finally {
      kept.close();
    }
  });
});
