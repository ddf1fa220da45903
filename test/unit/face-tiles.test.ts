// Tiled face detection (UltraFaceDetector, options.tiles): a fake network that "detects" bright
// squares at least MIN_INPUT_PX wide in ITS 320×240 input, like the real one misses faces that
// the whole-frame pass shrinks too far. Tiles must find such a face, map it back to image pixels,
// and a face lying across a tile edge must come back once.
import type * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { UltraFaceDetector } from '../../src/models/faces/ultraface.js';
import type { RawImage } from '../../src/models/types.js';

const W = 320;
const H = 240;
const MIN_INPUT_PX = 10;

/** Bounding box of the bright pixels of the input (channel 0 above 0.9), when wide enough. */
const fakeDetector = {
  async run(feeds: Record<string, { data: Float32Array }>) {
    const data = feeds.input!.data;
    let x1 = W, y1 = H, x2 = -1, y2 = -1;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        if (data[y * W + x]! > 0.9) {
          x1 = Math.min(x1, x); y1 = Math.min(y1, y); x2 = Math.max(x2, x + 1); y2 = Math.max(y2, y + 1);
        }
      }
    }
    const found = x2 - x1 >= MIN_INPUT_PX && y2 - y1 >= MIN_INPUT_PX;
    return {
      scores: { data: Float32Array.from(found ? [0, 0.99] : [1, 0]) },
      boxes: { data: Float32Array.from(found ? [x1 / W, y1 / H, x2 / W, y2 / H] : [0, 0, 0, 0]) },
    };
  },
} as unknown as ort.InferenceSession;
const fakeLandmarks = { run: async () => ({ output: { data: new Float32Array(136).fill(0.5) } }) } as unknown as ort.InferenceSession;

function frameWithSquare(x: number, y: number, side: number): RawImage {
  const width = 640;
  const height = 360;
  const data = new Uint8Array(width * height * 3).fill(40);
  for (let row = y; row < y + side; row++) data.fill(255, (row * width + x) * 3, (row * width + x + side) * 3);
  return { data, width, height, channels: 3 };
}

describe('tiled face detection', () => {
  const detector = new UltraFaceDetector(fakeDetector, fakeLandmarks, 'fake', { retryMargin: 0 });

  it('finds a face the whole-frame pass shrinks below the network, in image pixels', async () => {
    const image = frameWithSquare(420, 250, 14);
    expect(await detector.detect(image)).toHaveLength(0);
    const [face, ...rest] = await detector.detect(image, { tiles: 2 });
    expect(rest).toHaveLength(0);
    expect(face!.box.x).toBeCloseTo(420, -1);
    expect(face!.box.y).toBeCloseTo(250, -1);
    expect(face!.box.width).toBeCloseTo(14, -1);
  });

  it('returns a face across a tile edge once', async () => {
    // Column tiles are 356 px wide and overlap from x = 284 to 356: this face is cut by the
    // first tile's right edge and whole in the second tile.
    const faces = await detector.detect(frameWithSquare(345, 100, 14), { tiles: 2 });
    expect(faces).toHaveLength(1);
    expect(faces[0]!.box.x).toBeCloseTo(345, -1);
  });
});
