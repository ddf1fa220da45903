// Per-caller rate limits on /graphql: a token bucket per API key (per client address for callers
// without a valid key, so guessing keys is throttled too). An empty bucket answers 429
// RATE_LIMITED with the seconds until the next request would pass, in extensions.retryAfter and
// in a Retry-After header.
import type { NextFunction, Request, Response } from 'express';
import type { Role } from '../config.js';
import { rateLimitedRequests } from '../observability/metrics.js';

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Buckets kept before idle (full) ones are dropped: bounds memory under many client addresses. */
const SWEEP_ABOVE = 10_000;

/** Takes one token for a caller: 0 when the request may go ahead, else seconds until it could. */
export interface RateBuckets {
  take(key: string): number | Promise<number>;
}

export class TokenBuckets implements RateBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** Takes one token for `key`: 0 when the request may go ahead, else seconds until it could. */
  take(key: string): number {
    const now = this.nowMs();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedMs: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedMs) / 1000) * this.ratePerSec);
    bucket.updatedMs = now;
    if (!this.buckets.has(key)) {
      if (this.buckets.size >= SWEEP_ABOVE) this.sweep(now);
      this.buckets.set(key, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / this.ratePerSec;
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedMs) / 1000) * this.ratePerSec >= this.burst) this.buckets.delete(key);
    }
  }
}

/** Whose bucket a request draws from: its API key when valid, else its client address. */
export function rateLimitKey(req: Request, apiKeys: ReadonlyMap<string, Role>): string {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  if (bearer && apiKeys.has(bearer)) return `key:${bearer}`;
  return `addr:${req.socket.remoteAddress ?? 'unknown'}`;
}

/**
 * @param buckets this process's (TokenBuckets), or with several serving processes the primary's,
 *   reached over IPC, so a caller's limit holds whichever worker its connections land on.
 */
export function rateLimit(opts: { buckets: RateBuckets; apiKeys: ReadonlyMap<string, Role> }) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const taken = opts.buckets.take(rateLimitKey(req, opts.apiKeys));
    if (typeof taken === 'number') return answer(taken, res, next);
    taken.then((waitSec) => answer(waitSec, res, next), next);
  };
}

function answer(waitSec: number, res: Response, next: NextFunction): void {
  if (waitSec === 0) return next();
  // Whole seconds, rounded up: retrying after that many seconds succeeds.
  const retryAfter = Math.max(1, Math.ceil(waitSec));
  rateLimitedRequests.inc();
  res.setHeader('Retry-After', String(retryAfter));
  res.status(429).json({
    errors: [{ message: `rate limit exceeded: retry in ${retryAfter} s`, extensions: { code: 'RATE_LIMITED', retryAfter } }],
  });
}
