// ONNX Runtime sessions, loaded once per process and shared by every caller, and the model
// manifest: which npm package ships each model file, under which licence, with which sha256.
// A file whose hash differs from the manifest is refused, so an upgraded package can never
// silently change the vectors we store.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import manifestJson from './manifest.json' with { type: 'json' };

export interface ModelManifestEntry {
  /** Stable id recorded with every vector the model makes. */
  id: string;
  /** npm package that ships the file. */
  package: string;
  /** Path of the file inside the package. */
  file: string;
  licence: string;
  sha256: string;
  /** What the model is and where the package took it from. */
  note?: string;
}

export class ModelIntegrityError extends Error {
  override name = 'ModelIntegrityError';
}

// ONNX Runtime 1.30 on Linux starts Microsoft's telemetry client with its first session: it sends
// usage events and leaves an empty mat-debug-<pid>.log in the temp folder per process. The native
// library reads this variable when that first session opens; set here, on the thread that loads
// the models or starts their worker threads (a worker's own process.env never reaches native code).
process.env.ORT_DISABLE_TELEMETRY ??= '1';

const manifest: readonly ModelManifestEntry[] = manifestJson.models;
const require = createRequire(import.meta.url);

export function manifestEntry(id: string): ModelManifestEntry {
  const entry = manifest.find((m) => m.id === id);
  if (!entry) throw new ModelIntegrityError(`model ${id} is not in src/models/manifest.json`);
  return entry;
}

export function listManifest(): readonly ModelManifestEntry[] {
  return manifest;
}

/** Absolute path of a manifest model's file inside its installed package. */
export function manifestModelPath(id: string): string {
  const entry = manifestEntry(id);
  // Node's own search path for the package, without require.resolve: a package whose
  // "exports" hides package.json (or that has no main) still resolves.
  const packageDir = (require.resolve.paths(entry.package) ?? [])
    .map((dir) => path.join(dir, entry.package))
    .find((dir) => existsSync(path.join(dir, 'package.json')));
  if (!packageDir) throw new ModelIntegrityError(`model ${id} needs the npm package ${entry.package}, which is not installed`);
  return path.join(packageDir, entry.file);
}

export async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** A manifest model's file, after checking its sha256 against the manifest (ModelIntegrityError when it differs). */
export async function verifiedManifestModelPath(id: string): Promise<string> {
  const file = manifestModelPath(id);
  const expected = manifestEntry(id).sha256;
  const actual = await sha256File(file);
  if (actual !== expected) throw new ModelIntegrityError(`${file} has sha256 ${actual}, the manifest expects ${expected}`);
  return file;
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

/**
 * One cached session per file (and per expected hash). `expectedSha256`, when given, is checked
 * before the session is created; a mismatch rejects and is not cached, so a fixed file loads on
 * the next call.
 */
export function loadOnnxSession(file: string, expectedSha256?: string): Promise<ort.InferenceSession> {
  const key = `${path.resolve(file)}#${expectedSha256 ?? ''}`;
  let session = sessions.get(key);
  if (!session) {
    session = (async () => {
      const bytes = await readFile(file);
      if (expectedSha256) {
        const actual = createHash('sha256').update(bytes).digest('hex');
        if (actual !== expectedSha256) {
          throw new ModelIntegrityError(`${file} has sha256 ${actual}, the manifest expects ${expectedSha256}`);
        }
      }
      // Two cores are shared with ffmpeg and other stages: one intra-op thread per session
      // keeps inference from starving the decoder.
      return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 });
    })();
    sessions.set(key, session);
    session.catch(() => sessions.delete(key));
  }
  return session;
}

/**
 * A session for a model built in memory (e.g. converted at load). Not cached here: the caller
 * owns the one instance. ONNX Runtime runs it on its own threads, off the event loop.
 */
export function createOnnxSession(bytes: Uint8Array, intraOpNumThreads = 1): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads, interOpNumThreads: 1, logSeverityLevel: 3 });
}

/** Session of a manifest model, its sha256 verified at load. */
export function loadManifestSession(id: string): Promise<ort.InferenceSession> {
  return loadOnnxSession(manifestModelPath(id), manifestEntry(id).sha256);
}

export { ort };
