// The Apollo server every entry point uses (HTTP and the resolver tests), so error shaping and
// request rules are the same everywhere.
import type { Server } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from '../logger.js';
import type { RequestContext } from '../resolvers/context.js';
import { createErrorFormatter } from '../resolvers/errors.js';

export function createApolloServer(opts: { schema: GraphQLSchema; log: Logger; httpServer?: Server }): ApolloServer<RequestContext> {
  return new ApolloServer<RequestContext>({
    schema: opts.schema,
    // Rejects simple (form/GET) requests that browsers send cross-site without a preflight.
    csrfPrevention: true,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    formatError: createErrorFormatter(opts.log),
    logger: opts.log,
    plugins: opts.httpServer ? [ApolloServerPluginDrainHttpServer({ httpServer: opts.httpServer })] : [],
  });
}
