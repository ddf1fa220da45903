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

/** Tokens handed out at once: `granted` ≥ 1, or 0 and the seconds until one would be there. */
export interface TokenLease {
  granted: number;
  waitSec: number;
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
    return this.lease(key, 1).waitSec;
  }

  /** Takes up to `want` whole tokens for `key` at once (as many as it holds); none: the seconds until one. */
  lease(key: string, want: number): TokenLease {
    const now = this.nowMs();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedMs: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedMs) / 1000) * this.ratePerSec);
    bucket.updatedMs = now;
    if (!this.buckets.has(key)) {
      if (this.buckets.size >= SWEEP_ABOVE) this.sweep(now);
      this.buckets.set(key, bucket);
    }
    const granted = Math.min(Math.max(1, Math.floor(want)), Math.floor(bucket.tokens));
    if (granted >= 1) {
      bucket.tokens -= granted;
      return { granted, waitSec: 0 };
    }
    return { granted: 0, waitSec: (1 - bucket.tokens) / this.ratePerSec };
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
 *   leased over IPC a few tokens at a time (LeasedBuckets), so a caller's limit holds whichever
 *   worker its connections land on.
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

/** A worker's leased tokens are forfeited after this long: tokens a caller left on a worker it no longer reaches return to its bucket's budget. */
export const LEASE_MS = 1_000;
/** At most this many tokens per lease: one IPC round trip per this many requests at most. */
const MAX_LEASE = 64;

/**
 * Tokens a serving worker takes from the primary's buckets per round trip, so one caller's limit
 * (burst and rate, summed over every worker) holds across workers without one IPC call per
 * request. Each lease is at most a quarter of the burst divided among the workers (at least 1):
 * the primary never grants more tokens than its bucket holds, so the configured limit is never
 * exceeded; tokens a worker holds unspent are the most a caller can be refused early, when its
 * connections moved to another worker: (workers − 1) × lease, forfeited after LEASE_MS.
 */
export function leaseSize(burst: number, workers: number): number {
  return Math.min(MAX_LEASE, Math.max(1, Math.floor(burst / (4 * workers))));
}

export class LeasedBuckets implements RateBuckets {
  private readonly held = new Map<string, { tokens: number; expiresMs: number }>();
  /** One lease call in flight per key: callers that find the tokens spent wait for it instead of each asking. */
  private readonly leasing = new Map<string, Promise<TokenLease>>();

  constructor(
    private readonly leaseFromPrimary: (key: string, want: number) => Promise<TokenLease>,
    private readonly size: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  take(key: string): number | Promise<number> {
    const held = this.held.get(key);
    if (held && held.tokens >= 1 && held.expiresMs > this.nowMs()) {
      held.tokens -= 1;
      return 0;
    }
    return this.leaseAndTake(key);
  }

  private async leaseAndTake(key: string): Promise<number> {
    const inFlight = this.leasing.get(key);
    if (inFlight) {
      const lease = await inFlight;
      return lease.granted < 1 ? lease.waitSec : this.take(key);
    }
    const call = this.leaseFromPrimary(key, this.size).finally(() => this.leasing.delete(key));
    this.leasing.set(key, call);
    const lease = await call;
    if (lease.granted < 1) {
      this.held.delete(key);
      return lease.waitSec;
    }
    if (this.held.size >= SWEEP_ABOVE) this.sweep();
    this.held.set(key, { tokens: lease.granted - 1, expiresMs: this.nowMs() + LEASE_MS });
    return 0;
  }

  private sweep(): void {
    const now = this.nowMs();
    for (const [key, held] of this.held) if (held.expiresMs <= now) this.held.delete(key);
  }
}
