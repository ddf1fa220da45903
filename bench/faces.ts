// Face model speed on this machine: detector (+landmarks) per 720p frame and embedder per face,
// on photos from ../shared/data/faces_deepface fitted into 1280×720 frames (a synthetic frame
// when the data is absent). Prints one JSON line.
//   node dist/bench/faces.js [--frames 30] [--model-dir DIR]
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadFaceModels } from '../src/models/faces/index.js';
import type { RawImage } from '../src/models/types.js';

const WIDTH = 1280;
const HEIGHT = 720;

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

async function frameFrom(input: string | Buffer): Promise<RawImage> {
  const { data, info } = await sharp(input)
    .rotate()
    .resize(WIDTH, HEIGHT, { fit: 'contain', background: '#202020' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
}

async function frames(count: number): Promise<{ frames: RawImage[]; source: string }> {
  const dir = path.resolve(repoRoot(), '../shared/data/faces_deepface');
  if (!existsSync(dir)) {
    const noise = await sharp({ create: { width: WIDTH, height: HEIGHT, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
      .png()
      .toBuffer();
    return { frames: [await frameFrom(noise)], source: 'synthetic noise frame (../shared/data absent)' };
  }
  const files = readdirSync(dir)
    .flatMap((person) => readdirSync(path.join(dir, person)).map((f) => path.join(dir, person, f)))
    .sort()
    .slice(0, count);
  return { frames: await Promise.all(files.map(frameFrom)), source: 'faces_deepface photos fitted into 1280x720' };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { frames: { type: 'string', default: '30' }, 'model-dir': { type: 'string' } } });
  const loadStart = performance.now();
  const { detector, embedder } = await loadFaceModels({ modelDir: values['model-dir'] ?? null });
  const loadMs = performance.now() - loadStart;
  const { frames: images, source } = await frames(Math.max(1, Number(values.frames)));

  // One untimed pass so lazy initialisation inside onnxruntime does not count.
  const warm = await detector.detect(images[0]!);
  if (warm[0]) await embedder.embed(images[0]!, warm[0]);

  let detectMs = 0;
  let embedMs = 0;
  let faces = 0;
  for (const image of images) {
    const t0 = performance.now();
    const found = await detector.detect(image);
    const t1 = performance.now();
    for (const face of found) await embedder.embed(image, face);
    detectMs += t1 - t0;
    embedMs += performance.now() - t1;
    faces += found.length;
  }
  const round = (n: number): number => Math.round(n * 100) / 100;
  console.log(
    JSON.stringify({
      bench: 'faces',
      detector: detector.modelId,
      embedder: embedder.modelId,
      source,
      frames: images.length,
      faces,
      modelLoadMs: round(loadMs),
      detectMsPerFrame720p: round(detectMs / images.length),
      embedMsPerFace: faces ? round(embedMs / faces) : null,
      totalMsPerFrame720p: round((detectMs + embedMs) / images.length),
    }),
  );
}

await main();
