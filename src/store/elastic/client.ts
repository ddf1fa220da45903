// The Elasticsearch client every adapter shares, and how its errors are read: which answers mean
// "not there", which mean "busy, try again" (429 rejected execution, 503 unavailable) and the
// exponential back-off those get.
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, errors } from '@elastic/elasticsearch';

export interface ElasticOptions {
  url: string;
  apiKey?: string | null;
  /** Index/alias prefix, so several deployments can share one cluster. */
  prefix?: string;
  /** Transport retries for connection errors and 502/503/504 (immediate, across nodes). */
  maxRetries?: number;
  requestTimeoutMs?: number;
}

export function elasticClient(options: ElasticOptions): Client {
  return new Client({
    node: options.url,
    ...(options.apiKey ? { auth: { apiKey: options.apiKey } } : {}),
    maxRetries: options.maxRetries ?? 3,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
  });
}

function statusOf(err: unknown): number | null {
  return err instanceof errors.ResponseError ? err.statusCode ?? null : null;
}

export function isNotFound(err: unknown): boolean {
  return statusOf(err) === 404;
}

export function errorType(err: unknown): string | null {
  if (!(err instanceof errors.ResponseError)) return null;
  const body: unknown = err.body;
  if (typeof body !== 'object' || body === null || !('error' in body)) return null;
  const { error } = body as { error?: { type?: unknown } };
  return typeof error?.type === 'string' ? error.type : null;
}

/** The cluster is overloaded or a shard is briefly unavailable: the same request can succeed later. */
export function isBusy(err: unknown): boolean {
  const status = statusOf(err);
  return status === 429 || status === 503;
}

export interface Backoff {
  retries: number;
  /** First wait; each retry doubles it (with jitter) up to maxMs. */
  baseMs: number;
  maxMs: number;
}

/** What every repository's `open` takes besides the client. */
export interface ElasticRepositoryOptions {
  /** Index/alias prefix, so several deployments can share one cluster. */
  prefix?: string;
  backoff?: Backoff;
}

export const DEFAULT_BACKOFF: Backoff = { retries: 5, baseMs: 250, maxMs: 8_000 };

export function backoffDelayMs(backoff: Backoff, attempt: number): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** attempt);
  // Full jitter on the upper half: concurrent writers that were rejected together spread out.
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Runs an idempotent request, retrying 429/503 answers with exponential back-off. The transport's
 * own retries only cover connection errors and 502-504, without waiting between attempts.
 */
export async function withBackoff<T>(request: () => Promise<T>, backoff: Backoff = DEFAULT_BACKOFF): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await request();
    } catch (err) {
      if (attempt >= backoff.retries || !isBusy(err)) throw err;
      await sleep(backoffDelayMs(backoff, attempt));
    }
  }
}
