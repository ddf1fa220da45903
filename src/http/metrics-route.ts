// GET /metrics in the Prometheus text format. Like /healthz it needs no API key: scrapers rarely
// carry one, and it reveals counts and timings only, never library content.
import type { Request, Response } from 'express';
import type { Logger } from '../logger.js';
import { metricsRegistry, processMetrics } from '../observability/metrics.js';

/** @param collect this process's metrics (and its indexing children's) by default; with several serving processes, all of theirs. */
export function metricsHandler(log: Logger, collect: () => Promise<string> = processMetrics) {
  return async (_req: Request, res: Response): Promise<void> => {
    try {
      const body = await collect();
      res.setHeader('Content-Type', metricsRegistry.contentType);
      res.end(body);
    } catch (err) {
      log.warn({ err }, 'collecting metrics failed');
      res.status(503).json({ status: 'metrics unavailable' });
    }
  };
}
