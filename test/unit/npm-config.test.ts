// The project's npm setup as npm itself reports it: no warning about the project's configuration
// (an unknown .npmrc key, an engine Node 20 does not satisfy), every dependency install script
// reviewed in package.json's allowScripts, and onnxruntime-node's script (it would download CUDA
// libraries) not run on a rebuild. Reads the output of the npm on PATH; skips, saying so, when that
// npm predates allowScripts (11.16).
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/shared-data.js';

interface NpmOutput {
  stdout: string;
  stderr: string;
}

/** npm as a user's shell runs it: without the npm_* variables of an enclosing `npm test`. */
function npm(args: string[]): Promise<NpmOutput> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
  return new Promise((resolve, reject) => {
    execFile('npm', args, { cwd: repoRoot, env, timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`npm ${args.join(' ')} failed: ${err.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    );
  });
}

const warnings = (output: NpmOutput): string[] => output.stderr.split('\n').filter((line) => /^npm (warn|WARN)/.test(line));

async function npmSupportsAllowScripts(): Promise<boolean> {
  const [major = 0, minor = 0] = (await npm(['--version'])).stdout.trim().split('.').map(Number);
  const supported = major > 11 || (major === 11 && minor >= 16);
  if (!supported) console.warn(`[skip] npm ${major}.${minor} predates allowScripts (11.16): npm config checks skipped`);
  return supported;
}

describe('npm configuration of the project', async () => {
  const supported = await npmSupportsAllowScripts();

  // npm reads the whole installed tree: ~7 s of CPU each, minutes on a loaded machine.
  it.runIf(supported)('reviews every install script and warns about nothing', { timeout: 300_000 }, async () => {
    const listed = await npm(['install-scripts', 'ls', '--json']);
    expect(warnings(listed)).toEqual([]);
    expect((JSON.parse(listed.stdout) as { allowScripts: unknown[] }).allowScripts).toEqual([]);
    // A dry-run install reads the project's config and checks every locked package's engines.
    expect(warnings(await npm(['install', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund']))).toEqual([]);
  });

  it.runIf(supported)('never runs onnxruntime-node’s CUDA download', { timeout: 300_000 }, async () => {
    const rebuilt = await npm(['rebuild', 'onnxruntime-node', '--foreground-scripts']);
    const output = rebuilt.stdout + rebuilt.stderr;
    expect(output).not.toMatch(/onnxruntime-node@[\d.]+ postinstall|script\/install|nuget/i);
    expect(output).toMatch(/rebuilt dependencies successfully/);
    expect(warnings(rebuilt)).toEqual([]);
  });
});
