// `vidsearch eval` on the subtitles dev manifest: the burned-in video goes through the whole
// indexing pipeline on a temporary store and its stored OCR cues are scored (EVAL.md).
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { runEval } from '../../src/eval/run.js';
import { sharedData } from '../helpers/shared-data.js';

const subtitlesManifest = sharedData('subtitles.json');

describe.skipIf(!subtitlesManifest)('subtitles eval', () => {
  it('indexes the burned-in video and recovers its subtitle cues', async () => {
    const config = loadConfig({ VIDSEARCH_LOG_LEVEL: 'silent' }, process.cwd());
    const metrics = await runEval(subtitlesManifest!, config, pino({ level: 'silent' }));
    console.info('[subtitles eval]', JSON.stringify(metrics));
    expect(metrics.cues).toBe(5);
    expect(metrics.cueRecall).toBe(1);
    expect(metrics.cer).toBeLessThanOrEqual(0.05);
  });
});
