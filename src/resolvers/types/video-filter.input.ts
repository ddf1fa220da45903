import { IsOptional, MaxLength } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import type { VideoStatus } from '../../domain.js';
import { VideoStatusEnum } from './enums.js';

@InputType()
export class VideoFilter {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  series?: string | null;

  @Field(() => VideoStatusEnum, { nullable: true })
  status?: VideoStatus | null;

  @Field(() => String, { nullable: true, description: 'Case-insensitive substring of the title' })
  @IsOptional()
  @MaxLength(500)
  titleContains?: string | null;
}
