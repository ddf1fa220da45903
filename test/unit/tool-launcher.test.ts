// Tools started through the launcher process (src/media/tool-launcher.ts): the same contract as
// tools started directly (output, errors, timeout, abort), and recovery when the launcher dies.
// The launcher runs from the compiled dist/ build (it is a separate Node program).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamFrames } from '../../src/media/frames.js';
import { launchToolsFromSmallProcess, MediaProcessError, runTool, startTool, stopToolLauncher, streamToolRecords, watchToolSpawns } from '../../src/media/process.js';
import type { ToolLauncher } from '../../src/media/tool-launcher.js';
import { makeTempDir, makeTestVideo, testTools } from '../helpers/media.js';
import { repoRoot } from '../helpers/shared-data.js';

const SCRIPT = path.join(repoRoot, 'dist/src/media/tool-launcher-main.js');
const compiled = existsSync(SCRIPT);
if (!compiled) console.warn('[tool-launcher] no dist/ build (run tsc): launcher tests skipped');

/** A Node one-liner as the tool: its stdout, stderr and exit are whatever the test needs. */
const node = (code: string): [string, string[]] => [process.execPath, ['-e', code]];
const PRINT_PARENT = 'process.stdout.write(String(process.ppid))';
/** Prints its pid, then sleeps. */
const SLEEPER = "process.stdout.write(String(process.pid) + '\\n'); setTimeout(() => {}, 60000)";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return check();
}

