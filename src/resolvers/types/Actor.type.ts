import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import type { ActorRecord } from '../../store/actors.js';
import { ConnectionType } from './connection.js';

@ObjectType({ description: 'A named person the system recognises by face (and voice)' })
export class Actor implements ActorRecord {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => [String], { description: 'Other names the person goes by (searchable)' })
  aliases!: string[];

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  @Field(() => DateTimeISOResolver)
  updatedAt!: string;
}

@ObjectType()
export class ActorConnection extends ConnectionType(Actor, 'Actor') {}
