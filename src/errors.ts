// Typed errors. Services throw these; the GraphQL layer turns `code` into `extensions.code`
// and CLI commands turn them into a message and exit code. Anything else is INTERNAL_SERVER_ERROR.

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'UNSUPPORTED_MEDIA'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'QUERY_TOO_COMPLEX'
  | 'INTERNAL_SERVER_ERROR';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadInputError extends AppError {
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super('BAD_USER_INPUT', message, extensions);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', `${what} ${id} not found`, { id });
  }
}

export class UnsupportedMediaError extends AppError {
  constructor(message: string) {
    super('UNSUPPORTED_MEDIA', message);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(message: string) {
    super('PAYLOAD_TOO_LARGE', message);
  }
}

/**
 * The machine is not set up as the command needs (a data dir that cannot be opened): the message
 * says what to fix, so the command line prints it without a stack trace.
 */
export class SetupError extends Error {
  override name = 'SetupError';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What the usual system error codes mean, worded like the shell does. */
const SYSTEM_ERROR_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'file exists',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
};

interface SystemError extends Error {
  code: string;
  syscall: string;
  path?: string;
  address?: string;
  port?: number;
}

function isSystemError(err: unknown): err is SystemError {
  const fields = err as { code?: unknown; syscall?: unknown } | null;
  return err instanceof Error && typeof fields?.code === 'string' && typeof fields.syscall === 'string';
}

/**
 * A message a user can act on: system errors say which file or port and what is wrong with it
 * ("/x.mp4: no such file or directory", not "ENOENT: no such file or directory, stat '/x.mp4'");
 * anything else is its own message.
 */
export function userMessage(err: unknown): string {
  if (isSystemError(err)) {
    if (err.syscall === 'listen' && err.code === 'EADDRINUSE') return `port ${err.port} on ${err.address} is already in use`;
    if (err.syscall === 'listen' && err.code === 'EACCES') return `no permission to listen on port ${err.port} of ${err.address}`;
    const text = SYSTEM_ERROR_TEXT[err.code];
    if (text && err.path) return `${err.path}: ${text}`;
  }
  return errorMessage(err);
}
