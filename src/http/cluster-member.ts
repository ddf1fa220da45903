// What a serving worker of `vidsearch serve --workers N` needs of the cluster (the primary is in
// src/commands/serve-cluster.ts): its admission share (image searches are admitted by the
// image-search process instead, see image-admission.ts), the rate-limit buckets every worker shares
// (held by the primary: a caller's connections may land on any worker), /metrics summed over
// every worker, and how many workers serve, for /readyz.
import type { AdmissionKind, WorkerShare } from './admission.js';
import { callPrimary } from './cluster-ipc.js';
import { ADMITTED_BY_IMAGE_PROCESS } from './image-admission.js';
import type { RateBuckets } from './rate-limit.js';

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
export const PRIMARY_METHODS = { takeToken: 'rate.take', metrics: 'metrics', status: 'status' } as const;

export function joinCluster(share: WorkerShare): ClusterMember {
  return {
    share,
    admittedElsewhere: ADMITTED_BY_IMAGE_PROCESS,
    buckets: { take: (key) => callPrimary<number>(PRIMARY_METHODS.takeToken, key) },
    metrics: () => callPrimary<string>(PRIMARY_METHODS.metrics),
    status: () => callPrimary<ClusterStatus>(PRIMARY_METHODS.status),
  };
}
