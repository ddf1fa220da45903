// Calibration of the visual-risk rule (src/indexers/nsfw-risk.ts) on benign dev media: what
// nsfwjs says about frames nobody would flag, and where the skin gate and the single-frame line
// must sit so that none of them is flagged. Fits on one half, reports on the other.
//   node dist/bench/nsfw-calibration.js [--data ../shared/data] [--reuse]
// (--reuse fits again from the frames the last run scored, kept in the temp folder.)
// Media: every video under the data folder at 1 fps (256 px, as the stage sees I-frames), every
// face/screenshot photo as it is, cropped to its centre half and third (face close-ups: the
// failure class), blurred, and 3×3 montages of nine photos (crowds/audiences). The split is by a
// hash of the file's path (montages: of their first photo), so the same picture never falls in
// both halves. The dev media hold no explicit positives: recall is not measured here.
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp, { type Sharp } from 'sharp';
import { calibrationHalf, type CalibrationHalf } from './calibration-split.js';
import { frameEvidence, LABEL_CLASS, LABEL_LINE, SINGLE_FRAME, SKIN_GATE, SKIN_GATED, VISUAL_LABELS, type ScoredFrame } from '../src/indexers/nsfw-risk.js';
import { loadConfig } from '../src/config.js';
import { streamFrames } from '../src/media/frames.js';
import { resolveMediaTools } from '../src/media/tools.js';
import { loadFaceModels } from '../src/models/faces/index.js';
import { loadNsfwClassifier } from '../src/models/nsfw/index.js';
import { skinOutsideFaces } from '../src/models/nsfw/skin.js';
import type { RawImage } from '../src/models/types.js';
import type { VisualModerationLabel } from '../src/store/technical.js';

const WIDTH = 256;
const CACHE = path.join(os.tmpdir(), 'vidsearch-nsfw-calibration-items.json');
/** Share of fit-half frames allowed over a gated line (two such frames in one segment flag it). */
const FIT_ALLOWED_OVER_LINE = 0.01;
/** SINGLE_FRAME sits this far above the highest fit-half evidence (and at least 0.9). */
const SINGLE_FRAME_MARGIN = 0.02;
const VIDEO = /\.(mp4|mpg|mkv|webm|mov|avi)$/i;
const PHOTO = /\.(jpe?g|png)$/i;

interface Item {
  name: string;
  half: CalibrationHalf;
  kind: string;
  frame: ScoredFrame;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort();
}

async function rawOf(pipeline: Sharp): Promise<RawImage> {
  const { data, info } = await pipeline.removeAlpha().resize(WIDTH, WIDTH, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 };
}

async function photoVariants(file: string): Promise<[string, RawImage][]> {
  const { width = 0, height = 0 } = await sharp(file).metadata();
  const centre = (fraction: number): Sharp =>
    sharp(file).extract({ left: Math.round((width * (1 - fraction)) / 2), top: Math.round((height * (1 - fraction)) / 2), width: Math.round(width * fraction), height: Math.round(height * fraction) });
  return [
    ['photo', await rawOf(sharp(file))],
    ['closeup-half', await rawOf(centre(0.5))],
    ['closeup-third', await rawOf(centre(1 / 3))],
    ['blur', await rawOf(sharp(file).blur(4))],
  ];
}

async function montage(files: readonly string[]): Promise<RawImage> {
  const tile = Math.round(WIDTH / 3);
  const tiles = await Promise.all(files.map((f) => sharp(f).resize(tile, tile, { fit: 'cover' }).removeAlpha().png().toBuffer()));
  const canvas = sharp({ create: { width: tile * 3, height: tile * 3, channels: 3, background: { r: 0, g: 0, b: 0 } } });
  return rawOf(sharp(await canvas.composite(tiles.map((input, i) => ({ input, left: (i % 3) * tile, top: Math.floor(i / 3) * tile }))).png().toBuffer()));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { data: { type: 'string', default: '../shared/data' }, reuse: { type: 'boolean', default: false } } });
  const items = values.reuse && existsSync(CACHE) ? (JSON.parse(await readFile(CACHE, 'utf8')) as Item[]) : await scoreAll(path.resolve(values.data!));
  await writeFile(CACHE, JSON.stringify(items));
  process.stdout.write(`${JSON.stringify(report(items))}\n`);
}

