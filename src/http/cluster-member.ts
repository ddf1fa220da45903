// What a serving worker of `vidsearch serve --workers N` needs of the cluster (the primary is in
// src/commands/serve-cluster.ts): its admission share (image searches are admitted by the
// image-search process instead, see image-admission.ts), the rate-limit buckets every worker shares
// (held by the primary: a caller's connections may land on any worker; a worker leases a few tokens
// per call, rate-limit.ts's LeasedBuckets, not one round trip per request), /metrics summed over
// every worker, and how many workers serve, for /readyz.
import type { AdmissionKind, WorkerShare } from './admission.js';
import { callPrimary } from './cluster-ipc.js';
import { ADMITTED_BY_IMAGE_PROCESS } from './image-admission.js';
import { LeasedBuckets, leaseSize, type RateBuckets, type TokenLease } from './rate-limit.js';

export interface ClusterStatus {
  /** Workers answering HTTP now. */
  serving: number;
  /** Workers the server runs when none is being replaced. */
  configured: number;
  /** Workers that died and were started again since the server started. */
  replaced: number;
  /** The image-search process: loading its CNN and frame matrices (image searches wait), or answering. */
  imageSearch: 'loading' | 'ready';
}

export interface ClusterMember {
  share: WorkerShare;
  /** Kinds admitted where their work runs, for every worker at once (image searches: image-admission.ts). */
  admittedElsewhere: readonly AdmissionKind[];
  buckets: RateBuckets;
  /** Every worker's metrics in the Prometheus text format, summed (gauges of one shared value: their maximum). */
  metrics(): Promise<string>;
  status(): Promise<ClusterStatus>;
}

/** The primary's method names (answered in src/commands/serve-cluster.ts). */
export const PRIMARY_METHODS = { leaseTokens: 'rate.lease', metrics: 'metrics', status: 'status' } as const;

/** What a worker asks of the primary's rate-limit buckets: up to `want` tokens of `key`. */
export interface LeaseRequest {
  key: string;
  want: number;
}

/** @param rateBurst the configured burst (VIDSEARCH_RATE_BURST): the primary's buckets hold it, leases are parts of it. */
export function joinCluster(share: WorkerShare, rateBurst: number): ClusterMember {
  return {
    share,
    admittedElsewhere: ADMITTED_BY_IMAGE_PROCESS,
    buckets: new LeasedBuckets((key, want) => callPrimary<TokenLease>(PRIMARY_METHODS.leaseTokens, { key, want } satisfies LeaseRequest), leaseSize(rateBurst, share.size)),
    metrics: () => callPrimary<string>(PRIMARY_METHODS.metrics),
    status: () => callPrimary<ClusterStatus>(PRIMARY_METHODS.status),
  };
}
