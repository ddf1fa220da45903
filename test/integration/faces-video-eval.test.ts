// End to end: `vidsearch eval ../shared/data/presence.json --face-only` through the real pipeline
// (probe, shots, … faces) on a fresh temporary store, as the CLI runs it.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { runEval } from '../../src/eval/run.js';
import { sharedData } from '../helpers/shared-data.js';

const manifest = sharedData('presence.json');
const montage = sharedData('derived/grid_montage.mp4');

describe.skipIf(!manifest || !montage)('presence eval, face only', () => {
  it('scores the grid montage through indexNow and onlyWatch', async () => {
    const result = await runEval(manifest!, loadConfig({}), pino({ level: 'silent' }), { 'face-only': true });
    console.info(`[faces-video-eval] ${JSON.stringify({ precision: result.precision, recall: result.recall, f1: result.f1, bins: result.bins })}`);
    expect(result).toMatchObject({ task: 'presence', faceOnly: true, skippedGallery: 0, bins: 660 });
    expect(result.f1).toBeGreaterThan(0.95);
  }, 120_000);
});
