import { Field, Float, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'One named highlight feature (normalised within the video) or weight' })
export class HighlightFeature {
  @Field()
  name!: string;

  @Field(() => Float)
  value!: number;
}

@ObjectType({ description: 'A clip worth showing (精彩片段)' })
export class Highlight {
  @Field(() => Float)
  start!: number;

  @Field(() => Float)
  end!: number;

  @Field(() => Float, { description: '0..1 from the learnt weights' })
  score!: number;

  @Field(() => [HighlightFeature], { description: 'What the score was made of' })
  features!: HighlightFeature[];

  videoId!: string;
  segmentIds!: string[];
}

@ObjectType({ description: 'The highlight scorer: logistic weights learnt from editors’ good/bad marks' })
export class HighlightModel {
  @Field(() => Int, { description: 'Feedback marks learnt from' })
  updates!: number;

  @Field(() => Float)
  bias!: number;

  @Field(() => [HighlightFeature])
  weights!: HighlightFeature[];
}
