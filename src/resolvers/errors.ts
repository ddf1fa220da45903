// Turns whatever a request threw into the API's error shape: AppError → its code and extensions;
// argument/validation problems → BAD_USER_INPUT; anything else → INTERNAL_SERVER_ERROR with a
// generic message (the real one goes to the log, never to the caller).
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import { AppError, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';

const API_CODES = new Set<string>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'UNSUPPORTED_MEDIA',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'QUERY_TOO_COMPLEX',
  'INTERNAL_SERVER_ERROR',
] satisfies ErrorCode[]);

/** Request-level errors from graphql-js/Apollo: the caller sent something invalid. */
const CALLER_MISTAKES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST']);

/** Apollo protocol codes clients act on (automatic persisted queries): pass them through. */
const PROTOCOL_CODES = new Set(['PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED']);

function validationMessage(err: ArgumentValidationError): string {
  const problems = (err.extensions.validationErrors as { constraints?: Record<string, string>; children?: unknown[] }[] | undefined) ?? [];
  const messages: string[] = [];
  const walk = (list: { constraints?: Record<string, string>; children?: unknown[] }[]): void => {
    for (const problem of list) {
      messages.push(...Object.values(problem.constraints ?? {}));
      walk((problem.children ?? []) as typeof list);
    }
  };
  walk(problems);
  return messages.length ? `invalid argument: ${messages.join('; ')}` : 'invalid argument';
}

export function createErrorFormatter(log: Logger): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    const original = unwrapResolverError(error);
    const where = { locations: formatted.locations, path: formatted.path };
    if (original instanceof AppError) {
      return { ...where, message: original.message, extensions: { ...original.extensions, code: original.code } };
    }
    if (original instanceof ArgumentValidationError) {
      return { ...where, message: validationMessage(original), extensions: { code: 'BAD_USER_INPUT' } };
    }
    // Errors graphql-js or Apollo raised themselves (parse, validation, variable coercion, or a
    // rule that already speaks the API's codes) carry their code in the formatted error.
    const code = typeof formatted.extensions?.code === 'string' ? formatted.extensions.code : null;
    if (code && PROTOCOL_CODES.has(code)) return formatted;
    if (code && CALLER_MISTAKES.has(code)) return { ...where, message: formatted.message, extensions: { code: 'BAD_USER_INPUT' } };
    if (code && API_CODES.has(code) && code !== 'INTERNAL_SERVER_ERROR') {
      return { ...where, message: formatted.message, extensions: { ...formatted.extensions, code } };
    }
    log.error({ err: original, path: formatted.path }, 'unexpected error in a GraphQL request');
    return { ...where, message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}
