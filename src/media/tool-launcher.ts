// Starting ffmpeg/ffprobe from a big process without forking it. Node (libuv on Linux) starts a
// child by fork + exec, which copies the parent's page tables with its event loop blocked: from
// the ~0.9 GB image-search process a start cost ~76 ms CPU and ~0.1–0.4 s of blocked loop, against
// a few ms from a small one. So a small launcher process (tool-launcher-main.ts), forked while
// this one is still small, starts the tools; their pipes are Unix socket connections this process
// opens, so the output reaches it directly (tool-launcher-protocol.ts).
// A launcher that dies fails the runs it held (their ffmpeg killed) and is started again, at most
// MAX_RESTARTS times; after that, or while it is starting, process.ts starts tools directly.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';
import { newToken, pipeHeader, type LauncherReply, type LauncherRequest } from './tool-launcher-protocol.js';

/** Launcher deaths tolerated before tools start directly again (a launcher that cannot live). */
const MAX_RESTARTS = 3;

/** How a tool run ended. */
export type ToolEnd =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'not-started'; message: string }
  /** The launcher died (or a pipe to it broke) during the run. */
  | { kind: 'lost'; message: string };

/** A started ffmpeg/ffprobe, however it was started. */
export interface SpawnedTool {
  stdout: Readable;
  stderr: Readable;
  /** pipe:3, pipe:4, … */
  outputs: Readable[];
  /** SIGKILL, unless it already ended. */
  kill(): void;
  /** Settles once the tool ended and every pipe closed. */
  ended: Promise<ToolEnd>;
}

/** One run through the launcher: its pipe sockets, and the launcher's word on how it ended. */
class LaunchedRun implements SpawnedTool {
  readonly stdout: net.Socket;
  readonly stderr: net.Socket;
  readonly outputs: net.Socket[];
  readonly ended: Promise<ToolEnd>;
  private pid: number | null = null;
  private outcome: ToolEnd | null = null;
  private failure: string | null = null;
  private openPipes: number;
  private killSent = false;
  private settle!: (end: ToolEnd) => void;

  constructor(
    address: string,
    token: string,
    private readonly id: number,
    pipes: number,
    private readonly send: (request: LauncherRequest) => void,
  ) {
    this.ended = new Promise((resolve) => (this.settle = resolve));
    this.openPipes = pipes;
    const sockets = Array.from({ length: pipes }, (_, pipe) => {
      const socket = net.connect(address);
      socket.write(pipeHeader(token, id, pipe));
      socket.on('error', (err) => this.pipeFailed(err));
      socket.once('close', () => {
        this.openPipes--;
        this.settleIfDone();
      });
      return socket;
    });
    [this.stdout, this.stderr, ...this.outputs] = sockets as [net.Socket, net.Socket, ...net.Socket[]];
  }

  private get pipes(): net.Socket[] {
    return [this.stdout, this.stderr, ...this.outputs];
  }

  kill(): void {
    if (this.outcome || this.killSent) return;
    this.killSent = true;
    this.send({ kind: 'kill', id: this.id });
  }

  onReply(reply: LauncherReply): void {
    if (reply.kind === 'spawned') this.pid = reply.pid;
    else if (reply.kind === 'exit') this.outcome ??= { kind: 'exited', code: reply.code, signal: reply.signal };
    else if (reply.kind === 'error') {
      this.outcome ??= { kind: 'not-started', message: reply.message };
      for (const pipe of this.pipes) pipe.destroy();
    }
    this.settleIfDone();
  }

  /** The launcher died: the run is over, its ffmpeg (if started) too. */
  lost(message: string): void {
    if (this.outcome) return;
    this.outcome = { kind: 'lost', message };
    if (this.pid !== null) killQuietly(this.pid);
    for (const pipe of this.pipes) pipe.destroy();
    this.settleIfDone();
  }

  private pipeFailed(err: Error): void {
    this.failure ??= `lost a pipe to the tool launcher: ${err.message}`;
    this.kill();
  }

