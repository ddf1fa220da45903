import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import type { SegmentRecord } from '../../domain.js';
import { ConnectionType } from './connection.js';

@ObjectType({ description: 'A stretch of a video (a shot, or part of a long shot): the unit search returns' })
export class Segment implements SegmentRecord {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  videoId!: string;

  @Field(() => Int, { description: 'Order within the video, from 0' })
  index!: number;

  @Field(() => Int)
  shotIndex!: number;

  @Field(() => Float, { description: 'Seconds on the media timeline' })
  start!: number;

  @Field(() => Float)
  end!: number;

  @Field(() => Float, { description: 'Time of the frame that represents the segment' })
  keyframeTime!: number;
}

@ObjectType()
export class SegmentConnection extends ConnectionType(Segment, 'Segment') {}
