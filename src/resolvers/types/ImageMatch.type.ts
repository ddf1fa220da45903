import { Field, Float, ObjectType } from 'type-graphql';
import { Video } from './video.type.js';

@ObjectType({ description: 'A moment of a video that looks like the searched screenshot' })
export class ImageMatch {
  @Field(() => Video, { description: 'The video (series, season and episode are on it)' })
  video!: Video;

  @Field(() => Float, { description: 'Start of the stretch that looks like the screenshot, seconds' })
  from!: number;

  @Field(() => Float, { description: 'End of that stretch, seconds' })
  to!: number;

  @Field(() => Float, { description: 'The best-matching moment, seconds on the media timeline' })
  at!: number;

  @Field(() => Float, {
    description:
      'Calibrated 0..1: the estimated chance that this is the right video within ±1 s (fitted on the dev sets: ≥ 0.9 was right 29 times in 30, ≥ 0.5 38 in 40, below 0.3 3 in 149). A miss at the top is the right video at another moment of a still shot',
  })
  similarity!: number;
}
