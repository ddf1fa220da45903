import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, Float, ID, ObjectType, registerEnumType } from 'type-graphql';
import type { SkipMarkerKind, SkipMarkerRecord, SkipMarkerSource } from '../../store/intro.js';

export const SkipMarkerKindEnum = { INTRO: 'INTRO', OUTRO: 'OUTRO' } as const satisfies { [K in SkipMarkerKind]: K };
registerEnumType(SkipMarkerKindEnum, { name: 'SkipMarkerKind' });

export const SkipMarkerSourceEnum = { AUTO: 'AUTO', EDITOR: 'EDITOR' } as const satisfies { [K in SkipMarkerSource]: K };
registerEnumType(SkipMarkerSourceEnum, { name: 'SkipMarkerSource', description: 'AUTO: matched across the series; EDITOR: set by an editor (wins)' });

@ObjectType({ description: 'An opening or ending the player can skip' })
export class SkipMarker implements Omit<SkipMarkerRecord, 'videoId'> {
  @Field(() => SkipMarkerKindEnum)
  kind!: SkipMarkerKind;

  @Field(() => Float, { description: 'Seconds' })
  start!: number;

  @Field(() => Float, { description: 'Seconds' })
  end!: number;

  @Field(() => Float, { description: '0..1; 1 for an editor’s marker' })
  confidence!: number;

  @Field(() => SkipMarkerSourceEnum)
  source!: SkipMarkerSource;

  @Field(() => [ID], { description: 'Sibling episodes the same span was found in' })
  matchedVideoIds!: string[];

  @Field(() => DateTimeISOResolver)
  updatedAt!: string;
}
