// The Apollo server every entry point uses (HTTP and the resolver tests), so error shaping and
// request rules are the same everywhere.
import type { Server } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from '../logger.js';
import { graphqlDuration, rejectedQueries } from '../observability/metrics.js';
import type { RequestContext } from '../resolvers/context.js';
import { createErrorFormatter } from '../resolvers/errors.js';
import { QueryLimitChecker, type QueryLimits } from '../resolvers/limits.js';
import { rootFieldWork, type Admission, type Release } from './admission.js';

/**
 * Refuses operations over the depth/complexity limits once variables are known (page sizes can
 * come from variables), holds expensive operations until admission control gives them a slot
 * (released once the response is on its way), and times every request by its root field.
 */
function requestRulesPlugin(limits: QueryLimits | undefined, admission: Admission | undefined): ApolloServerPlugin<RequestContext> {
  const checker = limits && new QueryLimitChecker(limits);
  return {
    async requestDidStart() {
      const started = performance.now();
      let field = 'none';
      let release: Release | null = null;
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation) return;
          const first = operation.selectionSet.selections.find((s) => s.kind === 'Field');
          if (first?.kind === 'Field') field = first.name.value;
          if (checker) {
            const refusal = checker.check(schema, document, operation, request.variables ?? {});
            if (refusal) {
              rejectedQueries.inc({ limit: refusal.limit });
              throw refusal;
            }
          }
          if (admission) release = await admission.admit(rootFieldWork(document, operation, request.variables ?? {}));
        },
        async willSendResponse({ response }) {
          release?.();
          const failed = response.body.kind === 'single' && (response.body.singleResult.errors?.length ?? 0) > 0;
          graphqlDuration.observe({ field, outcome: failed ? 'error' : 'ok' }, (performance.now() - started) / 1000);
        },
      };
    },
  };
}

export function createApolloServer(opts: {
  schema: GraphQLSchema;
  log: Logger;
  httpServer?: Server;
  limits?: QueryLimits;
  admission?: Admission;
}): ApolloServer<RequestContext> {
  const plugins: ApolloServerPlugin<RequestContext>[] = [
    requestRulesPlugin(opts.limits, opts.admission),
    // Apollo installs cache control by default: a hook on every resolved field working out
    // @cacheControl hints the schema does not have (and no Cache-Control header comes of it).
    ApolloServerPluginCacheControlDisabled(),
  ];
  if (opts.httpServer) plugins.push(ApolloServerPluginDrainHttpServer({ httpServer: opts.httpServer }));
  return new ApolloServer<RequestContext>({
    schema: opts.schema,
    // Rejects simple (form/GET) requests that browsers send cross-site without a preflight.
    csrfPrevention: true,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    formatError: createErrorFormatter(opts.log),
    logger: opts.log,
    plugins,
  });
}
