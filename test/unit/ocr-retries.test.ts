// Detection retries (src/models/ocr/retries.ts) with a scripted detector: when they run, which
// views they try, and how boxes found on an enlarged view map back to the original image.
import { describe, expect, it } from 'vitest';
import { OcrEngine } from '../../src/models/ocr/engine.js';
import { CONFIDENT_BOX, detectWithRetries } from '../../src/models/ocr/retries.js';
import type { Quad, TextCrop, TextRecognizer } from '../../src/models/ocr/types.js';
import type { RawImage } from '../../src/models/types.js';

const band: RawImage = { data: new Uint8Array(640 * 108).fill(210), width: 640, height: 108, channels: 1 };

function crop(score: number, left = 100, top = 20, right = 200, bottom = 60): TextCrop {
  const quad: Quad = [[left, top], [right, top], [right, bottom], [left, bottom]];
  return { detection: { quad, score }, image: { data: new Uint8Array(4), width: 2, height: 2, channels: 1 } };
}

/** A detector that answers from a script and records the images it saw. */
function scripted(answers: TextCrop[][]): { detect(image: RawImage): Promise<TextCrop[]>; seen: RawImage[] } {
  const seen: RawImage[] = [];
  return {
    seen,
    detect: async (image) => {
      seen.push(image);
      return answers.shift() ?? [];
    },
  };
}

describe('detection retries', () => {
  it('does not retry when the first look found a confident line', async () => {
    const first = scripted([[crop(CONFIDENT_BOX + 0.05)]]);
    const retry = scripted([]);
    const crops = await detectWithRetries(band, first.detect, retry.detect);
    expect(crops).toHaveLength(1);
    expect(retry.seen).toHaveLength(0);
  });

  it('retries an empty band on the upscaled view and maps its boxes back', async () => {
    const first = scripted([[]]);
    const retry = scripted([[crop(0.97, 200, 40, 400, 120)]]);
    const crops = await detectWithRetries(band, first.detect, retry.detect);
    expect(retry.seen.map((i) => [i.width, i.height])).toEqual([[1280, 216]]);
    expect(crops).toHaveLength(1);
    expect(crops[0]!.detection.quad).toEqual([[100, 20], [200, 20], [200, 60], [100, 60]]);
    // Re-cut from the original: 100 × 40 pixels of it.
    expect([crops[0]!.image.width, crops[0]!.image.height]).toEqual([100, 40]);
  });

  it('tries the inverted view only when the upscaled one found something unsure, and keeps the surest look', async () => {
    const inverted = scripted([[]]);
    await detectWithRetries(band, scripted([[]]).detect, inverted.detect);
    // Upscaled found nothing: the inverted view is not tried.
    expect(inverted.seen).toHaveLength(1);

    const both = scripted([[crop(0.7)], [crop(0.95, 0, 0, 80, 40)]]);
    const crops = await detectWithRetries(band, scripted([[crop(0.65)]]).detect, both.detect);
    expect(both.seen).toHaveLength(2);
    // The inverted view is the upscaled picture turned negative.
    expect(both.seen[1]!.data[0]).toBe(255 - both.seen[0]!.data[0]!);
    expect(crops[0]!.detection.score).toBe(0.95);
    expect(crops[0]!.detection.quad[2]).toEqual([40, 20]);
  });

  it('leaves whole frames alone', async () => {
    const frame: RawImage = { data: new Uint8Array(960 * 540), width: 960, height: 540, channels: 1 };
    const retry = scripted([]);
    expect(await detectWithRetries(frame, scripted([[]]).detect, retry.detect)).toEqual([]);
    expect(retry.seen).toHaveLength(0);
  });
});

describe('OcrEngine read options', () => {
  const recognizer: TextRecognizer = { modelId: 'unused', recognize: async () => [] };
  const detector = (answers: TextCrop[][]) => Object.assign(scripted(answers), { modelId: 'scripted' });

  it('retries and falls back to the whole one-line image by default', async () => {
    const retry = detector([]);
    const engine = new OcrEngine(detector([[]]), recognizer, retry);
    const crops = await engine.detect(band);
    expect(retry.seen).toHaveLength(1);
    expect(crops).toHaveLength(1);
    expect(crops[0]!.detection.score).toBe(0);
    expect(crops[0]!.image).toBe(band);
  });

  it('looks once and reads nothing whole when told not to retry or fall back', async () => {
    const retry = detector([]);
    const engine = new OcrEngine(detector([[]]), recognizer, retry);
    expect(await engine.detect(band, { retry: false, wholeLineFallback: false })).toEqual([]);
    expect(retry.seen).toHaveLength(0);
    // Still retried when only the fallback is off.
    const again = detector([]);
    expect(await new OcrEngine(detector([[]]), recognizer, again).detect(band, { wholeLineFallback: false })).toEqual([]);
    expect(again.seen).toHaveLength(1);
  });
});
