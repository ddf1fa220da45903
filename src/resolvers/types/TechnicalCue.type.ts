import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { TechnicalCueRecord, TechnicalCueType } from '../../store/technical.js';
import { TagBox } from './Tag.type.js';

export const TechnicalCueTypeEnum = {
  BLACK_FRAMES: 'BLACK_FRAMES',
  COLOR_BARS: 'COLOR_BARS',
  SLATE: 'SLATE',
  LETTERBOX: 'LETTERBOX',
  PILLARBOX: 'PILLARBOX',
  FREEZE_FRAME: 'FREEZE_FRAME',
  SILENCE: 'SILENCE',
} as const satisfies { [K in TechnicalCueType]: K };
registerEnumType(TechnicalCueTypeEnum, { name: 'TechnicalCueType', description: 'Technical segment types (as Rekognition’s TECHNICAL_CUE, plus borders, freezes and silence)' });

@ObjectType({ description: 'A stretch of the video with a technical property: black frames, colour bars, a slate, borders, a frozen picture, silence' })
export class TechnicalCue implements Omit<TechnicalCueRecord, 'videoId'> {
  @Field(() => ID)
  id!: string;

  @Field(() => TechnicalCueTypeEnum)
  type!: TechnicalCueType;

  @Field(() => Float, { description: 'Seconds' })
  start!: number;

  @Field(() => Float, { description: 'Seconds' })
  end!: number;

  @Field(() => Float, { description: '0..1' })
  confidence!: number;

  @Field(() => TagBox, { nullable: true, description: 'LETTERBOX/PILLARBOX: the active picture area in the video’s own pixels' })
  activeArea!: TechnicalCueRecord['activeArea'];
}

@ObjectType({ description: 'Visual quality of one shot, measured on its best frame' })
export class TechnicalCueShotQuality {
  @Field(() => Int)
  shotIndex!: number;

  @Field(() => Float)
  start!: number;

  @Field(() => Float)
  end!: number;

  @Field(() => Float, { description: 'Time of the frame measured' })
  time!: number;

  @Field(() => Float, { description: '0 (blurred) .. 1 (crisp)' })
  sharpness!: number;

  @Field(() => Float, { nullable: true, description: 'Sharpness inside detected faces; null without faces' })
  faceSharpness!: number | null;

  @Field(() => Float, { description: '0..1: coding blocks or mosaic' })
  blockiness!: number;

  @Field(() => Float, { description: 'Mean luma 0..255' })
  brightness!: number;

  @Field(() => Float, { description: 'Luma standard deviation' })
  contrast!: number;

  @Field({ description: 'No quality issue: usable as a thumbnail or poster' })
  clean!: boolean;

  @Field(() => [String], { description: 'blur, face-blur, blocky, dark, bright, flat' })
  issues!: string[];
}
