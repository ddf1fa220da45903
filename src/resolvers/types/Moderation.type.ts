import { Field, Float, ID, ObjectType, registerEnumType } from 'type-graphql';
import type { VisualFlagRecord, VisualModerationLabel } from '../../store/technical.js';
import { FlaggedSegment } from './FlaggedSegment.type.js';
import { Segment } from './segment.type.js';

export const VisualModerationLabelEnum = { PORN: 'PORN', HENTAI: 'HENTAI', SEXY: 'SEXY' } as const satisfies { [K in VisualModerationLabel]: K };
registerEnumType(VisualModerationLabelEnum, { name: 'VisualModerationLabel' });

@ObjectType({ description: 'A segment whose keyframes the NSFW classifier scored above a label’s threshold' })
export class ModerationVisualFlag implements Pick<VisualFlagRecord, 'id' | 'label' | 'start' | 'end' | 'score' | 'evidenceTimes' | 'modelId'> {
  @Field(() => ID)
  id!: string;

  @Field(() => VisualModerationLabelEnum)
  label!: VisualModerationLabel;

  @Field(() => Float)
  start!: number;

  @Field(() => Float)
  end!: number;

  @Field(() => Float, { description: 'Highest class probability among the evidence frames' })
  score!: number;

  @Field(() => [Float], { description: 'Times of the frames that passed the threshold, best first' })
  evidenceTimes!: number[];

  @Field()
  modelId!: string;
}

@ObjectType({ description: 'One segment with its keyword and visual flags' })
export class ModerationSegment {
  @Field(() => Segment)
  segment!: Segment;

  @Field(() => [FlaggedSegment], { description: 'Subtitle/on-screen lines in the segment that contain a listed keyword' })
  keywordFlags!: FlaggedSegment[];

  @Field(() => [ModerationVisualFlag])
  visualFlags!: ModerationVisualFlag[];
}

@ObjectType({ description: 'A visual label and its highest score' })
export class ModerationLabelScore {
  @Field(() => VisualModerationLabelEnum)
  label!: VisualModerationLabel;

  @Field(() => Float)
  score!: number;
}

@ObjectType({ description: 'Keyword and visual moderation of one video, merged per segment' })
export class ModerationView {
  @Field(() => ID)
  videoId!: string;

  @Field({ description: 'Any segment carries a keyword or visual flag' })
  flagged!: boolean;

  @Field(() => [ModerationLabelScore], { description: 'Highest visual score per label over the video' })
  maxVisualScores!: ModerationLabelScore[];

  @Field(() => [ModerationSegment], { description: 'Flagged segments only, in time order' })
  segments!: ModerationSegment[];
}
