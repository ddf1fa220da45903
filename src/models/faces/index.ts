// The face models the rest of the project uses, loaded once per process.
// Detector: UltraFace RFB-320 + 68-point landmarks. Embedder: the shipped 512-d ArcFace-style
// network, or a user's ONNX embedder from VIDSEARCH_MODEL_DIR (see README.md for the choice).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadManifestSession, loadOnnxSession, ort, sha256File } from '../runtime.js';
import type { FaceDetector, FaceEmbedder } from '../types.js';
import { ARCFACE_PREPROCESSING, OnnxFaceEmbedder, type EmbedderPreprocessing } from './onnx-embedder.js';
import { UltraFaceDetector } from './ultraface.js';

export { OnnxFaceEmbedder, ARCFACE_PREPROCESSING, type EmbedderPreprocessing } from './onnx-embedder.js';
export { UltraFaceDetector } from './ultraface.js';
export { alignFace, ARCFACE_TEMPLATE_112 } from './align.js';

export const DETECTOR_MODEL_ID = 'ultraface-rfb320';
export const LANDMARK_MODEL_ID = 'faceplugin-landmark68';
export const EMBEDDER_MODEL_ID = 'faceplugin-feature512';

/** File names looked for in the model dir. */
export const USER_EMBEDDER_FILE = 'face-embedder.onnx';
export const USER_EMBEDDER_CONFIG = 'face-embedder.json';

/** The shipped embedder was trained on (pixel − 127) / 128 (the package's own preprocessing). */
const SHIPPED_PREPROCESSING: EmbedderPreprocessing = { inputSize: 112, mean: [127, 127, 127], std: [128, 128, 128] };

export interface FaceModels {
  detector: FaceDetector;
  embedder: FaceEmbedder;
}

export class UserModelError extends Error {
  override name = 'UserModelError';
}

const loaded = new Map<string, Promise<FaceModels>>();

/** Cached per model dir: every caller in the process shares one set of sessions. */
export function loadFaceModels(opts: { modelDir: string | null }): Promise<FaceModels> {
  const key = opts.modelDir ?? '';
  let models = loaded.get(key);
  if (!models) {
    models = (async () => ({ detector: await loadShippedDetector(), embedder: await loadEmbedder(opts.modelDir) }))();
    loaded.set(key, models);
    models.catch(() => loaded.delete(key));
  }
  return models;
}

async function loadShippedDetector(): Promise<FaceDetector> {
  const [detect, landmarks] = await Promise.all([loadManifestSession(DETECTOR_MODEL_ID), loadManifestSession(LANDMARK_MODEL_ID)]);
  return new UltraFaceDetector(detect, landmarks, `${DETECTOR_MODEL_ID}+${LANDMARK_MODEL_ID}`);
}

async function loadEmbedder(modelDir: string | null): Promise<FaceEmbedder> {
  const userFile = modelDir ? path.join(modelDir, USER_EMBEDDER_FILE) : null;
  if (userFile && existsSync(userFile)) return loadUserEmbedder(userFile);
  return new OnnxFaceEmbedder(await loadManifestSession(EMBEDDER_MODEL_ID), EMBEDDER_MODEL_ID, 512, SHIPPED_PREPROCESSING);
}

/**
 * A user's embedder: `face-embedder.onnx` taking [1, 3, S, S] RGB, plus an optional
 * `face-embedder.json` {"inputSize": S, "mean": [r, g, b], "std": [r, g, b]} in 0..255 units
 * (default: 112, ArcFace normalisation). Its id carries the file's hash, so replacing the file
 * is a model change and never mixes vectors of two models.
 */
export async function loadUserEmbedder(file: string): Promise<FaceEmbedder> {
  const configFile = path.join(path.dirname(file), USER_EMBEDDER_CONFIG);
  const preprocessing = existsSync(configFile) ? parsePreprocessing(await readFile(configFile, 'utf8'), configFile) : ARCFACE_PREPROCESSING;
  const hash = await sha256File(file);
  const session = await loadOnnxSession(file, hash);
  // The output size is read from one run on a blank face, since exported graphs often leave it symbolic.
  const size = preprocessing.inputSize;
  const probe = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]) });
  const dim = probe[session.outputNames[0]!]!.data.length;
  if (dim < 2) throw new UserModelError(`${file} returns ${dim} value(s); a face embedder returns a vector`);
  return new OnnxFaceEmbedder(session, `user:${hash.slice(0, 16)}`, dim, preprocessing);
}

function parsePreprocessing(json: string, file: string): EmbedderPreprocessing {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new UserModelError(`${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const fields = (raw ?? {}) as Partial<Record<keyof EmbedderPreprocessing, unknown>>;
  const triple = (value: unknown, fallback: [number, number, number], name: string): [number, number, number] => {
    if (value === undefined) return fallback;
    if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      return value as [number, number, number];
    }
    throw new UserModelError(`${file}: "${name}" must be three numbers`);
  };
  const inputSize = fields.inputSize ?? ARCFACE_PREPROCESSING.inputSize;
  if (typeof inputSize !== 'number' || !Number.isInteger(inputSize) || inputSize < 16 || inputSize > 1024) {
    throw new UserModelError(`${file}: "inputSize" must be an integer between 16 and 1024`);
  }
  const std = triple(fields.std, ARCFACE_PREPROCESSING.std, 'std');
  if (std.some((s) => s === 0)) throw new UserModelError(`${file}: "std" must not contain 0`);
  return { inputSize, mean: triple(fields.mean, ARCFACE_PREPROCESSING.mean, 'mean'), std };
}