  private settleIfDone(): void {
    if (!this.outcome || this.openPipes > 0) return;
    this.settle(this.failure && this.outcome.kind === 'exited' ? { kind: 'lost', message: this.failure } : this.outcome);
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** The launcher process and the runs it holds. */
export class ToolLauncher {
  private child: ChildProcess | null = null;
  private address = '';
  private token = '';
  private ready = false;
  private stopping = false;
  private restarts = 0;
  private nextId = 1;
  private readonly runs = new Map<number, LaunchedRun>();
  private readyWaiters: ((ready: boolean) => void)[] = [];

  constructor(
    private readonly script: string,
    private readonly log: Pick<Logger, 'warn' | 'error'>,
  ) {
    this.launch();
  }

  /** A tool started through the launcher, or null while none is ready (the caller starts it itself). */
  spawn(command: string, args: readonly string[], extraOutputs: number): SpawnedTool | null {
    if (!this.ready || !this.child) return null;
    const id = this.nextId++;
    const run = new LaunchedRun(this.address, this.token, id, 2 + extraOutputs, (request) => this.send(request));
    this.runs.set(id, run);
    // A run in flight keeps this process alive until its end is reported; an idle launcher does not.
    this.child.channel?.ref();
    void run.ended.then(() => {
      this.runs.delete(id);
      if (this.runs.size === 0) this.child?.channel?.unref();
    });
    this.send({ kind: 'spawn', id, command, args, pipes: 2 + extraOutputs });
    return run;
  }

  /** Resolves true once the launcher listens, false if it is stopped or gave up first. */
  whenReady(): Promise<boolean> {
    if (this.ready) return Promise.resolve(true);
    if (!this.child) return Promise.resolve(false);
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** The launcher's process id (tests kill it to check the recovery). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Ends the launcher (its running tools with it); resolves once it has exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child) return;
    child.ref();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // It kills its tools and exits when IPC closes.
    if (child.connected) child.disconnect();
    else child.kill('SIGKILL');
    await exited;
  }

  private send(request: LauncherRequest): void {
    if (this.child?.connected) this.child.send(request);
  }

  private launch(): void {
    this.token = newToken();
    // Linux's abstract socket namespace: nothing on disk to clean up after a crash.
    this.address = `\0vidsearch-tools-${process.pid}-${this.token.slice(0, 12)}`;
    const child = fork(this.script, [], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.child = child;
    // Its IPC keeps this process alive until the launcher is ready, then only while runs are in flight.
    child.unref();
    child.on('message', (reply: LauncherReply) => {
      if (reply.kind === 'ready') {
        if (this.runs.size === 0) child.channel?.unref();
        return this.markReady(true);
      }
      this.runs.get(reply.id)?.onReply(reply);
    });
    // A launcher that could not even start reports 'error' (and maybe no 'exit').
    child.once('error', (err) => this.onLauncherEnd(child, err.message));
    child.once('exit', (code, signal) => this.onLauncherEnd(child, signal ?? `exit code ${code}`));
    this.send({ kind: 'setup', address: this.address, token: this.token });
  }

  private markReady(ready: boolean): void {
    this.ready = ready;
    for (const waiter of this.readyWaiters.splice(0)) waiter(ready);
  }

  private onLauncherEnd(child: ChildProcess, why: string): void {
    if (this.child !== child) return;
    this.child = null;
    this.ready = false;
    for (const run of this.runs.values()) run.lost(`failed: the tool launcher stopped (${why})`);
    if (this.stopping) return this.markReady(false);
    if (this.restarts >= MAX_RESTARTS) {
      this.log.error({ why, restarts: this.restarts }, 'the tool launcher stopped again: ffmpeg starts from this process from now on');
      return this.markReady(false);
    }
    this.restarts++;
    this.log.warn({ why }, 'the tool launcher stopped: starting it again (ffmpeg starts from this process meanwhile)');
    this.launch();
  }
}

/**
 * A launcher for this process, or null where it cannot run: off Linux (its socket names are in
 * Linux's abstract namespace), or with no compiled launcher (tests on the TypeScript sources).
 */
export function createToolLauncher(
  log: Pick<Logger, 'warn' | 'error'>,
  script = fileURLToPath(new URL('./tool-launcher-main.js', import.meta.url)),
): ToolLauncher | null {
  if (process.platform !== 'linux' || !existsSync(script)) return null;
  return new ToolLauncher(script, log);
}
