// `vidsearch eval <manifest>`: runs one task on a fresh temporary embedded store (never the
// user's data) through the real pipeline and services, and returns its metrics.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../app.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { roundMetrics } from './metrics.js';
import { evalTasks } from './registry.js';
import { EvalInputError, type EvalContext } from './types.js';

export async function runEval(
  manifestPath: string,
  baseConfig: Config,
  log: Logger,
  options: Record<string, string | boolean> = {},
): Promise<Record<string, unknown>> {
  const absManifest = path.resolve(manifestPath);
  if (!existsSync(absManifest)) throw new EvalInputError(`manifest not found: ${manifestPath}`);
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(await readFile(absManifest, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new EvalInputError(`manifest ${manifestPath} is not valid JSON: ${(err as Error).message}`);
  }
  const taskName = manifest.task;
  if (typeof taskName !== 'string') throw new EvalInputError('manifest has no "task"');
  const task = evalTasks.get(taskName);
  if (!task) {
    throw new EvalInputError(`unknown or not implemented eval task "${taskName}" (known: ${[...evalTasks.keys()].join(', ')})`);
  }

  const manifestDir = path.dirname(absManifest);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-eval-'));
  // A manifest is the operator's own: the files it names may sit outside its folder (a fixture in
  // the repo naming ../shared/data media), so each named file's folder joins the media roots.
  const mediaRoots = [manifestDir, ...baseConfig.mediaRoots];
  const config: Config = { ...baseConfig, dataDir, mediaRoots };
  const app = await createApp(config, { log });
  const ctx: EvalContext = {
    app,
    options,
    resolve(relativePath: string) {
      const file = path.resolve(manifestDir, relativePath);
      if (!existsSync(file)) throw new EvalInputError(`file named in the manifest is missing: ${relativePath}`);
      if (!mediaRoots.includes(path.dirname(file))) mediaRoots.push(path.dirname(file));
      return file;
    },
    progress(message: string) {
      process.stderr.write(`[eval ${taskName}] ${message}\n`);
    },
    async indexVideos(videos) {
      const ids = new Map<string, string>();
      for (const entry of videos) {
        ctx.progress(`indexing ${entry.path}`);
        ids.set(entry.id, (await app.indexNow({ path: ctx.resolve(entry.path) })).id);
      }
      return ids;
    },
  };
  try {
    const metrics = await task.run(manifest, ctx);
    return roundMetrics({ task: taskName, ...metrics }) as Record<string, unknown>;
  } finally {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
