import { Field, Float, ID, InputType } from 'type-graphql';
import type { AdInput as AdInputShape } from '../../services/ads/index.js';

@InputType({ description: 'Brand-safety rules; omitted fields take their defaults (avoidFlagged true, no lists, no scenes, maxVisualRisk 0.5 or 1)' })
export class BrandSafetyInput implements NonNullable<AdInputShape['brandSafety']> {
  @Field(() => Boolean, { nullable: true })
  avoidFlagged?: boolean;

  @Field(() => [String], { nullable: true })
  avoidLists?: string[];

  @Field(() => [String], { nullable: true })
  avoidScenes?: string[];

  @Field(() => Float, {
    nullable: true,
    description:
      'Highest graded visual (NSFW) risk of a segment the ad may run in, 0..1 (0.5 = the flag line). Default 0.5 when the ad avoids flagged moments of every list or of the "visual" list, else 1',
  })
  maxVisualRisk?: number | null;
}

@InputType({ description: 'An ad to create or replace (same id → replaced)' })
export class AdInput implements AdInputShape {
  @Field(() => ID, { nullable: true, description: 'Omitted: a new id is made' })
  id?: string | null;

  @Field(() => String, { nullable: true })
  advertiser?: string | null;

  @Field()
  title!: string;

  @Field(() => String, { nullable: true, description: 'http(s) URL of the creative' })
  creativeUrl?: string | null;

  @Field(() => [String], { nullable: true })
  keywords?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'IAB codes, e.g. IAB8, IAB9-30' })
  categories?: string[] | null;

  @Field(() => [ID], { nullable: true, description: 'Enrolled actor ids' })
  actors?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'COCO labels in English or Chinese (cup, 杯子)' })
  objects?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Scene tags in English or Chinese (indoor, 室内, close-up, dialogue, …)' })
  scenes?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Moods: calm, tense, upbeat, intimate (or 平静, 紧张, 欢快, 亲密)' })
  moods?: string[] | null;

  @Field(() => [String], { nullable: true })
  excludeKeywords?: string[] | null;

  @Field(() => BrandSafetyInput, { nullable: true })
  brandSafety?: BrandSafetyInput | null;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  flightStart?: string | null;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  flightEnd?: string | null;
}
