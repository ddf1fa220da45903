import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import type { MatchReason as MatchReasonShape, MatchReasonKind } from '../../services/ads.js';
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
