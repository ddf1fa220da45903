// Only-watch on the harder dev set (test/fixtures/presence-pose.json): small, blurred,
// three-quarter faces, several people per shot, generated from ../shared/data into the OS temp
// dir (cached by the fixture's hash). Runs the REPORT half — the half no threshold was fitted on —
// through the real eval (enrolment, indexing with the faces stage, onlyWatch, 0.5 s bins).
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildPresencePose } from '../../bench/presence-pose-media.js';
import { loadConfig } from '../../src/config.js';
import { runEval } from '../../src/eval/run.js';
import { resolveMediaTools } from '../../src/media/tools.js';
import { sharedData, sharedDataDir } from '../helpers/shared-data.js';

const available = sharedData('faces_pose/lfw/labels.tsv') && sharedData('talking_head/sadtalker/WDA_KatieHill_000.mp4');

describe.skipIf(!available)('presence on the harder set, report half', () => {
  it('finds small, blurred and turned faces without naming strangers', async () => {
    const config = { ...loadConfig({ VIDSEARCH_STAGES: 'faces' }), mediaRoots: [sharedDataDir] };
    const built = buildPresencePose(sharedDataDir, resolveMediaTools(config).ffmpeg);
    const result = await runEval(built.manifests.report, config, pino({ level: 'silent' }), { 'face-only': true });
    console.info(`[presence-pose] report half ${JSON.stringify({ precision: result.precision, recall: result.recall, bins: result.bins })}`);
    expect(result).toMatchObject({ task: 'presence', skippedGallery: 0 });
    expect(result.precision).toBeGreaterThanOrEqual(0.95);
    // Before issue 16 (whole-frame detection, 0.45 on a top-3 fused embedding, no edge coverage)
    // this half scored recall 0.581 at precision 0.989; 0.613 at 0.979 with track identity; 0.645
    // at 0.962 with mirrored enrolment templates (faces README). With the 'scene' video added to
    // the half (issue 16, propagation): 0.615 at 0.968.
    expect(result.recall).toBeGreaterThan(0.6);
  }, 300_000);

  it('with each video\'s cast list (closed set), finds more of the cast and still names no stranger', async () => {
    const config = { ...loadConfig({ VIDSEARCH_STAGES: 'faces' }), mediaRoots: [sharedDataDir] };
    const built = buildPresencePose(sharedDataDir, resolveMediaTools(config).ffmpeg);
    const result = await runEval(built.castManifests.report, config, pino({ level: 'silent' }), { 'face-only': true });
    console.info(`[presence-pose] report half with cast ${JSON.stringify({ precision: result.precision, recall: result.recall, bins: result.bins })}`);
    expect(result.precision).toBeGreaterThanOrEqual(0.95);
    // Measured 0.710 at precision 0.957 with the cast rule fitted on the fit half (faces README);
    // 0.667 at 0.963 once the half gained its 'scene' video (small, blurred faces of people seen
    // large in an earlier shot); 0.718 at 0.959 with MobileFace's second opinion on small tracks
    // left unknown (its rule fitted on the fit half), which this bound needs.
    expect(result.recall).toBeGreaterThan(0.7);
  }, 300_000);
});
