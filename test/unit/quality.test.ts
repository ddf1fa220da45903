// Visual quality per shot on generated media whose defects are known by construction (a crisp
// pattern, the same blurred, a mosaic of 8-px blocks, a nearly black shot), a blurred face on a
// sharp background (focus error), and the poster rule: only clean frames.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { ShotRecord } from '../../src/domain.js';
import { choosePoster, createQualityStage, frameQuality } from '../../src/indexers/quality.js';
import type { StageContext } from '../../src/indexers/stage.js';
import { probeMedia } from '../../src/media/probe.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/interfaces.js';
import type { ShotQualityRecord } from '../../src/store/technical.js';
import { makeVideo } from '../helpers/fake-store.js';
import { makeTempDir, runFfmpeg, testTools } from '../helpers/media.js';

const W = 640;
const H = 360;
const SHOT_SEC = 2;
const SHOTS: [name: string, filter: string, issues: string[]][] = [
  ['crisp', `testsrc2=s=${W}x${H}:r=25:d=${SHOT_SEC}`, []],
  ['blurred', `testsrc2=s=${W}x${H}:r=25:d=${SHOT_SEC},gblur=sigma=6`, ['blur']],
  ['mosaic', `testsrc2=s=${W}x${H}:r=25:d=${SHOT_SEC},scale=iw/8:ih/8:flags=neighbor,scale=${W}:${H}:flags=neighbor`, ['blocky']],
  ['dark', `testsrc2=s=${W}x${H}:r=25:d=${SHOT_SEC},eq=brightness=-0.45:contrast=0.4`, ['dark', 'flat']],
];

let temp: { dir: string; cleanup(): Promise<void> };
let store: Store;

beforeAll(async () => {
  temp = await makeTempDir('vidsearch-quality-');
  store = await openEmbeddedStore(temp.dir);
}, 60_000);

afterAll(async () => {
  await store.close();
  await temp.cleanup();
});

describe('quality stage on generated shots', () => {
  it('names each shot defect and takes the poster from the clean shot', async () => {
    const file = `${temp.dir}/quality.mp4`;
    const chains = SHOTS.map(([, f], i) => `${f},setsar=1,format=yuv420p,setpts=PTS-STARTPTS[v${i}]`);
    chains.push(`${SHOTS.map((_, i) => `[v${i}]`).join('')}concat=n=${SHOTS.length}:v=1:a=0[vout]`);
    // An I-frame every second and near-lossless coding: the defects are the generated ones.
    await runFfmpeg(['-filter_complex', chains.join(';'), '-map', '[vout]', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '12', '-g', '25', '-pix_fmt', 'yuv420p', file]);
    const probe = await probeMedia(testTools, file);
    const video = makeVideo({ path: file, durationSec: probe.durationSec, width: probe.width, height: probe.height });
    await store.catalog.putVideo(video);
    const shots: ShotRecord[] = SHOTS.map((_, i) => ({ id: `${video.id}:shot:${i}`, videoId: video.id, index: i, start: i * SHOT_SEC, end: (i + 1) * SHOT_SEC, keyframeTime: i * SHOT_SEC + 1, transition: i ? 'CUT' : 'START' }));
    await store.catalog.replaceStructure(video.id, shots, shots.map((s) => ({ id: `${video.id}:seg:${s.index}`, videoId: video.id, index: s.index, shotIndex: s.index, start: s.start, end: s.end, keyframeTime: s.keyframeTime })));
    const ctx: StageContext = { video, store, media: testTools, config: loadConfig({}), log: pino({ level: 'silent' }), signal: new AbortController().signal, reportProgress: () => undefined };
    const output = await createQualityStage().run(ctx, {});
    const rows = await store.technical.getShotQuality(video.id);
    for (const row of rows) console.log(`[quality] ${SHOTS[row.shotIndex]![0]}: sharp ${row.sharpness} blocky ${row.blockiness} bright ${row.brightness} contrast ${row.contrast} issues ${row.issues.join(',') || '-'}`);
    expect(rows).toHaveLength(SHOTS.length);
    rows.forEach((row, i) => expect(row.issues, SHOTS[i]![0]).toEqual(SHOTS[i]![2]));
    expect(output.cleanShots).toBe(1);
    expect(output.posterTime).toBeGreaterThanOrEqual(0);
    expect(output.posterTime).toBeLessThan(SHOT_SEC);
  }, 180_000);
});

describe('quality rules', () => {
  const noise = (w: number, h: number, seed: number): Uint8Array => {
    let s = seed;
    return new Uint8Array(w * h).map(() => ((s = (s * 1103515245 + 12345) >>> 0) >>> 24) & 0xff);
  };

  it('flags a blurred face in front of a sharp background', () => {
    const w = 200;
    const h = 120;
    const data = noise(w, h, 7);
    const face = { x: 80, y: 30, width: 40, height: 50 };
    // Flatten the face region into a smooth gradient: no detail where the face is.
    for (let y = face.y; y < face.y + face.height; y++) for (let x = face.x; x < face.x + face.width; x++) data[y * w + x] = 100 + (x - face.x);
    const q = frameQuality({ data, width: w, height: h, channels: 1 }, 1, [face]);
    expect(q.issues).toContain('face-blur');
    expect(q.issues).not.toContain('blur');
    expect(frameQuality({ data, width: w, height: h, channels: 1 }, 1, []).faceSharpness).toBeNull();
  });

  it('never picks an unclean frame as the poster', () => {
    const row = (shotIndex: number, sharpness: number, issues: string[]): ShotQualityRecord => ({ videoId: 'v', shotIndex, start: shotIndex, end: shotIndex + 1, time: shotIndex + 0.5, sharpness, faceSharpness: null, blockiness: 0, brightness: 120, contrast: 60, clean: issues.length === 0, issues });
    expect(choosePoster([row(0, 0.99, ['blocky']), row(1, 0.6, []), row(2, 0.8, [])])!.shotIndex).toBe(2);
    expect(choosePoster([row(0, 0.99, ['dark'])])).toBeNull();
  });
});
