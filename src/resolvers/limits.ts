// How much one GraphQL operation may ask for: selection depth (graphql-depth-limit) and an
// estimated cost (graphql-query-complexity) in which a list multiplies what is selected inside it
// by its page size. Both are checked once variables are known, before anything executes; a
// refusal is QUERY_TOO_COMPLEX and says which limit it hit.
import depthLimit from 'graphql-depth-limit';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { getNamedType, getNullableType, GraphQLError, GraphQLList, isLeafType, validate, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { DEFAULT_PAGE_SIZE } from '../services/pagination.js';

export interface QueryLimits {
  maxDepth: number;
  maxComplexity: number;
}

export type QueryLimitKind = 'depth' | 'complexity';

/** Assumed length of a list that takes no page size (a segment's cues, a video's shots). */
const UNPAGED_LIST_GUESS = 10;
/** Selections graphql-query-complexity walks at most before giving up on a (hostile) document. */
const MAX_QUERY_NODES = 10_000;

export class QueryTooComplexError extends GraphQLError {
  constructor(
    readonly limit: QueryLimitKind,
    message: string,
  ) {
    // 400: the caller asked too much; Apollo would otherwise answer a plugin error with 500.
    super(message, { extensions: { code: 'QUERY_TOO_COMPLEX', limit, http: { status: 400 } } });
  }
}

/**
 * Lists cost what they hold times their length: `first` when given (or its default, or the API's
 * default page size), a guess for lists without one. A connection's `edges` is already counted by
 * the connection's `first`. Scalars cost 1.
 */
const pageSizeEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  const pageArg = field.args.find((arg) => arg.name === 'first');
  const isList = getNullableType(field.type) instanceof GraphQLList;
  let multiplier = 1;
  if (pageArg) {
    const asked: unknown = args.first ?? pageArg.defaultValue;
    multiplier = typeof asked === 'number' && asked >= 0 ? asked : DEFAULT_PAGE_SIZE;
  } else if (isList && !isLeafType(getNamedType(field.type)) && !type.name.endsWith('Connection')) {
    multiplier = UNPAGED_LIST_GUESS;
  }
  return 1 + childComplexity * multiplier;
};

function isIntrospectionOnly(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.every((s) => s.kind === 'Field' && s.name.value.startsWith('__'));
}

/** The first limit the operation breaks, as an error to throw; null when it is within both. */
export function checkQueryLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  limits: QueryLimits,
): QueryTooComplexError | null {
  // Tools fetch the schema with a deep but fixed introspection query.
  if (isIntrospectionOnly(operation)) return null;

  const depthErrors = validate(schema, document, [depthLimit(limits.maxDepth)]);
  if (depthErrors.length > 0) {
    return new QueryTooComplexError('depth', `query depth limit exceeded: selections may nest at most ${limits.maxDepth} levels deep`);
  }

  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      variables,
      operationName: operation.name?.value,
      estimators: [pageSizeEstimator, simpleEstimator({ defaultComplexity: 1 })],
      maxQueryNodes: MAX_QUERY_NODES,
    });
  } catch (err) {
    return new QueryTooComplexError('complexity', `query complexity limit exceeded: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (cost > limits.maxComplexity) {
    return new QueryTooComplexError(
      'complexity',
      `query complexity limit exceeded: estimated cost ${cost} is over the maximum of ${limits.maxComplexity} (ask for smaller pages or fewer fields)`,
    );
  }
  return null;
}
