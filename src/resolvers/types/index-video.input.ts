import { IsNotEmpty, IsOptional, Max, MaxLength, Min } from 'class-validator';
import { Field, InputType, Int } from 'type-graphql';

@InputType({ description: 'A video file to index, with optional metadata' })
export class IndexVideoInput {
  @Field({ description: 'Server-side path; must resolve (after symlinks) inside VIDSEARCH_MEDIA_ROOTS' })
  @IsNotEmpty()
  @MaxLength(4096)
  path!: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  title?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  series?: string | null;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @Min(0)
  season?: number | null;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @Min(0)
  episode?: number | null;

  @Field(() => Int, { nullable: true, description: 'Higher runs first; default 0' })
  @IsOptional()
  @Min(-1000)
  @Max(1000)
  priority?: number | null;
}
