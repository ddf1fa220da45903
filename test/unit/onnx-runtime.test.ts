import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFaceModels, loadUserEmbedder, USER_EMBEDDER_CONFIG, USER_EMBEDDER_FILE } from '../../src/models/faces/index.js';
import { listManifest, loadOnnxSession, manifestModelPath, ModelIntegrityError, ort, sha256File } from '../../src/models/runtime.js';
import type { DetectedFace, RawImage } from '../../src/models/types.js';
import { tinyEmbedderModel } from '../helpers/tiny-onnx.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-onnx-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function testImage(width: number, height: number, seed: number): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 97) % 256;
  return { data, width, height, channels: 3 };
}

const centredFace = (size: number): DetectedFace => ({
  box: { x: size / 4, y: size / 4, width: size / 2, height: size / 2 },
  score: 1,
  landmarks: null,
});

describe('tiny ONNX graphs', () => {
  it('builds a Flatten/Gemm/ReduceL2 model that onnxruntime runs', async () => {
    const file = path.join(dir, 'tiny.onnx');
    await writeFile(file, tinyEmbedderModel({ inputShape: [3, 4, 4], dim: 5 }));
    const session = await loadOnnxSession(file);
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['embedding', 'norm']);
    const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(48).fill(1), [1, 3, 4, 4]) });
    const embedding = Array.from(out.embedding!.data as Float32Array);
    expect(embedding).toHaveLength(5);
    expect(out.norm!.data[0]).toBeCloseTo(Math.hypot(...embedding), 4);
  });
});

describe('loadOnnxSession', () => {
  it('returns the same session for the same file', async () => {
    const file = path.join(dir, 'cached.onnx');
    await writeFile(file, tinyEmbedderModel({ inputShape: [2], dim: 2 }));
    expect(await loadOnnxSession(file)).toBe(await loadOnnxSession(file));
  });

  it('refuses a file whose sha256 is not the expected one, and does not cache the failure', async () => {
    const file = path.join(dir, 'tampered.onnx');
    await writeFile(file, tinyEmbedderModel({ inputShape: [2], dim: 2, seed: 7 }));
    const expected = await sha256File(file);
    await expect(loadOnnxSession(file, 'f'.repeat(64))).rejects.toBeInstanceOf(ModelIntegrityError);
    await expect(loadOnnxSession(file, expected)).resolves.toBeDefined();
  });
});

describe('model manifest', () => {
  it('every shipped model file exists and matches its recorded sha256', async () => {
    for (const entry of listManifest()) {
      expect(entry.licence, entry.id).toMatch(/\S/);
      expect(await sha256File(manifestModelPath(entry.id)), entry.id).toBe(entry.sha256);
    }
  });
});

describe('user face embedder from the model dir', () => {
  it('uses face-embedder.onnx with its json preprocessing, id from the hash, L2-normalised output', async () => {
    const modelDir = path.join(dir, 'models');
    await mkdir(modelDir);
    const file = path.join(modelDir, USER_EMBEDDER_FILE);
    await writeFile(file, tinyEmbedderModel({ inputShape: [3, 24, 24], dim: 8 }));
    await writeFile(path.join(modelDir, USER_EMBEDDER_CONFIG), JSON.stringify({ inputSize: 24, mean: [0, 0, 0], std: [255, 255, 255] }));

    const { embedder, detector } = await loadFaceModels({ modelDir });
    expect(embedder.modelId).toBe(`user:${(await sha256File(file)).slice(0, 16)}`);
    expect(embedder.dim).toBe(8);
    expect(detector.modelId).toContain('ultraface');
    expect(await loadFaceModels({ modelDir })).toStrictEqual({ embedder, detector });

    const a = await embedder.embed(testImage(64, 64, 1), centredFace(64));
    const b = await embedder.embed(testImage(64, 64, 2), centredFace(64));
    expect(a).toHaveLength(8);
    expect(Math.hypot(...a)).toBeCloseTo(1, 5);
    expect(Array.from(a)).not.toEqual(Array.from(b));
  });

  it('rejects a json config with a bad input size', async () => {
    const modelDir = path.join(dir, 'bad-config');
    await mkdir(modelDir);
    const file = path.join(modelDir, USER_EMBEDDER_FILE);
    await writeFile(file, tinyEmbedderModel({ inputShape: [3, 24, 24], dim: 8 }));
    await writeFile(path.join(modelDir, USER_EMBEDDER_CONFIG), JSON.stringify({ inputSize: 'big' }));
    await expect(loadUserEmbedder(file)).rejects.toThrow(/inputSize/);
  });

  it('without a model dir, uses the shipped 512-d embedder', async () => {
    const { embedder } = await loadFaceModels({ modelDir: null });
    expect(embedder.modelId).toBe('faceplugin-feature512');
    expect(embedder.dim).toBe(512);
  });
});
