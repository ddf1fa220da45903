import { Field, Float, ObjectType } from 'type-graphql';
import { ConnectionType } from './connection.js';
import { Segment } from './segment.type.js';
import { SubtitleCue } from './subtitle-cue.type.js';
import { Video } from './video.type.js';

@ObjectType({ description: 'A segment that matched a text search' })
export class SearchHit {
  @Field(() => Segment)
  segment!: Segment;

  @Field(() => Video)
  video!: Video;

  @Field(() => Float, { description: 'Relevance; higher is better, comparable within one search only' })
  score!: number;

  @Field({ description: 'The matched text with query terms wrapped in <em>…</em>' })
  snippet!: string;

  @Field(() => SubtitleCue, { nullable: true, description: 'The subtitle or on-screen text line that matched, if any' })
  cue!: SubtitleCue | null;
}

@ObjectType()
export class SearchHitConnection extends ConnectionType(SearchHit, 'SearchHit') {}