async function scoreAll(dataDir: string): Promise<Item[]> {
  const classifier = await loadNsfwClassifier();
  const { detector } = await loadFaceModels({ modelDir: null });
  const tools = resolveMediaTools(loadConfig());
  const items: Item[] = [];
  const score = async (name: string, kind: string, half: Item['half'], image: RawImage, time = 0): Promise<void> => {
    const [scores] = await classifier.classify([image]);
    const faces = (await detector.detect(image)).map((f) => f.box);
    items.push({ name, kind, half, frame: { time, scores: scores!, skinOutsideFaces: skinOutsideFaces(image, faces) } });
  };

  const files = await filesUnder(dataDir);
  for (const file of files.filter((f) => VIDEO.test(f))) {
    const relative = path.relative(dataDir, file);
    for await (const frame of streamFrames(tools, file, { fps: 1, width: WIDTH, pixFmt: 'rgb24', signal: new AbortController().signal })) {
      await score(relative, 'video', calibrationHalf(relative), { data: frame.data, width: frame.width, height: frame.height, channels: 3 }, frame.time);
    }
  }
  const photos = files.filter((f) => PHOTO.test(f) && !f.includes(`${path.sep}ocr${path.sep}`));
  for (const file of photos) {
    const relative = path.relative(dataDir, file);
    for (const [kind, image] of await photoVariants(file)) await score(relative, kind, calibrationHalf(relative), image);
  }
  for (const half of ['fit', 'report'] as const) {
    const own = photos.filter((f) => calibrationHalf(path.relative(dataDir, f)) === half);
    for (let i = 0; i + 9 <= own.length; i += 9) await score(`montage:${path.relative(dataDir, own[i]!)}`, 'crowd-montage', half, await montage(own.slice(i, i + 9)));
  }
  return items;
}

/** Evidence under a gate starting at `from` (the width kept). */
function gatedEvidence(item: Item, label: VisualModerationLabel, from: number): number {
  return frameEvidence(item.frame, label, { from, to: from + SKIN_GATE.to - SKIN_GATE.from });
}

/** The smallest gate start (0.01 steps) that keeps fit-half frames over a gated line within the allowance. */
function fitGateFrom(fit: readonly Item[]): number {
  for (let from = 0; from < 0.6; from = round(from + 0.01)) {
    const over = fit.filter((item) => [...SKIN_GATED].some((label) => gatedEvidence(item, label, from) >= LABEL_LINE[label])).length;
    if (over <= FIT_ALLOWED_OVER_LINE * fit.length) return from;
  }
  return 0.6;
}

function fitSingleFrame(fit: readonly Item[], label: VisualModerationLabel, from: number): number {
  const highest = Math.max(0, ...fit.map((item) => gatedEvidence(item, label, from)));
  return Math.min(0.99, Math.max(0.9, Math.ceil((highest + SINGLE_FRAME_MARGIN) * 100) / 100));
}

function describe(item: Item, label: VisualModerationLabel): string {
  return `${item.kind}:${item.name}@${item.frame.time} p=${round(item.frame.scores[LABEL_CLASS[label]])} skin=${round(item.frame.skinOutsideFaces ?? 0)}`;
}

function report(items: readonly Item[]): Record<string, unknown> {
  const fit = items.filter((i) => i.half === 'fit');
  const held = items.filter((i) => i.half === 'report');
  const fittedFrom = fitGateFrom(fit);
  const perLabel = Object.fromEntries(
    VISUAL_LABELS.map((label) => {
      const line = LABEL_LINE[label];
      const overLine = (half: readonly Item[]): Item[] => half.filter((i) => frameEvidence(i.frame, label) >= line);
      return [
        label,
        {
          line,
          singleFrame: SINGLE_FRAME[label],
          fittedSingleFrame: fitSingleFrame(fit, label, fittedFrom),
          fit: { maxProbability: round(Math.max(0, ...fit.map((i) => i.frame.scores[LABEL_CLASS[label]]))), overLine: overLine(fit).map((i) => describe(i, label)) },
          report: {
            maxProbability: round(Math.max(0, ...held.map((i) => i.frame.scores[LABEL_CLASS[label]]))),
            maxEvidence: round(Math.max(0, ...held.map((i) => frameEvidence(i.frame, label)))),
            overLine: overLine(held).length,
            overSingleFrame: held.filter((i) => frameEvidence(i.frame, label) >= SINGLE_FRAME[label]).length,
            rawOverLine: held.filter((i) => i.frame.scores[LABEL_CLASS[label]] >= line).length,
          },
        },
      ];
    }),
  );
  return {
    bench: 'nsfw-calibration',
    frames: { fit: fit.length, report: held.length },
    kinds: Object.fromEntries([...new Set(items.map((i) => i.kind))].map((k) => [k, items.filter((i) => i.kind === k).length])),
    skinGate: SKIN_GATE,
    fittedSkinGateFrom: fittedFrom,
    perLabel,
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

await main();
