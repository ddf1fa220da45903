import { Field, Float, ID, ObjectType, registerEnumType } from 'type-graphql';
import type { VisualFlagRecord, VisualModerationLabel } from '../../store/technical.js';
import { FlaggedSegment } from './FlaggedSegment.type.js';
import { Segment } from './segment.type.js';

export const VisualModerationLabelEnum = { PORN: 'PORN', HENTAI: 'HENTAI', SEXY: 'SEXY' } as const satisfies { [K in VisualModerationLabel]: K };
registerEnumType(VisualModerationLabelEnum, { name: 'VisualModerationLabel' });

@ObjectType({ description: 'A segment whose keyframes the NSFW classifier scored over a label’s line (two frames agreeing, or one far above it)' })
export class ModerationVisualFlag implements Pick<VisualFlagRecord, 'id' | 'label' | 'start' | 'end' | 'score' | 'risk' | 'flagged' | 'evidenceTimes' | 'modelId'> {
  @Field(() => ID)
  id!: string;

  @Field(() => VisualModerationLabelEnum)
  label!: VisualModerationLabel;

  @Field(() => Float)
  start!: number;

  @Field(() => Float)
  end!: number;

  @Field(() => Float, { description: 'The segment’s score for the label: what two frames agree on, or one frame far above the line' })
  score!: number;

  @Field(() => Float, { description: 'Graded risk 0..1 on a scale shared by every label; above 0.5 is flagged' })
  risk!: number;

  @Field({ description: 'Risk above 0.5' })
  flagged!: boolean;

  @Field(() => [Float], { description: 'Times of the frames with the strongest evidence, best first' })
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

  @Field(() => [ModerationVisualFlag], { description: 'Visual labels over their line in this segment' })
  visualFlags!: ModerationVisualFlag[];

  @Field(() => Float, { description: 'Highest graded visual risk of the segment over every label (0 when none was recorded)' })
  visualRisk!: number;
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

  @Field(() => [ModerationLabelScore], { description: 'Highest visual score per label over the video (flagged or not)' })
  maxVisualScores!: ModerationLabelScore[];

  @Field(() => [ModerationSegment], { description: 'Flagged segments only, in time order' })
  segments!: ModerationSegment[];
}
