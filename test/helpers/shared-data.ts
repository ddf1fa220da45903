// Locates ../shared/data (the real media the tests use). Tests never copy these files into the
// repo; when the folder is absent they skip with a visible message.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDataDir = path.resolve(repoRoot, '../shared/data');

/** Absolute path of a file under ../shared/data, or null (with a console note) when it is absent. */
export function sharedData(relativePath: string): string | null {
  const file = path.join(sharedDataDir, relativePath);
  if (existsSync(file)) return file;
  console.warn(`[skip] ../shared/data/${relativePath} is absent; tests that need it are skipped`);
  return null;
}
