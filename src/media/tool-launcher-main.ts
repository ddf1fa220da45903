// The tool launcher: a small Node process that starts ffmpeg/ffprobe for the process that forked
// it (tool-launcher.ts). Node starts a child by forking the whole parent: from the ~0.9 GB
// image-search process one ffmpeg start blocked its event loop ~0.1–0.4 s and cost ~76 ms CPU,
// from a ~40 MB process a few ms. It imports Node's built-ins alone, so it stays that small.
// A run starts once its request (IPC) and all its pipe connections (tool-launcher-protocol.ts)
// arrived; ffmpeg gets those sockets as its stdout, stderr and pipe:3…, and this process keeps no
// copy, so output flows straight to the parent. The parent gone (IPC closed): every run is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { PIPE_HEADER_BYTES, readPipeHeader, type LauncherReply, type LauncherRequest, type SpawnRequest } from './tool-launcher-protocol.js';

/** A run whose pipes did not all arrive by then is given up: the parent's connections failed. */
const PIPES_WAIT_MS = 30_000;
/** More pipes than ffmpeg is ever given (stdout, stderr and one per decode output). */
const MAX_PIPES = 64;

interface Run {
  request: SpawnRequest | null;
  pipes: net.Socket[];
  arrived: number;
  child: ChildProcess | null;
  /** Killed before it started: it never will; late pipes are closed. */
  cancelled: boolean;
  timer: NodeJS.Timeout;
}

const runs = new Map<number, Run>();
let token = '';

function reply(message: LauncherReply): void {
  if (process.connected) process.send?.(message);
}

function runOf(id: number): Run {
  let run = runs.get(id);
  if (!run) {
    run = { request: null, pipes: [], arrived: 0, child: null, cancelled: false, timer: setTimeout(() => giveUp(id), PIPES_WAIT_MS) };
    runs.set(id, run);
  }
  return run;
}

function closePipes(run: Run): void {
  for (const pipe of run.pipes) pipe?.destroy();
}

function giveUp(id: number): void {
  const run = runs.get(id);
  if (!run || run.child) return;
  closePipes(run);
  runs.delete(id);
  if (!run.cancelled) reply({ kind: 'error', id, message: 'its pipes did not reach the tool launcher' });
}

function startIfComplete(id: number, run: Run): void {
  if (!run.request || run.child || run.arrived < run.request.pipes) return;
  clearTimeout(run.timer);
  const { command, args } = run.request;
  let child: ChildProcess;
  try {
    if (run.arrived !== run.request.pipes || run.pipes.length !== run.arrived) throw new Error(`pipes do not match the request's ${run.request.pipes}`);
    child = spawn(command, args, { stdio: ['ignore', ...run.pipes] });
  } catch (err) {
    closePipes(run);
    runs.delete(id);
    return reply({ kind: 'error', id, message: err instanceof Error ? err.message : String(err) });
  }
  // ffmpeg holds its own copies of the sockets; ours would keep them open past its exit.
  closePipes(run);
  run.child = child;
  if (child.pid !== undefined) reply({ kind: 'spawned', id, pid: child.pid });
  child.once('error', (err) => {
    runs.delete(id);
    reply({ kind: 'error', id, message: err.message });
  });
  child.once('exit', (code, signal) => {
    runs.delete(id);
    reply({ kind: 'exit', id, code, signal });
  });
}

function addPipe(id: number, pipe: number, socket: net.Socket): void {
  const run = runOf(id);
  if (run.cancelled || run.child || pipe >= MAX_PIPES || run.pipes[pipe]) return void socket.destroy();
  run.pipes[pipe] = socket;
  run.arrived++;
  startIfComplete(id, run);
}

/** Reads a connection's header, then files the socket under its run. */
function acceptPipe(socket: net.Socket): void {
  socket.on('error', () => socket.destroy());
  socket.setTimeout(PIPES_WAIT_MS, () => socket.destroy());
  const onReadable = (): void => {
    const header = socket.read(PIPE_HEADER_BYTES) as Buffer | null;
    if (header === null) return;
    socket.off('readable', onReadable);
    socket.setTimeout(0);
    const named = readPipeHeader(header.toString('latin1'), token);
    if (!named) return void socket.destroy();
    addPipe(named.id, named.pipe, socket);
  };
  socket.on('readable', onReadable);
}

function kill(id: number): void {
  const run = runs.get(id);
  if (!run) return;
  if (run.child) {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    return;
  }
  run.cancelled = true;
  closePipes(run);
  reply({ kind: 'exit', id, code: null, signal: 'SIGKILL' });
}

function stopEverything(): void {
  for (const run of runs.values()) {
    if (run.child && run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  }
  process.exit(0);
}

const server = net.createServer(acceptPipe);
server.on('error', (err) => {
  process.stderr.write(`tool launcher: ${err.message}\n`);
  process.exit(1);
});

process.on('message', (message: LauncherRequest) => {
  if (message.kind === 'setup') {
    token = message.token;
    server.listen(message.address, () => reply({ kind: 'ready' }));
  } else if (message.kind === 'spawn') {
    const run = runOf(message.id);
    run.request = message;
    startIfComplete(message.id, run);
  } else if (message.kind === 'kill') {
    kill(message.id);
  }
});
process.on('disconnect', stopEverything);
process.on('SIGTERM', stopEverything);
// Ctrl-C reaches the whole process group: the parent decides when this process goes (it closes IPC).
process.on('SIGINT', () => undefined);
