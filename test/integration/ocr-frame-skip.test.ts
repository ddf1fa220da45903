// The OCR stage's frame skipping on real footage (issue 20): a talking head (the band moves all the
// time, no text in it) followed by the burned-in subtitle clip. With the text gate, the moving
// empty band never reaches OCR and the counts say so; the cues equal those of reading every band
// the watcher picks. The joined clip is generated from ../shared/data once and cached in the temp
// folder.
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOcrStage } from '../../src/indexers/ocr.js';
import { createFakeStore } from '../helpers/fake-store.js';
import { runFfmpeg } from '../helpers/media.js';
import { sharedData } from '../helpers/shared-data.js';
import { stageContextFor } from '../helpers/stage-context.js';

const talkingHead = sharedData('talking_head/sadtalker/WDA_KatieHill_000.mp4');
const burned = sharedData('derived/burned_subs/tos_clip_zh_burned.mp4');

/** 5 s of the talking head, then the subtitled clip, both 640×360 at 25 fps. */
async function joinedClip(head: string, subtitled: string): Promise<string> {
  const file = path.join(os.tmpdir(), 'vidsearch-ocr-frame-skip-v1.mp4');
  if (existsSync(file)) return file;
  const partial = `${file}.partial.mp4`;
  const fit = 'scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25,format=yuv420p';
  await runFfmpeg([
    '-t', '5', '-i', head, '-i', subtitled,
    '-filter_complex', `[0:v]${fit}[a];[1:v]${fit}[b];[a][b]concat=n=2:v=1:a=0[v]`,
    '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', partial,
  ]);
  await rename(partial, file);
  return file;
}

async function ocrCues(file: string, minTextBlocksToRead?: number) {
  const store = createFakeStore();
  const ctx = await stageContextFor(file, store);
  const stage = createOcrStage(minTextBlocksToRead === undefined ? {} : { minTextBlocksToRead });
  const output = await stage.run(ctx, undefined);
  const cues = await store.catalog.getCues(ctx.video.id, ['SUBTITLE', 'ON_SCREEN_TEXT']);
  return { output, cues: cues.map((c) => [c.kind, c.start, c.end, c.text]) };
}

describe.skipIf(!talkingHead || !burned)('ocr stage frame skipping on real footage', () => {
  it('keeps the moving empty band away from OCR, counts it, and reads the same cues as without the gate', async () => {
    const file = await joinedClip(talkingHead!, burned!);
    const gated = await ocrCues(file);
    const ungated = await ocrCues(file, 0);
    console.info('[ocr frame skip]', JSON.stringify({ gated: gated.output, ungated: ungated.output }));

    expect(gated.output.skipped).toBeUndefined();
    expect(gated.cues).toEqual(ungated.cues);
    expect(gated.cues.filter((c) => c[0] === 'SUBTITLE').length).toBeGreaterThanOrEqual(5);
    const out = gated.output;
    expect(out.framesOcr + out.framesTextless + out.framesReused + out.framesSettling).toBe(out.framesSampled);
    expect(out.framesTextless).toBeGreaterThan(0);
    // Behind the subtitles the film moves: most samples wait for the band to settle, few are read.
    expect(out.framesOcr + out.framesTextless).toBeLessThan(out.framesSampled / 4);
    expect(out.framesOcr).toBeLessThan(ungated.output.framesOcr);
  }, 300_000);
});
