import { Field, Float, ID, ObjectType } from 'type-graphql';
import type { AdRecord, BrandSafetyRules } from '../../store/ads.js';
import { ConnectionType } from './connection.js';

@ObjectType({ description: 'Rules that keep an ad away from unsuitable moments' })
export class BrandSafety implements BrandSafetyRules {
  @Field({ description: 'Never next to lines matching the moderation keyword lists' })
  avoidFlagged!: boolean;

  @Field(() => [String], { description: 'Only these moderation lists count (empty: all lists)' })
  avoidLists!: string[];

  @Field(() => [String], { description: 'Scene or mood tags the ad must not appear next to' })
  avoidScenes!: string[];

  @Field(() => Float, { description: 'Highest graded visual (NSFW) risk of a segment the ad may run in (0.5 = the flag line)' })
  maxVisualRisk!: number;
}

@ObjectType({ description: 'An ad in the contextual-ads inventory' })
export class Ad implements AdRecord {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  advertiser!: string | null;

  @Field()
  title!: string;

  @Field(() => String, { nullable: true })
  creativeUrl!: string | null;

  @Field(() => [String], { description: 'Chinese and/or English keywords matched against the dialogue (BM25 over jieba words)' })
  keywords!: string[];

  @Field(() => [String], { description: 'IAB content categories, e.g. IAB8 or IAB8-18' })
  categories!: string[];

  @Field(() => [ID], { description: 'Actors whose presence makes the ad relevant' })
  actors!: string[];

  @Field(() => [String], { description: 'COCO object labels (canonical English)' })
  objects!: string[];

  @Field(() => [String], { description: 'Scene tags (see Tag)' })
  scenes!: string[];

  @Field(() => [String], { description: 'Mood tags: calm, tense, upbeat, intimate' })
  moods!: string[];

  @Field(() => [String])
  excludeKeywords!: string[];

  @Field(() => BrandSafety)
  brandSafety!: BrandSafety;

  @Field(() => String, { nullable: true, description: 'First day of the flight, YYYY-MM-DD' })
  flightStart!: string | null;

  @Field(() => String, { nullable: true, description: 'Last day of the flight, YYYY-MM-DD' })
  flightEnd!: string | null;

  @Field()
  createdAt!: string;

  @Field()
  updatedAt!: string;
}

@ObjectType()
export class AdConnection extends ConnectionType(Ad, 'Ad') {}
