// QueryLimitChecker keeps each document's verdicts: they must follow the page sizes a request
// asks for (Int variables) and the selections it includes (Boolean variables), never leak from one request's page sizes to another's, and leave
// variables of the wrong type to execution's BAD_USER_INPUT.
import { buildSchema, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { QueryLimitChecker } from '../../src/resolvers/limits.js';

const schema = buildSchema(`
  type Item { id: ID! children(first: Int): [Item!]! }
  type Query { items(first: Int, tag: String): [Item!]! item(id: ID!): Item }
`);

function operationOf(document: DocumentNode): OperationDefinitionNode {
  return document.definitions[0] as OperationDefinitionNode;
}

describe('QueryLimitChecker', () => {
  const checker = new QueryLimitChecker({ maxDepth: 3, maxComplexity: 500 });

  it('decides by the Int variables of each request, whatever an earlier request of the same document asked', () => {
    const document = parse('query($n: Int, $t: String) { items(first: $n, tag: $t) { children(first: $n) { id } } }');
    const check = (variables: Record<string, unknown>) => checker.check(schema, document, operationOf(document), variables)?.extensions.limit ?? null;
    expect(check({ n: 5, t: 'a' })).toBeNull();
    expect(check({ n: 100, t: 'a' })).toBe('complexity');
    expect(check({ n: 5, t: 'b' })).toBeNull();
    expect(check({ n: 100, t: 'b' })).toBe('complexity');
    expect(check({ n: 20, t: 'c' })).toBeNull();
  });

  it('decides by the Boolean variables of @include too: a selection skipped once is counted when included', () => {
    const document = parse('query($more: Boolean!) { items(first: 100) { id children(first: 100) @include(if: $more) { id } } }');
    const check = (variables: Record<string, unknown>) => checker.check(schema, document, operationOf(document), variables)?.extensions.limit ?? null;
    expect(check({ more: false })).toBeNull();
    expect(check({ more: true })).toBe('complexity');
  });

  it('refuses a document too deep every time, each with its own error object', () => {
    const document = parse('{ items { children { children { children { id } } } } }');
    const first = checker.check(schema, document, operationOf(document), {});
    const again = checker.check(schema, document, operationOf(document), {});
    expect(first?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'depth' });
    expect(again?.message).toBe(first?.message);
    expect(again).not.toBe(first);
  });

  it('gives no verdict on variables that do not fit their types (execution reports those), and keeps none', () => {
    const document = parse('query($n: Int, $id: ID!) { items(first: $n) { id } item(id: $id) { id } }');
    const operation = operationOf(document);
    expect(checker.check(schema, document, operation, { n: 'many', id: 'x' })).toBeNull();
    expect(checker.check(schema, document, operation, { n: 1000 })).toBeNull();
    expect(checker.check(schema, document, operation, { n: 1000, id: 'x' })?.extensions.limit).toBe('complexity');
  });
});
