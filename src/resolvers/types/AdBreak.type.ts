import { Field, Float, ObjectType } from 'type-graphql';
import { AdMatch } from './AdMatch.type.js';

@ObjectType({ description: 'A place to insert ads: a shot cut with no speech around it' })
export class AdBreak {
  @Field(() => Float, { description: 'Time of the cut, seconds' })
  time!: number;

  @Field(() => [AdMatch], { description: 'Best ads for the moment before the cut' })
  ads!: AdMatch[];

  segmentId!: string;
  videoId!: string;
}
