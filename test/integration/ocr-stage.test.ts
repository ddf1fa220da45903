// The `ocr` stage on a real video with burned-in Chinese subtitles (../shared/data/derived/
// burned_subs), run directly on a fake store: cues, their timing against the .srt the subtitles
// were burned from, and the dedupe before the heavy model.
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createOcrStage, type OcrStageOutput } from '../../src/indexers/ocr.js';
import { ModelIntegrityError } from '../../src/models/runtime.js';
import { textDistance } from '../../src/indexers/subtitle-band.js';
import { createFakeStore } from '../helpers/fake-store.js';
import { stageContextFor } from '../helpers/stage-context.js';
import { makeTempDir, runFfmpeg } from '../helpers/media.js';
import { sharedData } from '../helpers/shared-data.js';

const burned = sharedData('derived/burned_subs/tos_clip_zh_burned.mp4');
const srt = sharedData('derived/burned_subs/tos_clip_zh.srt');
const streetSign = sharedData('ocr/easyocr/chinese.jpg');

function parseSrt(text: string): { start: number; end: number; text: string }[] {
  const time = (t: string): number => {
    const [h, m, s] = t.replace(',', '.').split(':').map(Number) as [number, number, number];
    return h * 3600 + m * 60 + s;
  };
  return text
    .trim()
    .split(/\r?\n\r?\n/)
    .map((block) => block.split(/\r?\n/))
    .map((lines) => {
      const [from, to] = lines[1]!.split(' --> ') as [string, string];
      return { start: time(from), end: time(to), text: lines.slice(2).join('') };
    });
}


describe.skipIf(!burned || !srt)('ocr stage on burned-in subtitles', () => {
  it('recovers every subtitle line with boundaries near the true ones, OCRing few frames', async () => {
    const store = createFakeStore();
    const ctx = await stageContextFor(burned!, store);
    const output: OcrStageOutput = await createOcrStage().run(ctx, undefined);
    const truth = parseSrt(await readFile(srt!, 'utf8'));
    const cues = await store.catalog.getCues(ctx.video.id, ['SUBTITLE']);
    console.info('[ocr stage]', JSON.stringify(output), JSON.stringify(cues.map((c) => [c.start, c.end, c.text])));

    expect(output.skipped).toBeUndefined();
    for (const line of truth) {
      const match = cues.find((c) => c.start < line.end && c.end > line.start && textDistance(c.text, line.text) <= 0.2);
      expect(match, `cue "${line.text}"`).toBeDefined();
      // Boundaries within a few samples of the truth (the sampling step is 0.1 s).
      expect(Math.abs(match!.start - line.start)).toBeLessThan(0.35);
      expect(Math.abs(match!.end - line.end)).toBeLessThan(0.35);
      expect(match!.source).toBe('OCR');
    }
    // Dedupe before the heavy model: most sampled frames never reach OCR.
    expect(output.framesOcr).toBeLessThan(output.framesSampled / 3);
  });

  it('skips, without failing the job, when the OCR models cannot be loaded', async () => {
    const store = createFakeStore();
    const ctx = await stageContextFor(burned!, store);
    const stage = createOcrStage({
      reader: () => ({ size: 1, read: async () => Promise.reject(new ModelIntegrityError('model file altered')) }),
    });
    const output = await stage.run(ctx, undefined);
    expect(output.skipped).toMatch(/altered/);
    expect(await store.catalog.getCues(ctx.video.id)).toEqual([]);
  });
});

describe('ocr stage on odd input', () => {
  it.skipIf(!streetSign)('reads a street sign held on screen as one on-screen-text cue per line, apart from subtitles', async () => {
    const tmp = await makeTempDir();
    try {
      const file = `${tmp.dir}/sign.mp4`;
      await runFfmpeg(['-loop', '1', '-i', streetSign!, '-t', '4', '-r', '10', '-vf', 'scale=640:-2,format=yuv420p', '-c:v', 'libx264', file]);
      const store = createFakeStore();
      const ctx = await stageContextFor(file, store);
      const output = await createOcrStage().run(ctx, undefined);
      const onScreen = await store.catalog.getCues(ctx.video.id, ['ON_SCREEN_TEXT']);
      expect(output.keyframesOcr).toBe(1);
      const sign = onScreen.find((c) => c.text.includes('愚园路'));
      expect(sign, JSON.stringify(onScreen.map((c) => c.text))).toBeDefined();
      expect(sign!.start).toBe(0);
      expect(sign!.end).toBeGreaterThan(3.5);
    } finally {
      await tmp.cleanup();
    }
  });

  it('stores nothing for a video without text, and survives a truncated file', async () => {
    const tmp = await makeTempDir();
    try {
      const blank = `${tmp.dir}/blank.mp4`;
      await runFfmpeg(['-f', 'lavfi', '-i', 'color=c=gray:s=320x240:d=3:r=10', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', blank]);
      const store = createFakeStore();
      const ctx = await stageContextFor(blank, store);
      const output = await createOcrStage().run(ctx, undefined);
      expect(output.framesSampled).toBeGreaterThan(20);
      // One look at the static band, answered by the text gate (no text-like edges): no OCR.
      expect(output.framesTextless).toBe(1);
      expect(output.framesOcr).toBe(0);
      expect(await store.catalog.getCues(ctx.video.id)).toEqual([]);

      // moov first, so the cut file still probes and breaks part-way through decoding.
      const whole = `${tmp.dir}/whole.mp4`;
      await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x240:d=4:r=10', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', whole]);
      const truncated = `${tmp.dir}/truncated.mp4`;
      const bytes = await readFile(whole);
      await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.5)));
      const broken = createFakeStore();
      const brokenCtx = await stageContextFor(truncated, broken);
      const read = await createOcrStage().run(brokenCtx, undefined);
      expect(read.framesSampled).toBeGreaterThan(0);
      expect(read.framesSampled).toBeLessThan(40);
    } finally {
      await tmp.cleanup();
    }
  });
});
