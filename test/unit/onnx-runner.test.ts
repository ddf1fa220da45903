// The ONNX runner: a model built by a named export of a module, run in this thread (vitest) or on
// a worker thread (the compiled build): outputs, a builder that fails, a thread that ends.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOnnxRunner, type ModelBuilder } from '../../src/models/onnx/runner.js';
import { repoRoot } from '../helpers/shared-data.js';

const compiledRunner = path.join(repoRoot, 'dist/src/models/onnx/runner.js');
const compiledProto = path.join(repoRoot, 'dist/src/models/onnx/proto.js');

let dir: string;
let doubler: ModelBuilder;
let broken: ModelBuilder;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidsearch-onnx-runner-'));
  // Plain JS, so a worker thread can load it too; it writes its model with the compiled proto.ts
  // when there is one (the thread cannot load TypeScript), else with the source (this thread).
  const proto = existsSync(compiledProto) ? compiledProto : path.join(repoRoot, 'src/models/onnx/proto.ts');
  const module = path.join(dir, 'builders.mjs');
  await writeFile(
    module,
    `import { buildOnnxModel } from ${JSON.stringify(pathToFileURL(proto).href)};
export function doubler() {
  return buildOnnxModel({
    inputs: [{ name: 'input', shape: ['n', 3] }],
    outputs: [{ name: 'out', shape: ['n', 3] }],
    initializers: [{ name: 'two', dims: [], values: [2] }],
    nodes: [{ opType: 'Mul', inputs: ['input', 'two'], outputs: ['out'] }],
  });
}
export function broken() { throw new Error('no weights here'); }
`,
  );
  doubler = { module: pathToFileURL(module).href, exportName: 'doubler' };
  broken = { module: pathToFileURL(module).href, exportName: 'broken' };
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function expectRunnerBehaviour(open: typeof openOnnxRunner): Promise<void> {
  const runner = await open(doubler);
  const { out } = await runner.run({ input: { data: Float32Array.from([1, 2, 3, 4, 5, 6]), dims: [2, 3] } });
  expect(out!.dims).toEqual([2, 3]);
  expect([...out!.data]).toEqual([2, 4, 6, 8, 10, 12]);
  await expect(open(broken)).rejects.toThrow(/no weights here/);
  await expect(open({ ...doubler, exportName: 'missing' })).rejects.toThrow(/no function missing/);
  await runner.close();
  await runner.ended;
}

describe('ONNX runner', () => {
  it('runs a built model in this thread, and reports builders that fail', async () => {
    await expectRunnerBehaviour(openOnnxRunner);
  });

  it('runs it on a worker thread in the compiled build; a closed thread refuses further runs', async () => {
    if (!existsSync(compiledRunner)) return console.warn('[onnx-runner] no dist/ build (run tsc): worker thread check skipped');
    const compiled = (await import(pathToFileURL(compiledRunner).href)) as { openOnnxRunner: typeof openOnnxRunner };
    await expectRunnerBehaviour(compiled.openOnnxRunner);
    const runner = await compiled.openOnnxRunner(doubler);
    await runner.close();
    await runner.ended;
    await expect(runner.run({ input: { data: new Float32Array(3), dims: [1, 3] } })).rejects.toThrow(/exited/);
  });
});
