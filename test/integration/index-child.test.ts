// Indexing in a child process (src/commands/index-child.ts), as the demo does so that the models
// leave with the child: a failure in the child reaches the parent as the same typed error. Runs the
// compiled child script (`npm test` builds dist first); the success path is the demo's own
// self-check (`demo --once` in .ci/run).
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexInChildProcess } from '../../src/commands/index-child.js';
import { loadConfig } from '../../src/config.js';
import { AppError } from '../../src/errors.js';
import { repoRoot } from '../helpers/shared-data.js';

const CHILD = path.join(repoRoot, 'dist/src/commands/index-child-main.js');
const built = existsSync(CHILD);
if (!built) console.warn(`[skip] ${CHILD} is missing: build with \`npm run build\``);

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vidsearch-index-child-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.runIf(built)('indexing in a child process', () => {
  it('hands the child’s typed error to the parent once the child has exited', { timeout: 60_000 }, async () => {
    const notVideo = path.join(dir, 'notes.mp4');
    await writeFile(notVideo, 'plain text, not a video\n');
    const config = { ...loadConfig({ VIDSEARCH_API_KEYS: 'k1:editor' }), dataDir: path.join(dir, 'data'), mediaRoots: [dir] };
    const failure = await indexInChildProcess({ config, request: { path: notVideo } }, () => undefined, CHILD).then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).code).toBe('UNSUPPORTED_MEDIA');
    expect((failure as AppError).message).toContain(notVideo);
  });
});
