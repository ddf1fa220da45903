// Ordinary command-line mistakes, with the real CLI as a child process (`npm test` builds dist
// first): each prints exactly one line `vidsearch: …` on stderr and exits 1 (run time) or 2
// (usage); the stack trace appears only with --verbose or DEBUG.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/shared-data.js';

const CLI = path.join(repoRoot, 'dist/src/cli.js');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dir = '';

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, VIDSEARCH_DATA_DIR: path.join(dir, 'data'), ...env };
  delete childEnv.DEBUG;
  if (env.DEBUG) childEnv.DEBUG = env.DEBUG;
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: childEnv, cwd: dir, timeout: 90_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

/** Exactly one stderr line, `vidsearch: ` + something matching `message`, and the exit code. */
function expectOneLine(outcome: Outcome, message: RegExp, code: number): void {
  expect(outcome.stderr.split('\n').filter(Boolean), outcome.stderr).toHaveLength(1);
  expect(outcome.stderr).toMatch(/^vidsearch: /);
  expect(outcome.stderr).toMatch(message);
  expect(outcome.code).toBe(code);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vidsearch-cli-errors-'));
});
afterAll(async () => {
  await chmod(path.join(dir, 'locked'), 0o755).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('vidsearch command-line errors', () => {
  it('names a missing file in one line and exits 1; --verbose and DEBUG add the stack', async () => {
    const missing = path.join(dir, 'missing.mp4');
    expectOneLine(await cli(['index', missing]), new RegExp(`${missing}: no such file or directory$`, 'm'), 1);
    for (const verbose of [await cli(['index', missing, '--verbose']), await cli(['index', missing], { DEBUG: '1' })]) {
      expect(verbose.code).toBe(1);
      expect(verbose.stderr).toMatch(/^vidsearch: .*no such file or directory\n/);
      expect(verbose.stderr).toMatch(/\n\s+at /);
    }
  });

  it('says a folder holds no videos, exit 1', async () => {
    const empty = path.join(dir, 'no-videos');
    await mkdir(empty, { recursive: true });
    await writeFile(path.join(empty, 'notes.txt'), 'not a video');
    expectOneLine(await cli(['index', empty]), /no video files under/, 1);
  });

  it('refuses a port out of range as a usage error, exit 2, from the option or the environment', async () => {
    expectOneLine(await cli(['serve', '--port', '99999']), /--port.*99999.*port number from 0 to 65535/, 2);
    expectOneLine(await cli(['serve'], { VIDSEARCH_PORT: '99999' }), /VIDSEARCH_PORT must be a number from 0 to 65535/, 2);
    expectOneLine(await cli(['serve', '--bogus']), /unknown option '--bogus'/, 2);
  });

  describe('with a port in use', () => {
    let taken: Server;
    beforeAll(async () => {
      taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

    it('says which port is taken, exit 1', async () => {
      const { port } = taken.address() as { port: number };
      expectOneLine(await cli(['serve', '--port', String(port), '--no-worker']), new RegExp(`port ${port} on 127.0.0.1 is already in use`), 1);
    });
  });

  it('says the data dir cannot be opened, exit 1', async () => {
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'not a folder');
    expectOneLine(await cli(['serve', '--port', '0'], { VIDSEARCH_DATA_DIR: path.join(file, 'data') }), /cannot open the data dir .*a-file\/data.*not a directory/, 1);
    // Permissions do not stop root, so the unreadable-folder case runs only as another user.
    if (process.getuid?.() === 0) return;
    const locked = path.join(dir, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o000);
    expectOneLine(await cli(['serve', '--port', '0'], { VIDSEARCH_DATA_DIR: path.join(locked, 'data') }), /cannot open the data dir .*locked\/data.*permission denied/, 1);
  });
});
