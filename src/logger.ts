// Structured logs (pino) to stderr: stdout stays free for CLI results such as `vidsearch eval`.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.VIDSEARCH_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'vidsearch' } }, pino.destination(2));
}
