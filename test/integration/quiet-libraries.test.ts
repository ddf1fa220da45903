// Third-party libraries stay quiet: a fresh process (`npm test` builds dist first) that loads the
// nsfwjs MobileNet (tfjs reads the Keras model, ONNX Runtime runs it on a worker thread) and runs
// one picture prints nothing, neither nsfwjs's "You're using the model" nor tfjs's backend advice,
// and leaves nothing in its temp folder (ONNX Runtime's telemetry wrote mat-debug-<pid>.log there).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/shared-data.js';

const MODEL_MODULE = pathToFileURL(path.join(repoRoot, 'dist/src/models/nsfwjs-mobilenet.js')).href;
const SCRIPT = `
const { loadNsfwjsMobileNet, NSFWJS_INPUT } = await import(${JSON.stringify(MODEL_MODULE)});
const model = await loadNsfwjsMobileNet();
const [out] = await model.infer([new Float32Array(NSFWJS_INPUT * NSFWJS_INPUT * 3).fill(0.5)]);
if (out.probabilities.length !== 5) throw new Error('unexpected output');
process.exit(0);
`;

let dir = '';
let temp = '';
let script = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vidsearch-quiet-'));
  temp = path.join(dir, 'tmp');
  await mkdir(temp);
  // A file, not `node -e`: worker threads inherit the parent's flags, and --input-type breaks them.
  script = path.join(dir, 'load-model.mjs');
  await writeFile(script, SCRIPT);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('third-party libraries', () => {
  it('print no banner and leave no file in the temp folder', { timeout: 180_000 }, async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: temp };
    delete env.ORT_DISABLE_TELEMETRY; // this test process may have set it: the child must do so itself
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, [script], { env, cwd: repoRoot, timeout: 170_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, output: stdout + stderr }),
      );
    });
    expect(output).toBe('');
    expect(code).toBe(0);
    expect(await readdir(temp)).toEqual([]);
  });
});
