import { IsNotEmpty, IsOptional, Max, MaxLength, Min } from 'class-validator';
import { Field, InputType, Int } from 'type-graphql';
import { VideoMetadataInput } from './video-metadata.input.js';

@InputType({ description: 'A video file to index, with optional metadata' })
export class IndexVideoInput extends VideoMetadataInput {
  @Field({ description: 'Server-side path; must resolve (after symlinks) inside VIDSEARCH_MEDIA_ROOTS' })
  @IsNotEmpty()
  @MaxLength(4096)
  path!: string;

  @Field(() => Int, { nullable: true, description: 'Higher runs first; default 0' })
  @IsOptional()
  @Min(-1000)
  @Max(1000)
  priority?: number | null;
}
