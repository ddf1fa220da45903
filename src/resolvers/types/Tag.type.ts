import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import type { TagKind, TagSource } from '../../store/ads.js';

export const TagKindEnum = { OBJECT: 'OBJECT', SCENE: 'SCENE', MOOD: 'MOOD' } as const satisfies { [K in TagKind]: K };
registerEnumType(TagKindEnum, { name: 'TagKind' });

export const TagSourceEnum = { MODEL: 'MODEL', HEURISTIC: 'HEURISTIC' } as const satisfies { [K in TagSource]: K };
registerEnumType(TagSourceEnum, { name: 'TagSource', description: 'MODEL: a detector’s output; HEURISTIC: a documented rule over measured signals' });

@ObjectType({ description: 'A box in the video’s own pixels' })
export class TagBox {
  @Field(() => Float)
  x!: number;

  @Field(() => Float)
  y!: number;

  @Field(() => Float)
  width!: number;

  @Field(() => Float)
  height!: number;
}

@ObjectType({ description: 'What a segment shows or is like: an object, a scene property or a mood' })
export class Tag {
  @Field(() => TagKindEnum)
  kind!: TagKind;

  @Field({ description: 'Canonical English label' })
  label!: string;

  @Field(() => String, { nullable: true, description: 'Chinese label' })
  labelZh!: string | null;

  @Field(() => Float, { description: '0..1' })
  score!: number;

  @Field(() => TagSourceEnum)
  source!: TagSource;

  @Field(() => TagBox, { nullable: true, description: 'Objects: where on the shot keyframe' })
  box!: TagBox | null;
}
