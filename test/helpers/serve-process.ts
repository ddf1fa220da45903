// `vidsearch serve` as a real child process (`node dist/src/cli.js serve`; `npm test` builds dist
// first) for end-to-end tests: started on a free port, its URL read from the line it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './shared-data.js';

export const CLI = path.join(repoRoot, 'dist/src/cli.js');

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `vidsearch serve --port 0` with `env`; resolves once it says where it serves GraphQL. */
export async function startServeProcess(env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${stderr}`)), 60_000);
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      const match = /GraphQL at (http:\/\/\S+)\/graphql/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then(({ code }) => reject(new Error(`server exited (${code}) before serving:\n${stderr}`)));
  });
  return { child, url, stderr: () => stderr, exited };
}

/**
 * Waits until the server's stderr matches `pattern` (its pino logs and its own lines reach the pipe
 * by separate writes, so a log line written first can arrive after the URL line under load).
 */
export async function waitForStderr(life: ServeProcess, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(life.stderr())) {
    if (Date.now() > deadline) throw new Error(`stderr did not match ${pattern} in ${timeoutMs} ms:\n${life.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return life.stderr();
}

/** Posts a GraphQL operation (no API key: the server listens on localhost only); throws on errors. */
export async function gql<T>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

/** Stages this server ran to the end (in itself or its indexing children), from its Prometheus metrics. */
export async function stagesRun(url: string): Promise<string[]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^vidsearch_index_stage_duration_seconds_count\{stage="([a-zA-Z-]+)",outcome="done"\} ([1-9]\d*)$/gm)].map((m) => m[1]!);
}
