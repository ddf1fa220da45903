// Rate limits with several serving workers: each worker leases a few tokens at a time from the
// primary's buckets (one IPC round trip per lease, not per request). What must hold whatever
// worker each request lands on: never more than the configured burst passes, a caller whose
// requests all reach one worker gets the whole limit, and at most (workers − 1) × lease tokens sit
// unspent on other workers (forfeited after LEASE_MS).
import { describe, expect, it } from 'vitest';
import { LEASE_MS, LeasedBuckets, leaseSize, TokenBuckets } from '../../src/http/rate-limit.js';
import { seededRandom } from '../../src/seeded-random.js';

/** A primary's buckets and `workers` workers leasing from them (the IPC call made direct), counting the calls. */
function cluster(opts: { ratePerSec: number; burst: number; workers: number; now: () => number }) {
  const primary = new TokenBuckets(opts.ratePerSec, opts.burst, opts.now);
  const size = leaseSize(opts.burst, opts.workers);
  let calls = 0;
  const workers = Array.from({ length: opts.workers }, () => new LeasedBuckets(async (key, want) => (calls++, primary.lease(key, want)), size, opts.now));
  return { workers, size, calls: () => calls };
}

const passes = async (taken: number | Promise<number>): Promise<boolean> => (await taken) === 0;

describe('TokenBuckets.lease', () => {
  it('grants as many whole tokens as asked and held, else the wait for one', () => {
    let now = 0;
    const buckets = new TokenBuckets(2, 5, () => now);
    expect(buckets.lease('a', 3)).toEqual({ granted: 3, waitSec: 0 });
    expect(buckets.lease('a', 3)).toEqual({ granted: 2, waitSec: 0 });
    expect(buckets.lease('a', 3).granted).toBe(0);
    now = 250; // half a token back
    expect(buckets.lease('a', 3)).toEqual({ granted: 0, waitSec: 0.25 });
    now = 1_000;
    expect(buckets.lease('a', 3)).toEqual({ granted: 2, waitSec: 0 });
  });
});

describe('LeasedBuckets', () => {
  it('sizes leases to a quarter of the burst over the workers, between 1 and 64', () => {
    expect(leaseSize(60, 2)).toBe(7);
    expect(leaseSize(3, 2)).toBe(1);
    expect(leaseSize(1_000_000, 2)).toBe(64);
  });

  it('never lets more than the burst through across workers, in any order, and at most one lease per worker less', async () => {
    const random = seededRandom(3);
    for (let round = 0; round < 50; round++) {
      const { workers, size } = cluster({ ratePerSec: 0.001, burst: 40, workers: 3, now: () => 0 });
      let passed = 0;
      for (let i = 0; i < 80; i++) if (await passes(workers[Math.floor(random() * workers.length)]!.take('key:a'))) passed++;
      expect(passed).toBeLessThanOrEqual(40);
      expect(passed).toBeGreaterThanOrEqual(40 - (workers.length - 1) * size);
    }
  });

  it('gives a caller whose requests all reach one worker the whole burst, with one call per lease', async () => {
    const { workers, size, calls } = cluster({ ratePerSec: 0.001, burst: 40, workers: 2, now: () => 0 });
    const answers = [];
    for (let i = 0; i < 45; i++) answers.push(await workers[0]!.take('key:a'));
    expect(answers.filter((a) => a === 0)).toHaveLength(40);
    expect(answers.slice(40).every((a) => a > 0)).toBe(true);
    expect(calls()).toBeLessThanOrEqual(Math.ceil(40 / size) + 5);
    // Another caller's bucket is its own.
    expect(await workers[1]!.take('key:b')).toBe(0);
  });

  it('asks once for callers arriving together, and forfeits unspent tokens after LEASE_MS', async () => {
    let now = 0;
    const { workers, calls } = cluster({ ratePerSec: 1, burst: 40, workers: 1, now: () => now });
    const together = await Promise.all(Array.from({ length: 8 }, () => workers[0]!.take('key:a')));
    expect(together).toEqual(Array(8).fill(0));
    expect(calls()).toBe(1);
    // The lease held 10 tokens, 2 unspent; after LEASE_MS they are gone and the next take leases anew
    // from a bucket that refilled LEASE_MS × 1 token/s.
    now = LEASE_MS + 1;
    expect(await workers[0]!.take('key:a')).toBe(0);
    expect(calls()).toBe(2);
  });

  it('holds the configured rate over time, summed over workers', async () => {
    let now = 0;
    const { workers } = cluster({ ratePerSec: 20, burst: 60, workers: 2, now: () => now });
    let passed = 0;
    // 10 s of one request every 5 ms (200/s offered), alternating workers.
    for (let i = 0; i < 2_000; i++) {
      now = i * 5;
      if (await passes(workers[i % 2]!.take('key:a'))) passed++;
    }
    // At most burst + rate × 10 s; a lease per worker may be left unspent at the end.
    expect(passed).toBeLessThanOrEqual(60 + 20 * 10);
    expect(passed).toBeGreaterThanOrEqual(60 + 20 * 10 - 2 * leaseSize(60, 2));
  });
});
