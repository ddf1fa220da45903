// The HTTP process: POST /graphql (Apollo, CSRF prevention, multipart uploads), health and
// readiness probes, the signed /media routes and the editors' /console page. Everything it serves
// comes from an App.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type Response } from 'express';
import graphqlUploadExpress from 'graphql-upload/graphqlUploadExpress.mjs';
import type { App } from './app.js';
import { consoleRouter } from './console/routes.js';
import { Admission, gateLimitsFrom, watchAdmission } from './http/admission.js';
import type { ClusterMember } from './http/cluster-member.js';
import { createApolloServer } from './http/graphql.js';
import { mediaRouter } from './http/media-routes.js';
import { MediaUrlSigner, loadMediaSecret } from './http/media-urls.js';
import { metricsHandler } from './http/metrics-route.js';
import { rateLimit, TokenBuckets } from './http/rate-limit.js';
import { watchJobQueue } from './observability/metrics.js';
import { createRequestContext } from './resolvers/context.js';
import { buildVidsearchSchema } from './resolvers/schema.js';

/** Largest JSON request body (queries and base64 images). */
const MAX_JSON_BODY = '8mb';
/** Multipart uploads (images, voice samples): per file and files per request. */
const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
const MAX_UPLOAD_FILES = 20;

/** What the server needs of an App (tests pass one built on an in-memory store). */
export type ServedApp = Pick<App, 'config' | 'store' | 'services' | 'log'>;

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/** Body-parser, upload and file-sending errors carry an HTTP status; answer them in the GraphQL error shape. */
function httpErrorHandler(app: ServedApp) {
  return (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    const status = typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' ? err.status : 500;
    const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 404 ? 'NOT_FOUND' : status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT';
    const message = status >= 500 ? 'Internal server error' : err instanceof Error ? err.message : 'bad request';
    if (status >= 500) app.log.error({ err }, 'HTTP request failed');
    res.status(status).json({ errors: [{ message, extensions: { code } }] });
  };
}

export interface ServeOptions {
  port: number;
  host: string;
  /** Set in a worker of `vidsearch serve --workers N`: limits, metrics and readiness span every worker. */
  cluster?: ClusterMember;
}

export async function startServer(app: ServedApp, opts: ServeOptions): Promise<RunningServer> {
  const { cluster } = opts;
  const mediaUrls = new MediaUrlSigner(await loadMediaSecret(app.config));
  const schema = await buildVidsearchSchema();
  const web = express();
  web.disable('x-powered-by');
  const httpServer = createServer(web);
  // Longer than the usual client/proxy idle timeouts, so a client never reuses a connection the
  // server is closing at that moment (the ECONNRESET race of Node's 5 s default).
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  const { limits } = app.config;
  const admission = new Admission(gateLimitsFrom(app.config.admission, cluster?.share), cluster?.admittedElsewhere);
  const apollo = createApolloServer({ schema, log: app.log, httpServer, limits: { maxDepth: limits.maxQueryDepth, maxComplexity: limits.maxQueryComplexity }, admission });
  await apollo.start();
  let closing = false;

  web.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', ...(cluster ? { worker: { index: cluster.share.index, pid: process.pid } } : {}) });
  });

  web.get('/readyz', async (_req, res) => {
    if (closing) {
      res.status(503).json({ status: 'closing' });
      return;
    }
    try {
      // A real read proves the store is open and answering, not just that the process runs.
      const jobs = await app.store.jobs.countByStatus();
      res.json({ status: 'ready', schemaVersion: app.store.schemaVersion, jobs, ...(cluster ? { workers: await cluster.status() } : {}) });
    } catch (err) {
      app.log.warn({ err }, 'readiness check failed');
      res.status(503).json({ status: 'store unavailable' });
    }
  });

  const unwatchQueue = watchJobQueue(app.store.jobs);
  const unwatchAdmission = watchAdmission(admission);
  web.get('/metrics', metricsHandler(app.log, cluster?.metrics));

  web.use('/media', mediaRouter({ media: app.services.media, signer: mediaUrls, log: app.log, faces: app.services.faceClusters, clips: app.services.clips, actors: app.services.actors, frames: app.services.imageSearch }));
  web.use('/console', consoleRouter());

  const contextDeps = { services: app.services, apiKeys: app.config.apiKeys, mediaUrls };
  web.use(
    '/graphql',
    // Before the body is read: a throttled caller costs no parsing.
    rateLimit({ buckets: cluster?.buckets ?? new TokenBuckets(limits.ratePerSec, limits.rateBurst), apiKeys: app.config.apiKeys }),
    express.json({ limit: MAX_JSON_BODY }),
    graphqlUploadExpress({ maxFileSize: MAX_UPLOAD_BYTES, maxFiles: MAX_UPLOAD_FILES }),
    expressMiddleware(apollo, {
      context: async ({ req }) => createRequestContext(contextDeps, req.headers.authorization),
    }),
  );
  web.use(httpErrorHandler(app));

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port, opts.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;

  return {
    url: `http://${displayHost(opts.host)}:${port}`,
    port,
    async close() {
      if (closing) return;
      closing = true;
      unwatchQueue();
      unwatchAdmission();
      // The drain plugin stops accepting connections and lets in-flight requests finish.
      await apollo.stop();
      if (httpServer.listening) await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}
