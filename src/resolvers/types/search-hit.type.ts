import { Field, Float, ObjectType } from 'type-graphql';
import { TEXT_TOTAL_BOUND } from '../../store/interfaces.js';
import { ConnectionType } from './connection.js';
import { Segment } from './segment.type.js';
import { SubtitleCue } from './subtitle-cue.type.js';
import { Video } from './video.type.js';

@ObjectType({ description: 'A segment that matched a text search, or a hybrid text + picture search' })
export class SearchHit {
  @Field(() => Segment)
  segment!: Segment;

  @Field(() => Video)
  video!: Video;

  @Field(() => Float, {
    description:
      'Relevance; higher is better, comparable within one search only. Text only: the text engine\'s score. Hybrid: wText·textScore + wVector·vectorScore (0..1)',
  })
  score!: number;

  @Field({ description: 'The matched text with query terms wrapped in <em>…</em>; empty when only the picture matched' })
  snippet!: string;

  @Field(() => SubtitleCue, { nullable: true, description: 'The subtitle or on-screen text line that matched, if any' })
  cue!: SubtitleCue | null;

  @Field(() => Float, { nullable: true, description: "The text side's share: its relevance divided by this search's best (0..1); null when the text did not match" })
  textScore!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: "The picture side's share: the image search's calibrated similarity (0..1); null without a picture or when it did not match",
  })
  vectorScore!: number | null;
}

@ObjectType()
export class SearchHitConnection extends ConnectionType(SearchHit, 'SearchHit') {
  @Field({
    description: `Whether totalCount is the exact number of matching segments. Text searches count exactly up to ${TEXT_TOTAL_BOUND}; past that totalCount is ${TEXT_TOTAL_BOUND} and this is false (more match)`,
  })
  totalCountIsExact!: boolean;
}
