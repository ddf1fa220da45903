// EVAL.md task "ocr": read each image with the same OCR pool the `ocr` stage uses and score the
// required lines. A line is found when it is a substring of the image's text joined in reading
// order; its CER is the smallest edit distance to any single recognised line over its length.
import { availableParallelism } from 'node:os';
import { distance } from 'fastest-levenshtein';
import { errorMessage } from '../errors.js';
import { decodeImage } from '../models/image.js';
import { sharedOcrPool } from '../models/ocr/pool.js';
import { normalizeForScoring } from '../text/normalize.js';
import { mean, ratio } from './metrics.js';
import { EvalInputError, type EvalTask } from './types.js';

interface OcrManifest {
  items: { image: string; lines: string[] }[];
}

function parse(manifest: Record<string, unknown>): OcrManifest {
  const { items } = manifest as Partial<OcrManifest>;
  if (!Array.isArray(items)) throw new EvalInputError('ocr manifest needs an "items" array');
  for (const item of items) {
    if (typeof item?.image !== 'string' || !Array.isArray(item.lines) || !item.lines.every((l) => typeof l === 'string')) {
      throw new EvalInputError('each ocr item needs "image" (string) and "lines" (array of strings)');
    }
  }
  return manifest as unknown as OcrManifest;
}

/** Edit distance of `required` to the closest recognised line, over its length, capped at 1. */
export function lineCer(required: string, recognised: readonly string[]): number {
  const target = normalizeForScoring(required);
  if (!target) return 0;
  let best = 1;
  for (const line of recognised) best = Math.min(best, distance(target, normalizeForScoring(line)) / target.length);
  return Math.min(1, best);
}

export const ocrTask: EvalTask = {
  task: 'ocr',
  async run(raw, ctx) {
    const manifest = parse(raw);
    const files = manifest.items.map((item) => ctx.resolve(item.image));
    const pool = sharedOcrPool(Math.max(1, availableParallelism() - 1));
    // Model loading is a once-per-process cost, not a per-image one: load before timing.
    if (files.length > 0) await pool.read(await decodeImage(files[0]!)).catch(() => undefined);
    let lines = 0;
    let found = 0;
    const cers: number[] = [];
    const latencies: number[] = [];
    for (const [i, item] of manifest.items.entries()) {
      const started = performance.now();
      let recognised: string[] = [];
      try {
        recognised = (await pool.read(await decodeImage(files[i]!))).map((l) => l.text);
      } catch (err) {
        // An image the system cannot read counts as nothing recognised.
        ctx.progress(`${item.image}: ${errorMessage(err)}`);
      }
      latencies.push(performance.now() - started);
      const joined = normalizeForScoring(recognised.join(''));
      for (const required of item.lines) {
        lines++;
        const hit = joined.includes(normalizeForScoring(required));
        if (hit) found++;
        else ctx.progress(`${item.image}: missed "${required}" (read ${JSON.stringify(recognised)})`);
        cers.push(lineCer(required, recognised));
      }
    }
    return { lines, lineRecall: ratio(found, lines), cer: mean(cers), msPerImage: mean(latencies) };
  },
};
