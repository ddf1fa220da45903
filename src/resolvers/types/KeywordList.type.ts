import { Field, ObjectType } from 'type-graphql';
import type { KeywordListRecord } from '../../store/moderation.js';

@ObjectType({ description: 'A named list of blocked keywords; matching ignores width, script (traditional/simplified), case, spaces and punctuation' })
export class KeywordList implements KeywordListRecord {
  @Field()
  name!: string;

  @Field(() => [String], { description: 'As entered, in the order added' })
  keywords!: string[];

  @Field()
  updatedAt!: string;
}
