// Child processes for ffmpeg/ffprobe: spawned without a shell (by this process, or by the small
// launcher of tool-launcher.ts once one runs), with a timeout and AbortSignal, stderr kept (its
// tail) for error messages, and stdout either collected or streamed in fixed-size records (raw
// frames, PCM) so no frame ever goes through a temp file.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Logger } from '../logger.js';
import { RecordAssembler } from './record-assembler.js';
import { createToolLauncher, type SpawnedTool, type ToolEnd, type ToolLauncher } from './tool-launcher.js';

const STDERR_TAIL_CHARS = 4000;
const DEFAULT_STALL_MS = 120_000;

export interface ProcessOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with every complete stderr line (e.g. showinfo frame times). */
  onStderrLine?(line: string): void;
  /** Called once the process has ended and every stderr line was delivered. */
  onClose?(): void;
  /** Extra output pipes the tool writes to as `pipe:3`, `pipe:4`, … (one decode, several outputs). */
  extraOutputs?: number;
}

/** Someone watching which tools start (tests and benches count decodes per video). */
export type ToolSpawnListener = (command: string, args: readonly string[]) => void;
const spawnListeners = new Set<ToolSpawnListener>();

/** Calls `listener` for every ffmpeg/ffprobe started from now on; returns the unsubscribe. */
export function watchToolSpawns(listener: ToolSpawnListener): () => void {
  spawnListeners.add(listener);
  return () => spawnListeners.delete(listener);
}

/** ffmpeg/ffprobe ended badly: non-zero exit, timeout or killed. */
export class MediaProcessError extends Error {
  override name = 'MediaProcessError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly timedOut = false,
  ) {
    super(message);
  }
}

/** The error to throw when a signal aborted work: its reason when that is an Error. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const err = new Error(`aborted${reason === undefined ? '' : `: ${String(reason)}`}`);
  err.name = 'AbortError';
  return err;
}

function describe(command: string): string {
  return command.split('/').pop() ?? command;
}

/**
 * One running tool. `exited` settles when the process ends: resolves on exit code 0, rejects with
 * MediaProcessError otherwise (or with the abort reason when the signal fired).
 */
export interface RunningTool {
  stdout: Readable;
  /** The readable ends of `extraOutputs` (pipe:3 first). */
  outputs: Readable[];
  exited: Promise<void>;
  stderrTail(): string;
  kill(): void;
}

/** undefined: none asked for; null: asked for, none can run here. */
let launcher: ToolLauncher | null | undefined;

/**
 * Starts ffmpeg/ffprobe through a small launcher process from now on (tool-launcher.ts), where
 * one can run. Call it while this process is still small: the launcher is forked from it.
 */
export function launchToolsFromSmallProcess(log: Pick<Logger, 'warn' | 'error'>, script?: string): ToolLauncher | null {
  if (launcher === undefined) launcher = createToolLauncher(log, script);
  return launcher;
}

/** Ends the launcher (tools start directly again); its running tools are killed. */
export async function stopToolLauncher(): Promise<void> {
  const stopping = launcher;
  launcher = undefined;
  await stopping?.stop();
}

/** A tool started by this process itself (no launcher, or none ready yet). */
function spawnDirectly(command: string, args: readonly string[], extraOutputs: number): SpawnedTool {
  const extra = Array.from({ length: extraOutputs }, () => 'pipe' as const);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe', ...extra] });
  const ended = new Promise<ToolEnd>((resolve) => {
    child.once('error', (err) => resolve({ kind: 'not-started', message: err.message }));
    child.once('close', (code, signal) => resolve({ kind: 'exited', code, signal }));
  });
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return { stdout: child.stdout!, stderr: child.stderr!, outputs: child.stdio.slice(3) as Readable[], kill, ended };
}

