import { Field, Float, ID, ObjectType } from 'type-graphql';
import type { ActorTimeline as ActorTimelineShape } from '../../services/presence.js';
import { Span } from './Span.type.js';

@ObjectType({ description: 'One actor’s presence in one video' })
export class ActorTimeline implements Omit<ActorTimelineShape, 'spans'> {
  @Field(() => ID)
  actorId!: string;

  @Field(() => [Span])
  spans!: Span[];

  @Field(() => Float)
  totalSec!: number;
}
