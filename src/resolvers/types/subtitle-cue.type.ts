import { Field, Float, ID, ObjectType } from 'type-graphql';
import type { CueKind, CueRecord, CueSource } from '../../domain.js';
import { ConnectionType } from './connection.js';
import { CueKindEnum, CueSourceEnum } from './enums.js';

@ObjectType({ description: 'A timed line of text: a subtitle, or text read from the picture' })
export class SubtitleCue implements CueRecord {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  videoId!: string;

  @Field(() => ID, { nullable: true, description: 'The segment the cue starts in' })
  segmentId!: string | null;

  @Field(() => Float)
  start!: number;

  @Field(() => Float)
  end!: number;

  @Field()
  text!: string;

  @Field(() => CueKindEnum)
  kind!: CueKind;

  @Field(() => CueSourceEnum)
  source!: CueSource;

  @Field(() => String, { nullable: true, description: 'Language tag when known' })
  lang!: string | null;
}

@ObjectType()
export class SubtitleCueConnection extends ConnectionType(SubtitleCue, 'SubtitleCue') {}
