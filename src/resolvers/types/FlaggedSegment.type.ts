import { Field, Float, ID, ObjectType } from 'type-graphql';
import type { CueKind } from '../../domain.js';
import type { FlagRecord } from '../../store/moderation.js';
import { ConnectionType } from './connection.js';
import { CueKindEnum } from './enums.js';

@ObjectType({ description: 'A subtitle or on-screen text line that contains a listed keyword' })
export class FlaggedSegment implements Omit<FlagRecord, 'segmentId' | 'videoId' | 'cueId'> {
  @Field(() => ID)
  id!: string;

  @Field()
  keyword!: string;

  @Field({ description: 'Name of the keyword list' })
  list!: string;

  @Field({ description: 'The whole line as stored' })
  text!: string;

  @Field(() => Float, { description: 'Start of the line, seconds' })
  start!: number;

  @Field(() => Float, { description: 'End of the line, seconds' })
  end!: number;

  @Field(() => CueKindEnum)
  kind!: CueKind;
}

@ObjectType()
export class FlaggedSegmentConnection extends ConnectionType(FlaggedSegment, 'FlaggedSegment') {}
