import { Field, Float, ObjectType } from 'type-graphql';
import { Video } from './video.type.js';

@ObjectType({ description: 'A moment of a video that looks like the searched screenshot' })
export class ImageMatch {
  @Field(() => Video, { description: 'The video (series, season and episode are on it)' })
  video!: Video;

  @Field(() => Float, {
    description: 'Start of the stretch that looks like the screenshot, seconds: the frames the pixels cannot tell apart from the best one (a still shot), else the verified moment',
  })
  from!: number;

  @Field(() => Float, { description: 'End of that stretch, seconds' })
  to!: number;

  @Field(() => Float, { description: 'The best-matching moment, seconds on the media timeline: the middle of the stretch when its frames cannot be told apart' })
  at!: number;

  @Field(() => Float, {
    description: 'Calibrated 0..1: the estimated chance that this is the right video (README, image search: reliability table on held-out dev queries)',
  })
  similarity!: number;

  @Field(() => Float, {
    description: 'Calibrated 0..1: the estimated chance that `at` is the right moment (right video, within ±1 s); never above similarity. Low on still shots, where from/to say how far the moment may be',
  })
  timeConfidence!: number;
}