/** Starts SLEEPER and resolves with its pid once it printed it. */
function startSleeper(opts: Parameters<typeof startTool>[2] = {}): { pid: Promise<number>; tool: ReturnType<typeof startTool> } {
  const tool = startTool(...node(SLEEPER), opts);
  const pid = new Promise<number>((resolve) => tool.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  return { pid, tool };
}

describe.skipIf(!compiled)('tool launcher', () => {
  const logged: { warn: string[]; error: string[] } = { warn: [], error: [] };
  const log = pino({ level: 'warn' }, {
    write(line: string) {
      const { level, msg } = JSON.parse(line) as { level: number; msg: string };
      logged[level >= 50 ? 'error' : 'warn'].push(msg);
    },
  });
  let launcher: ToolLauncher;

  beforeEach(async () => {
    logged.warn = [];
    logged.error = [];
    launcher = launchToolsFromSmallProcess(log, SCRIPT)!;
    expect(await launcher.whenReady()).toBe(true);
  });
  afterEach(() => stopToolLauncher());

  it('starts tools from the launcher, not from this process', async () => {
    expect(Number((await runTool(...node(PRINT_PARENT))).toString())).toBe(launcher.pid);
  });

  it('streams ffmpeg output byte for byte as a direct start does, and tells spawn listeners', async () => {
    const args = ['-hide_banner', '-f', 'lavfi', '-i', 'testsrc2=s=64x36:r=25:d=2', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
    const seen: string[] = [];
    const stop = watchToolSpawns((command) => seen.push(command));
    const launched: Buffer[] = [];
    for await (const frame of streamToolRecords(testTools.ffmpeg, args, 64 * 36 * 3)) launched.push(frame);
    stop();
    await stopToolLauncher();
    const direct = await runTool(testTools.ffmpeg, args);
    expect(seen).toEqual([testTools.ffmpeg]);
    expect(launched).toHaveLength(50);
    expect(Buffer.concat(launched).equals(direct)).toBe(true);
  });

  it('decodes frames with the same times and pixels as a direct start (stdout and showinfo lines on stderr)', async () => {
    const { dir, cleanup } = await makeTempDir();
    try {
      const clip = (await makeTestVideo({ dir, durationSec: 2, cuts: [1] })).path;
      const decode = async () => {
        const frames: { time: number; data: Buffer }[] = [];
        for await (const f of streamFrames(testTools, clip, { start: 0.5, end: 1.5, width: 64, pixFmt: 'rgb24' })) frames.push({ time: f.time, data: Buffer.from(f.data) });
        return frames;
      };
      const launched = await decode();
      await stopToolLauncher();
      const direct = await decode();
      expect(launched.length).toBeGreaterThan(20);
      expect(launched).toEqual(direct);
    } finally {
      await cleanup();
    }
  });

  it('delivers stderr lines and extra outputs (pipe:3)', async () => {
    const lines: string[] = [];
    const tool = startTool(...node("process.stderr.write('one\\ntwo'); require('fs').writeSync(3, 'three')"), { extraOutputs: 1, onStderrLine: (l) => lines.push(l) });
    const third: Buffer[] = [];
    tool.outputs[0]!.on('data', (c: Buffer) => third.push(c));
    tool.stdout.resume();
    await tool.exited;
    expect(lines).toEqual(['one', 'two']);
    expect(Buffer.concat(third).toString()).toBe('three');
  });

  it('turns a failing exit and a missing binary into MediaProcessError', async () => {
    const failed = await runTool(...node("process.stderr.write('bad input\\n'); process.exit(3)")).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(MediaProcessError);
    expect(failed).toMatchObject({ exitCode: 3, stderr: 'bad input\n' });
    expect((failed as Error).message).toMatch(/exited with code 3: bad input/);
    const missing = await runTool('/nonexistent/ffmpeg', ['-version']).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MediaProcessError);
    expect((missing as Error).message).toMatch(/ffmpeg could not start: .*ENOENT/);
  });

  it('kills a tool that runs past its timeout', async () => {
    const started = Date.now();
    const { pid, tool } = startSleeper({ timeoutMs: 3000 });
    const err = await tool.exited.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaProcessError);
    expect(err).toMatchObject({ timedOut: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    // Started within the 3 s (a loaded machine may take that long to start Node): gone now.
    const sleeper = await Promise.race([pid, new Promise<null>((resolve) => setTimeout(() => resolve(null), 100))]);
    if (sleeper !== null) expect(alive(sleeper)).toBe(false);
  });

  it('kills a tool when its signal aborts, rejecting with the reason', async () => {
    const controller = new AbortController();
    const { pid, tool } = startSleeper({ signal: controller.signal });
    const sleeper = await pid;
    controller.abort(new Error('stop now'));
    await expect(tool.exited).rejects.toThrow('stop now');
    expect(alive(sleeper)).toBe(false);
  });

  it('fails the runs of a launcher that died, kills their tools and starts a new launcher', async () => {
    const { pid, tool } = startSleeper();
    const sleeper = await pid;
    const first = launcher.pid!;
    process.kill(first, 'SIGKILL');
    const err = await tool.exited.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaProcessError);
    expect((err as Error).message).toMatch(/tool launcher stopped \(SIGKILL\)/);
    expect(await until(() => !alive(sleeper))).toBe(true);
    expect(logged.warn).toHaveLength(1);
    expect(await launcher.whenReady()).toBe(true);
    expect(launcher.pid).not.toBe(first);
    expect(Number((await runTool(...node(PRINT_PARENT))).toString())).toBe(launcher.pid);
  });

  it('starts tools directly, with an error logged, after the launcher died too often', async () => {
    for (let death = 0; death <= 3; death++) {
      expect(await launcher.whenReady()).toBe(true);
      process.kill(launcher.pid!, 'SIGKILL');
      await until(() => launcher.pid === null || logged.warn.length > death, 5000);
    }
    expect(await launcher.whenReady()).toBe(false);
    expect(logged.warn).toHaveLength(3);
    expect(logged.error).toHaveLength(1);
    expect(Number((await runTool(...node(PRINT_PARENT))).toString())).toBe(process.pid);
  });

  it('stops with its tools when asked', async () => {
    const { pid, tool } = startSleeper();
    const sleeper = await pid;
    const launcherPid = launcher.pid!;
    await stopToolLauncher();
    await expect(tool.exited).rejects.toBeInstanceOf(MediaProcessError);
    expect(await until(() => !alive(sleeper) && !alive(launcherPid))).toBe(true);
  });

  it('goes, with its tools, when the process that started it exits', async () => {
    const processModule = path.join(repoRoot, 'dist/src/media/process.js');
    const program = `
      const { launchToolsFromSmallProcess, startTool } = await import(${JSON.stringify(processModule)});
      const launcher = launchToolsFromSmallProcess(console, ${JSON.stringify(SCRIPT)});
      await launcher.whenReady();
      const tool = startTool(process.execPath, ['-e', ${JSON.stringify(SLEEPER)}], {});
      tool.stdout.once('data', (pid) => { console.log(launcher.pid, String(pid).trim()); process.exit(0); });`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', program]);
    const [launcherPid, sleeper] = stdout.trim().split(' ').map(Number);
    expect(await until(() => !alive(launcherPid!) && !alive(sleeper!))).toBe(true);
  });
});
