import { Field, Float, ID, ObjectType } from 'type-graphql';
import type { AppearanceSpanRecord, SpanEvidence } from '../../store/appearances.js';
import { ConnectionType } from './connection.js';
import { SpanEvidenceEnum } from './Span.type.js';

@ObjectType({ description: 'A stored appearance of an actor in a video (before onlyWatch merging)' })
export class Appearance implements Omit<AppearanceSpanRecord, 'sourceIds' | 'bestFaceId'> {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  videoId!: string;

  @Field(() => ID)
  actorId!: string;

  @Field(() => Float)
  start!: number;

  @Field(() => Float)
  end!: number;

  @Field(() => Float)
  confidence!: number;

  @Field(() => SpanEvidenceEnum)
  evidence!: SpanEvidence;
}

@ObjectType()
export class AppearanceConnection extends ConnectionType(Appearance, 'Appearance') {}
