// `vidsearch serve` runs its processes with NODE_ENV=production unless NODE_ENV is set (graphql-js
// and Express skip their development checks then), and keeps a NODE_ENV that is set. Read from
// /proc/<pid>/environ of an HTTP worker (two workers: one alone is served by the primary itself),
// which has it from the primary, set before it forks (Linux only).
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, startServeProcess, type ServeProcess } from '../helpers/serve-process.js';

const started: { server: ServeProcess; root: string }[] = [];

/** NODE_ENV as an HTTP worker of a server started with `nodeEnv` (undefined: none) sees it. */
async function workerNodeEnv(nodeEnv: string | undefined): Promise<string | undefined> {
  const root = await mkdtemp(path.join(tmpdir(), 'vidsearch-serve-env-'));
  const env: NodeJS.ProcessEnv = { ...process.env, VIDSEARCH_DATA_DIR: root, VIDSEARCH_WORKERS: '2', VIDSEARCH_LOG_LEVEL: 'warn', NODE_ENV: nodeEnv };
  if (nodeEnv === undefined) delete env.NODE_ENV;
  const server = await startServeProcess(env);
  started.push({ server, root });
  const health = (await (await fetch(`${server.url}/healthz`)).json()) as { worker: { pid: number } };
  const environ = readFileSync(`/proc/${health.worker.pid}/environ`, 'utf8').split('\0');
  return environ.find((entry) => entry.startsWith('NODE_ENV='))?.slice('NODE_ENV='.length);
}

describe.runIf(process.platform === 'linux')('vidsearch serve NODE_ENV', () => {
  afterAll(async () => {
    for (const { server, root } of started) {
      if (server.child.exitCode === null) server.child.kill('SIGTERM');
      await server.exited;
      await rm(root, { recursive: true, force: true });
    }
  });

  // A NODE_ENV that is set is kept: e2e/cluster.test.ts checks it on its workers (vitest sets 'test').
  it('is production when unset', async () => {
    expect(existsSync(CLI), `${CLI} is missing: run \`npx tsc -p tsconfig.json\``).toBe(true);
    expect(await workerNodeEnv(undefined)).toBe('production');
  }, 120_000);
});
