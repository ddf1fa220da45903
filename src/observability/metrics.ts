// Prometheus metrics (prom-client), served at GET /metrics: GraphQL latency per root field,
// refused requests, indexing stage durations, finished jobs, queue depth by status, and the
// process metrics (RSS, CPU, event-loop lag, GC). One registry per process: stages and the HTTP
// layer record into it without being handed it, as a scraper sees one process.
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { JobStatus } from '../domain.js';

export const metricsRegistry = new Registry();
/**
 * The event-loop lag histogram samples the loop every this many ms. prom-client's default, 10 ms,
 * wakes every process 100 times a second: ~6–7 ms of CPU a second each, idle or not (a bare
 * Node process here: 8.0 ms/s at 10, 2.5 at 50, 0.4 without the monitor), i.e. ~25 ms/s for the
 * four processes of `serve --workers 2`. A stall longer than this is still always seen.
 */
const EVENT_LOOP_SAMPLE_MS = 50;
collectDefaultMetrics({ register: metricsRegistry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

export const graphqlDuration = new Histogram({
  name: 'vidsearch_graphql_request_duration_seconds',
  help: 'GraphQL request latency by root field (the first one of the operation) and outcome',
  labelNames: ['field', 'outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

export const rejectedQueries = new Counter({
  name: 'vidsearch_graphql_rejected_total',
  help: 'GraphQL operations refused before execution, by the limit they broke (depth, complexity)',
  labelNames: ['limit'] as const,
  registers: [metricsRegistry],
});

export const rateLimitedRequests = new Counter({
  name: 'vidsearch_rate_limited_total',
  help: 'Requests answered 429 RATE_LIMITED',
  registers: [metricsRegistry],
});

export const stageDuration = new Histogram({
  name: 'vidsearch_index_stage_duration_seconds',
  help: 'Indexing stage run time by stage and outcome (done, failed, aborted, timeout)',
  labelNames: ['stage', 'outcome'] as const,
  buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
  registers: [metricsRegistry],
});

export const finishedJobs = new Counter({
  name: 'vidsearch_index_jobs_finished_total',
  help: 'Indexing jobs that left this worker, by outcome (succeeded, failed, requeued, cancelled)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

/** Where queue depth is read from at scrape time (the store of the serving process). */
let queueSource: { countByStatus(): Promise<Record<JobStatus, number>> } | null = null;

export const jobsByStatus = new Gauge({
  name: 'vidsearch_jobs',
  help: 'Indexing jobs in the queue by status (QUEUED is the queue depth)',
  labelNames: ['status'] as const,
  registers: [metricsRegistry],
  // Every serving process reads the same shared queue: summed over workers it would count each job N times.
  aggregator: 'max',
  async collect() {
    this.reset();
    if (!queueSource) return;
    const counts = await queueSource.countByStatus();
    for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
  },
});

/** Reports this job queue's depth at scrape time; returns the undo. */
export function watchJobQueue(jobs: { countByStatus(): Promise<Record<JobStatus, number>> }): () => void {
  queueSource = jobs;
  return () => {
    if (queueSource === jobs) queueSource = null;
  };
}

/** A registry's metrics as plain objects (getMetricsAsJSON), as they cross a process boundary. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** Metrics an indexing process records: what a process that runs indexing in children forwards. */
export function isIndexingMetric(metric: { name: string }): boolean {
  return metric.name.startsWith('vidsearch_index_');
}

/**
 * Metrics recorded in processes this one started (indexing children, src/jobs/child-runner.ts),
 * reported as this process's own: a scraper sees one server, whichever process ran the stage.
 * A Registry so a cluster worker can hand it to prom-client's AggregatorRegistry beside its own.
 */
class ForwardedMetrics extends Registry {
  readonly sources = new Set<() => Promise<MetricsSnapshot>>();

  override async getMetricsAsJSON(): Promise<MetricsSnapshot> {
    const snapshots = await Promise.all([...this.sources].map((source) => source()));
    if (snapshots.length === 0) return [];
    return (await AggregatorRegistry.aggregate(snapshots).getMetricsAsJSON()) as MetricsSnapshot;
  }
}

export const forwardedMetrics = new ForwardedMetrics();

/** Adds `source`'s metrics to this process's /metrics; returns the undo. */
export function forwardMetrics(source: () => Promise<MetricsSnapshot>): () => void {
  forwardedMetrics.sources.add(source);
  return () => forwardedMetrics.sources.delete(source);
}

/** This process's metrics in the Prometheus text format, with those forwarded from its children. */
export async function processMetrics(): Promise<string> {
  if (forwardedMetrics.sources.size === 0) return metricsRegistry.metrics();
  const snapshots = await Promise.all([metricsRegistry.getMetricsAsJSON(), forwardedMetrics.getMetricsAsJSON()]);
  return AggregatorRegistry.aggregate(snapshots).metrics();
}
