// How much one GraphQL operation may ask for: selection depth (graphql-depth-limit) and an
// estimated cost (graphql-query-complexity) in which a list multiplies what is selected inside it
// by its page size. Both are checked once variables are known, before anything executes; a
// refusal is QUERY_TOO_COMPLEX and says which limit it hit. The server checks through
// QueryLimitChecker, which remembers each parsed document's verdicts (Apollo hands the same
// DocumentNode back for the same query text), so a repeated query costs no schema walk.
import depthLimit from 'graphql-depth-limit';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import {
  getNamedType,
  getNullableType,
  getVariableValues,
  GraphQLError,
  GraphQLList,
  isLeafType,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type TypeNode,
} from 'graphql';
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

function depthRefusal(schema: GraphQLSchema, document: DocumentNode, limits: QueryLimits): QueryTooComplexError | null {
  const depthErrors = validate(schema, document, [depthLimit(limits.maxDepth)]);
  if (depthErrors.length === 0) return null;
  return new QueryTooComplexError('depth', `query depth limit exceeded: selections may nest at most ${limits.maxDepth} levels deep`);
}

function complexityRefusal(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  limits: QueryLimits,
): QueryTooComplexError | null {
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

/** A kept refusal as a new error: every response gets its own error object. */
function fresh(refusal: QueryTooComplexError): QueryTooComplexError {
  return new QueryTooComplexError(refusal.limit, refusal.message);
}

function namedTypeOf(type: TypeNode): string {
  return type.kind === 'NamedType' ? type.name.value : namedTypeOf(type.type);
}

/** Variable types whose values can change an operation's cost (see DocumentVerdicts.complexity). */
const COST_INPUT_TYPES = new Set(['Int', 'Boolean']);

/** Verdicts kept per cost-input key of one document; past this many, its verdicts start over. */
const MAX_VERDICTS_PER_DOCUMENT = 256;

interface DocumentVerdicts {
  depth: QueryTooComplexError | null;
  /**
   * By the JSON of the operation's Int and Boolean variables: the only values the cost depends on
   * (page sizes such as `first`, and the conditions of `@include`/`@skip`, which decide whether a
   * selection is counted at all).
   */
  complexity: Map<string, QueryTooComplexError | null>;
}

/**
 * The first limit an operation breaks, as an error to throw; null when it is within both. Each
 * document's verdicts are kept: the depth verdict depends on the document alone, the cost only on
 * its Int and Boolean variables (page sizes: pageSizeEstimator reads `first`, simpleEstimator
 * nothing; `@include`/`@skip` conditions decide which selections count), so
 * requests differing in other variables (ids, texts) share one verdict and a repeated query costs
 * no schema walk. Keyed weakly by the parsed operation, which Apollo's document cache keeps.
 */
export class QueryLimitChecker {
  private readonly verdicts = new WeakMap<OperationDefinitionNode, DocumentVerdicts>();

  constructor(private readonly limits: QueryLimits) {}

  check(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): QueryTooComplexError | null {
    // Tools fetch the schema with a deep but fixed introspection query.
    if (isIntrospectionOnly(operation)) return null;
    let known = this.verdicts.get(operation);
    if (!known) {
      known = { depth: depthRefusal(schema, document, this.limits), complexity: new Map() };
      this.verdicts.set(operation, known);
    }
    if (known.depth) return fresh(known.depth);
    const costInputs = (operation.variableDefinitions ?? [])
      .filter((d) => COST_INPUT_TYPES.has(namedTypeOf(d.type)))
      .map((d) => variables[d.variable.name.value] ?? null);
    const key = JSON.stringify(costInputs);
    const kept = known.complexity.get(key);
    if (kept !== undefined) return kept && fresh(kept);
    // Variables that do not fit their types are the caller's input error, which execution reports
    // (BAD_USER_INPUT, naming the variable): no complexity verdict, none kept.
    if (getVariableValues(schema, operation.variableDefinitions ?? [], variables).errors) return null;
    const verdict = complexityRefusal(schema, document, operation, variables, this.limits);
    if (known.complexity.size >= MAX_VERDICTS_PER_DOCUMENT) known.complexity.clear();
    known.complexity.set(key, verdict);
    return verdict;
  }
}