/** Why a tool ended badly, as MediaProcessError; null when it exited with code 0. */
function failureOf(command: string, end: ToolEnd, tail: string, timeoutMs: number | undefined, timedOut: boolean): MediaProcessError | null {
  if (end.kind === 'not-started') return new MediaProcessError(`${describe(command)} could not start: ${end.message}`, null, '');
  if (end.kind === 'lost') return new MediaProcessError(`${describe(command)} ${end.message}`, null, tail);
  if (end.code === 0) return null;
  const why = timedOut ? `timed out after ${timeoutMs} ms` : end.code === null ? `killed by ${end.signal}` : `exited with code ${end.code}`;
  const lastLines = tail.trim().split('\n').slice(-3).join(' | ');
  return new MediaProcessError(`${describe(command)} ${why}${lastLines ? `: ${lastLines}` : ''}`, end.code, tail, timedOut);
}

export function startTool(command: string, args: readonly string[], opts: ProcessOptions): RunningTool {
  if (opts.signal?.aborted) throw abortError(opts.signal);
  for (const listener of spawnListeners) listener(command, args);
  const extraOutputs = opts.extraOutputs ?? 0;
  const tool = launcher?.spawn(command, args, extraOutputs) ?? spawnDirectly(command, args, extraOutputs);
  let tail = '';
  let partialLine = '';
  let timedOut = false;
  tool.stderr.setEncoding('utf8');
  tool.stderr.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-STDERR_TAIL_CHARS);
    if (!opts.onStderrLine) return;
    const lines = (partialLine + chunk).split(/\r?\n|\r/);
    partialLine = lines.pop() ?? '';
    for (const line of lines) opts.onStderrLine(line);
  });
  const timer = opts.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        tool.kill();
      }, opts.timeoutMs)
    : null;
  const onAbort = (): void => tool.kill();
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const exited = tool.ended.then((end) => {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    if (partialLine && opts.onStderrLine) opts.onStderrLine(partialLine);
    opts.onClose?.();
    if (opts.signal?.aborted) throw abortError(opts.signal);
    const failure = failureOf(command, end, tail, opts.timeoutMs, timedOut);
    if (failure) throw failure;
  });
  // Callers that stream may stop listening early; the rejection is still observed there.
  exited.catch(() => undefined);
  return { stdout: tool.stdout, outputs: tool.outputs, exited, stderrTail: () => tail, kill: () => tool.kill() };
}

/** Runs a tool to the end and returns its whole stdout. */
export async function runTool(command: string, args: readonly string[], opts: ProcessOptions = {}): Promise<Buffer> {
  const tool = startTool(command, args, opts);
  const chunks: Buffer[] = [];
  tool.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  await tool.exited;
  return Buffer.concat(chunks);
}

/**
 * Runs a tool and yields its stdout cut into records of exactly `recordBytes` (one raw frame,
 * one block of samples). A trailing partial record is yielded only when `allowPartialTail`.
 * Leaving the loop early kills the process.
 */
export async function* streamToolRecords(
  command: string,
  args: readonly string[],
  recordBytes: number,
  opts: ProcessOptions & { allowPartialTail?: boolean; stallTimeoutMs?: number } = {},
): AsyncGenerator<Buffer> {
  // A whole-run timeout cannot fit a stream of unknown length; a stream that stops moving can.
  const stallMs = opts.stallTimeoutMs ?? DEFAULT_STALL_MS;
  let stalled = false;
  const tool = startTool(command, args, opts);
  let stallTimer: NodeJS.Timeout | null = null;
  const watch = (): void => {
    if (stallTimer) clearTimeout(stallTimer);
    stallTimer = setTimeout(() => {
      stalled = true;
      tool.kill();
    }, stallMs);
  };
  const records = new RecordAssembler(recordBytes);
  try {
    watch();
    for await (const chunk of tool.stdout as AsyncIterable<Buffer>) {
      watch();
      for (const record of records.push(chunk)) {
        // The consumer may keep the record after the next one arrives (RecordAssembler). The
        // clock stops while the consumer works: a slow consumer is not a stalled ffmpeg.
        if (stallTimer) clearTimeout(stallTimer);
        yield record;
        watch();
      }
    }
    await tool.exited.catch((err: unknown) => {
      if (stalled) throw new MediaProcessError(`${describe(command)} produced nothing for ${stallMs} ms`, null, tool.stderrTail(), true);
      throw err;
    });
    const tail = records.tail();
    if (tail && opts.allowPartialTail) yield tail;
  } finally {
    if (stallTimer) clearTimeout(stallTimer);
    tool.kill();
  }
}
