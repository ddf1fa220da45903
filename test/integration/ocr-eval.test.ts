// The OCR eval (EVAL.md) and the scoring helpers of both text evals, on the dev manifest in ../shared/data, with floors the
// current models meet: a regression in detection, recognition or cue assembly fails here.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineCer, ocrTask } from '../../src/eval/ocr.js';
import { cueCer } from '../../src/eval/subtitles.js';
import { EvalInputError, type EvalContext } from '../../src/eval/types.js';
import { sharedData } from '../helpers/shared-data.js';

const ocrManifest = sharedData('ocr.json');

describe('scoring helpers', () => {
  it('measures CER against the closest whole line, normalised and capped', () => {
    expect(lineCer('Yuyuan Rd.', ['愚园路', 'yuyuanrd.'])).toBe(0);
    expect(lineCer('abcd', ['abxd'])).toBe(0.25);
    expect(lineCer('abc', [])).toBe(1);
    expect(cueCer('Joy-Con是真的牛皮', 'Joy-Con是\n真的牛皮')).toBe(0);
    expect(cueCer('短', '完全不同的很长的一句话')).toBe(1);
  });
});

describe.skipIf(!ocrManifest)('ocr eval', () => {
  it('reads the dev images with high line recall and low CER', async () => {
    const manifest = JSON.parse(await readFile(ocrManifest!, 'utf8')) as Record<string, unknown>;
    const ctx = {
      resolve: (p: string) => path.resolve(path.dirname(ocrManifest!), p),
      progress: (m: string) => console.info(`[ocr eval] ${m}`),
      options: {},
    } as Omit<EvalContext, 'app'> as EvalContext;
    const metrics = await ocrTask.run(manifest, ctx);
    console.info('[ocr eval]', JSON.stringify(metrics));
    expect(metrics.lines).toBe(18);
    expect(metrics.lineRecall).toBeGreaterThanOrEqual(0.9);
    expect(metrics.cer).toBeLessThanOrEqual(0.15);
  });

  it('rejects a manifest without items', async () => {
    await expect(ocrTask.run({ task: 'ocr' }, {} as EvalContext)).rejects.toBeInstanceOf(EvalInputError);
  });
});
