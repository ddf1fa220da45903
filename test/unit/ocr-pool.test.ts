// The OCR pool's scheduling rule, with fake executors that log what they run: recognition first,
// detection first near the end of the queue, results per image in reading order, errors isolated.
import { describe, expect, it } from 'vitest';
import { OcrWorkPool, type OcrExecutor } from '../../src/models/ocr/pool.js';
import type { Quad, TextCrop, TextLine } from '../../src/models/ocr/types.js';
import type { RawImage } from '../../src/models/types.js';

/** An "image" whose first byte is its id and whose width is its number of lines. */
const image = (id: number, lines: number): RawImage => ({ data: Uint8Array.from([id]), width: lines, height: 1, channels: 1 });
const quadAt = (row: number): Quad => [[0, row * 10], [10, row * 10], [10, row * 10 + 5], [0, row * 10 + 5]];

class LoggingExecutor implements OcrExecutor {
  constructor(private readonly log: string[], private readonly failOn: number | null = null) {}

  async detect(img: RawImage): Promise<TextCrop[]> {
    const id = img.data[0]!;
    this.log.push(`det${id}`);
    await new Promise((r) => setTimeout(r, 5));
    if (id === this.failOn) throw new Error(`cannot read image ${id}`);
    // Lines come out bottom-up so the pool has to restore reading order.
    return Array.from({ length: img.width }, (_, k) => ({
      image: { data: Uint8Array.from([id, img.width - 1 - k]), width: 1, height: 1, channels: 1 },
      detection: { quad: quadAt(img.width - 1 - k), score: 1 },
    }));
  }

  async recognize(crops: readonly TextCrop[]): Promise<TextLine[]> {
    this.log.push(`rec${crops[0]!.image.data[0]}`);
    await new Promise((r) => setTimeout(r, 5));
    return crops.map((c) => ({ text: `${c.image.data[0]}:${c.image.data[1]}`, score: 1, flipped: false, quad: c.detection.quad, detectionScore: 1 }));
  }

  async close(): Promise<void> {}
}

describe('OcrWorkPool', () => {
  it('reads every image, lines in reading order, and skips recognition when nothing is found', async () => {
    const log: string[] = [];
    const pool = new OcrWorkPool([new LoggingExecutor(log), new LoggingExecutor(log)]);
    const results = await Promise.all([pool.read(image(1, 3)), pool.read(image(2, 0)), pool.read(image(3, 8))]);
    expect(results[0]!.map((l) => l.text)).toEqual(['1:0', '1:1', '1:2']);
    expect(results[1]).toEqual([]);
    expect(results[2]!.map((l) => l.text)).toEqual(Array.from({ length: 8 }, (_, k) => `3:${k}`));
    // 8 lines split into two recognition tasks so two workers can share one image.
    expect(pool.stats).toEqual({ detections: 3, recognitions: 3 });
  });

  it('runs recognition before further detection while many images wait', async () => {
    const log: string[] = [];
    const pool = new OcrWorkPool([new LoggingExecutor(log)]);
    await Promise.all([1, 2, 3, 4].map((id) => pool.read(image(id, 1))));
    // One worker, four images: after det1, rec1 goes before det2 (images finish in order)…
    expect(log.slice(0, 3)).toEqual(['det1', 'rec1', 'det2']);
  });

  it('runs detection first once fewer images than workers are left', async () => {
    const log: string[] = [];
    const pool = new OcrWorkPool([new LoggingExecutor(log), new LoggingExecutor(log), new LoggingExecutor(log)]);
    await Promise.all([1, 2, 3, 4].map((id) => pool.read(image(id, 1))));
    // Three workers take det1..det3; when det1 finishes one image is left (fewer than workers),
    // so det4 starts before rec1.
    expect(log.indexOf('det4')).toBeLessThan(log.indexOf('rec1'));
  });

  it('fails only the image whose detection failed', async () => {
    const log: string[] = [];
    const pool = new OcrWorkPool([new LoggingExecutor(log, 2)]);
    const [ok, bad] = await Promise.allSettled([pool.read(image(1, 1)), pool.read(image(2, 1)), pool.read(image(3, 1))]);
    expect(ok.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    expect(await pool.read(image(4, 2))).toHaveLength(2);
  });
});
