import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { frameAt, generatedQuery, QUERY_TRANSFORMS } from '../../../src/eval/image-queries.js';
import { streamFrames } from '../../../src/media/frames.js';
import { resolveMediaTools } from '../../../src/media/tools.js';
import { repoRoot, sharedData } from '../../helpers/shared-data.js';

const fixture = path.join(repoRoot, 'test/fixtures/image-search-lookalike.json');
const manifest = JSON.parse(readFileSync(fixture, 'utf8')) as {
  videos: { id: string; path: string }[];
  queries: { video: string; time: number; transform: string; half: string }[];
};
const clip = sharedData('video_people/grid_lipnet/bbaf2n.mpg');

describe('look-alike/still dev set manifest', () => {
  it('gives every video one query per transform, and puts each video wholly in one half', () => {
    for (const video of manifest.videos) {
      const queries = manifest.queries.filter((q) => q.video === video.id);
      expect(queries.map((q) => q.transform).sort()).toEqual([...QUERY_TRANSFORMS].sort());
      expect(new Set(queries.map((q) => q.half)).size).toBe(1);
    }
    const halves = new Set(manifest.queries.map((q) => q.half));
    expect(halves).toEqual(new Set(['fit', 'report']));
    expect(manifest.queries.filter((q) => q.half === 'report').length).toBe(manifest.queries.length / 2);
  });
});

describe.skipIf(!clip)('screenshot transforms built by construction', () => {
  const media = resolveMediaTools({ ffmpegPath: null, ffprobePath: null });
  const size = async (transform: (typeof QUERY_TRANSFORMS)[number]) => sharp(await generatedQuery(media, clip!, 1.2, transform)).metadata();

  it('changes size and layout as each transform says (GRID frames are 360×288)', async () => {
    expect(await size('clean')).toMatchObject({ width: 360, height: 288, format: 'jpeg' });
    expect(await size('half_jpegq30')).toMatchObject({ width: 180 });
    expect(await size('crop70')).toMatchObject({ width: 252, height: 202 });
    expect(await size('letterbox')).toMatchObject({ width: 640, height: 360 });
    expect(await size('pip_ui')).toMatchObject({ width: 1280, height: 720 });
  });

  it('mirrors hflip and leaves the picture content of clean, subtitle_overlay and gamma_color in place', async () => {
    const grey = async (transform: (typeof QUERY_TRANSFORMS)[number], flop = false) =>
      (await sharp(await generatedQuery(media, clip!, 1.2, transform)).flop(flop).resize(36, 28).greyscale().raw().toBuffer());
    const clean = await grey('clean');
    const diff = (a: Buffer, b: Buffer, rows = 28) => {
      let sum = 0;
      for (let i = 0; i < 36 * rows; i++) sum += Math.abs(a[i]! - b[i]!);
      return sum / (36 * rows);
    };
    expect(diff(await grey('hflip', true), clean)).toBeLessThan(4);
    expect(diff(await grey('hflip'), clean)).toBeGreaterThan(8);
    // The caption sits in the bottom band: the top 80 % is untouched.
    expect(diff(await grey('subtitle_overlay'), clean, 22)).toBeLessThan(4);
    expect(diff(await grey('gamma_color'), clean)).toBeGreaterThan(4);
  });

  it('takes the frame shown at the stated time, on the timeline the indexer decodes (not where a seek lands)', async () => {
    const grey = async (png: Buffer | Uint8Array, raw = false) =>
      sharp(png, raw ? { raw: { width: 360, height: 288, channels: 3 } } : undefined).resize(90, 72).greyscale().raw().toBuffer();
    const decoded: { time: number; grey: Buffer }[] = [];
    for await (const f of streamFrames(media, clip!, { start: 0.5, end: 1, width: 360, pixFmt: 'rgb24' })) decoded.push({ time: f.time, grey: await grey(f.data, true) });
    const query = await grey(await frameAt(media, clip!, 0.72));
    const diff = (a: Buffer) => a.reduce((sum, v, i) => sum + Math.abs(v - query[i]!), 0);
    const nearest = decoded.reduce((a, b) => (diff(b.grey) < diff(a.grey) ? b : a));
    expect(nearest.time).toBeCloseTo(0.72, 2);
  });
});
