// `vidsearch eval` task "moderation" (ours): benign real clips through the pipeline (essential
// stages + nsfw) count no false flags; a truth range nothing flags counts as missed; a malformed
// manifest is an input error. The media are named from a manifest outside their folder, as the
// repo's test/fixtures/moderation-benign.json names ../shared/data.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { runEval } from '../../src/eval/run.js';
import { EvalInputError } from '../../src/eval/types.js';
import { sharedData } from '../helpers/shared-data.js';

const clip = sharedData('talking_head/video_retalking/face_5.mp4');
const log = pino({ level: 'silent' });
const config = loadConfig({ VIDSEARCH_LOG_LEVEL: 'silent', VIDSEARCH_STAGES: 'nsfw' }, process.cwd());

describe.skipIf(!clip)('moderation eval', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-moderation-eval-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('counts no false flag on a benign talking head and reports a missed truth range', async () => {
    const manifest = path.join(dir, 'moderation.json');
    const relative = path.relative(dir, clip!);
    await writeFile(manifest, JSON.stringify({ task: 'moderation', videos: [{ path: relative, flagged: [] }, { path: relative, flagged: [[1, 2]] }] }));
    const metrics = await runEval(manifest, config, log);
    console.info('[moderation eval]', JSON.stringify(metrics));
    expect(metrics).toMatchObject({ task: 'moderation', videos: 2, falseFlags: 0, falseFlagRate: 0, recall: 0 });
    expect(metrics.segments).toBeGreaterThan(0);
  }, 180_000);

  it('refuses a manifest without flagged ranges', async () => {
    const manifest = path.join(dir, 'bad.json');
    await writeFile(manifest, JSON.stringify({ task: 'moderation', videos: [{ path: 'x.mp4' }] }));
    await expect(runEval(manifest, config, log)).rejects.toBeInstanceOf(EvalInputError);
  });
});
