import { IsOptional, MaxLength, Min } from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';

/** The catalog metadata a caller may set on a video: shared by indexVideo and updateVideo. */
@InputType()
export abstract class VideoMetadataInput {
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

  @Field(() => [ID], {
    nullable: true,
    description: 'Actor ids of the cast list: faces are then identified among these actors only (closed set, its own threshold); [] or null clears it',
  })
  @IsOptional()
  cast?: string[] | null;
}
