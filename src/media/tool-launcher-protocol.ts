// What the tool launcher (tool-launcher-main.ts) and the process it starts tools for
// (tool-launcher.ts) say to each other. Requests and replies cross the IPC channel; a tool's
// pipes (stdout, stderr, pipe:3, …) are Unix socket connections the parent opens to the launcher,
// each led by a header naming the tool run and the pipe, so ffmpeg writes straight to the parent.
import { randomBytes } from 'node:crypto';

/** The parent's first message: where to listen and the secret every connection must name. */
export interface LauncherSetup {
  kind: 'setup';
  address: string;
  token: string;
}

/** Start `command` once its `pipes` connections (stdout, stderr, then the extra outputs) arrived. */
export interface SpawnRequest {
  kind: 'spawn';
  id: number;
  command: string;
  args: readonly string[];
  pipes: number;
}

/** SIGKILL the run (or, not started yet, never start it). */
export interface KillRequest {
  kind: 'kill';
  id: number;
}

export type LauncherRequest = LauncherSetup | SpawnRequest | KillRequest;

export type LauncherReply =
  | { kind: 'ready' }
  | { kind: 'spawned'; id: number; pid: number }
  | { kind: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null }
  /** The run could not start (spawn's error, or its pipes never arrived). */
  | { kind: 'error'; id: number; message: string };

const TOKEN_HEX = 32;
const ID_HEX = 12;
const PIPE_HEX = 4;
export const PIPE_HEADER_BYTES = TOKEN_HEX + ID_HEX + PIPE_HEX;

/** The first bytes on a pipe connection: token, run id and pipe index, in fixed-width hex. */
export function pipeHeader(token: string, id: number, pipe: number): string {
  return `${token}${id.toString(16).padStart(ID_HEX, '0')}${pipe.toString(16).padStart(PIPE_HEX, '0')}`;
}

/** The run and pipe a header names, or null when its token is not `token` (or it is malformed). */
export function readPipeHeader(header: string, token: string): { id: number; pipe: number } | null {
  if (header.length !== PIPE_HEADER_BYTES || header.slice(0, TOKEN_HEX) !== token) return null;
  const id = Number.parseInt(header.slice(TOKEN_HEX, TOKEN_HEX + ID_HEX), 16);
  const pipe = Number.parseInt(header.slice(TOKEN_HEX + ID_HEX), 16);
  return Number.isInteger(id) && Number.isInteger(pipe) ? { id, pipe } : null;
}

/** A fresh secret of the header's width. */
export function newToken(): string {
  return randomBytes(TOKEN_HEX / 2).toString('hex');
}
