import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import type { ShotRecord } from '../../domain.js';
import { ConnectionType } from './connection.js';
import { ShotTransitionEnum } from './enums.js';

@ObjectType({ description: 'A continuous camera take between two cuts or transitions' })
export class Shot implements ShotRecord {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  videoId!: string;

  @Field(() => Int)
  index!: number;

  @Field(() => Float)
  start!: number;

  @Field(() => Float)
  end!: number;

  @Field(() => Float)
  keyframeTime!: number;

  @Field(() => ShotTransitionEnum)
  transition!: ShotRecord['transition'];
}

@ObjectType()
export class ShotConnection extends ConnectionType(Shot, 'Shot') {}
