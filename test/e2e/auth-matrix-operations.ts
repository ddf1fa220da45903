// Every root operation of the committed schema/schema.graphql as a runnable GraphQL document with
// made-up values for its required arguments: what the role matrix and the page-size checks call,
// so operations added later are covered without editing the tests.
import { readFileSync } from 'node:fs';
import {
  buildSchema,
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { SCHEMA_FILE } from '../../src/resolvers/schema.js';

export interface SchemaOperation {
  name: string;
  kind: 'query' | 'mutation';
  field: GraphQLField<unknown, unknown>;
  /** The operation with its required arguments and `{ __typename }` when it returns an object. */
  text: string;
}

/** A literal for a required input of this type (optional input fields are left out). */
export function literalFor(type: GraphQLInputType): string {
  if (isNonNullType(type)) return literalFor(type.ofType);
  if (isListType(type)) return `[${literalFor(type.ofType)}]`;
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) {
    const required = Object.values(type.getFields()).filter((f) => isNonNullType(f.type) && f.defaultValue === undefined);
    return `{ ${required.map((f) => `${f.name}: ${literalFor(f.type)}`).join(', ')} }`;
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
        return '1';
      case 'Float':
        return '1.5';
      case 'Boolean':
        return 'false';
      case 'DateTimeISO':
        return '"2020-01-01T00:00:00.000Z"';
      case 'ID':
      case 'String':
        return '"probe"';
    }
  }
  throw new Error(`no literal for required argument type ${String(type)}: teach literalFor about it`);
}

const isRequired = (a: GraphQLArgument): boolean => isNonNullType(a.type) && a.defaultValue === undefined;

/** The operation text, with `extraArgs` (already GraphQL literals) added to the required ones. */
export function operationText(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>, extraArgs: Record<string, string> = {}): string {
  const args = field.args.filter((a) => isRequired(a) && !(a.name in extraArgs)).map((a) => `${a.name}: ${literalFor(a.type)}`);
  args.push(...Object.entries(extraArgs).map(([name, value]) => `${name}: ${value}`));
  const argText = args.length ? `(${args.join(', ')})` : '';
  const selection = isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '';
  return `${kind} { ${field.name}${argText}${selection} }`;
}

export function schemaOperations(file: string = SCHEMA_FILE): SchemaOperation[] {
  const schema = buildSchema(readFileSync(file, 'utf8'));
  const of = (kind: 'query' | 'mutation'): SchemaOperation[] => {
    const type = kind === 'query' ? schema.getQueryType() : schema.getMutationType();
    return Object.values(type?.getFields() ?? {}).map((field) => ({ name: field.name, kind, field, text: operationText(kind, field) }));
  };
  return [...of('query'), ...of('mutation')];
}
