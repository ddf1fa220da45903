// Relay connection classes, `{ edges { cursor node } pageInfo totalCount }`, made by one factory so
// every list in the API has the same shape.
import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { PageInfo } from './page-info.type.js';

export interface EdgeShape<T> {
  cursor: string;
  node: T;
}

export function ConnectionType<T extends object>(nodeType: ClassType<T>, nodeName: string) {
  @ObjectType(`${nodeName}Edge`)
  class Edge implements EdgeShape<T> {
    @Field()
    cursor!: string;

    @Field(() => nodeType)
    node!: T;
  }

  // Never referenced itself (only its subclasses), so it stays out of the schema.
  @ObjectType()
  abstract class Connection {
    @Field(() => [Edge])
    edges!: EdgeShape<T>[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int, { description: 'Items in the whole list, not just this page' })
    totalCount!: number;
  }
  return Connection;
}
