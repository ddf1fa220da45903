import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { AdExclusion as AdExclusionShape, ExclusionReason, MatchReason as MatchReasonShape, MatchReasonKind } from '../../services/ads/index.js';
import { Ad } from './Ad.type.js';

export const MatchReasonKindEnum = {
  KEYWORD: 'KEYWORD',
  CONTEXT: 'CONTEXT',
  ACTOR: 'ACTOR',
  OBJECT: 'OBJECT',
  SCENE: 'SCENE',
  MOOD: 'MOOD',
  CATEGORY: 'CATEGORY',
} as const satisfies { [K in MatchReasonKind]: K };
registerEnumType(MatchReasonKindEnum, {
  name: 'MatchReasonKind',
  description: 'KEYWORD: said at the moment; CONTEXT: said around it; ACTOR: on screen/heard; OBJECT: detected (MODEL); SCENE/MOOD: HEURISTIC tags; CATEGORY: IAB category implied by a tag',
});

@ObjectType({ description: 'One part of a match score' })
export class MatchReason implements MatchReasonShape {
  @Field(() => MatchReasonKindEnum)
  kind!: MatchReasonKind;

  @Field({ description: 'What matched: the words, the actor id, the object/scene label, the category (and the tag behind it)' })
  value!: string;

  @Field(() => Float, { description: 'Its contribution to the score' })
  weight!: number;
}

@ObjectType({ description: 'An ad ranked for a moment of a video' })
export class AdMatch {
  @Field(() => Ad)
  ad!: Ad;

  @Field(() => Float, { description: 'Sum of the reasons’ weights' })
  score!: number;

  @Field(() => [MatchReason])
  reasons!: MatchReason[];
}

export const ExclusionReasonEnum = {
  OUT_OF_FLIGHT: 'OUT_OF_FLIGHT',
  EXCLUDE_KEYWORD: 'EXCLUDE_KEYWORD',
  FLAGGED_LINES: 'FLAGGED_LINES',
  VISUAL_RISK: 'VISUAL_RISK',
  AVOIDED_SCENE: 'AVOIDED_SCENE',
} as const satisfies { [K in ExclusionReason]: K };
registerEnumType(ExclusionReasonEnum, {
  name: 'AdExclusionReason',
  description:
    'OUT_OF_FLIGHT: outside its flight dates; EXCLUDE_KEYWORD: one of its excludeKeywords is said around the moment; FLAGGED_LINES: lines around the moment match a moderation list it avoids; VISUAL_RISK: the segment’s graded NSFW risk is above its maxVisualRisk; AVOIDED_SCENE: the moment has a scene/mood tag it avoids',
});

@ObjectType({ description: 'Ads that scored for the moment but were left out, for one reason' })
export class AdExclusion implements AdExclusionShape {
  @Field(() => ExclusionReasonEnum)
  reason!: ExclusionReason;

  @Field(() => Int)
  count!: number;

  @Field(() => [ID], { description: 'The first few of them, best-scoring first' })
  adIds!: string[];
}

@ObjectType({ description: 'The ads ranked for a moment, with what was left out and why' })
export class AdMatching {
  @Field(() => [AdMatch])
  matches!: AdMatch[];

  @Field(() => [AdExclusion], {
    description: 'Ads that scored but were left out, by reason, among those ranked above the last match returned (all of them when fewer than `first` matched)',
  })
  excluded!: AdExclusion[];

  @Field(() => Float, { description: 'The segment’s highest graded visual (NSFW) risk, 0..1 (0.5 = the flag line)' })
  visualRisk!: number;
}
