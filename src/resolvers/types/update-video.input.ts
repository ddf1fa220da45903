import { IsOptional, MaxLength, Min } from 'class-validator';
import { Field, InputType, Int } from 'type-graphql';

@InputType({ description: 'Metadata to change; a field left out stays, null clears it' })
export class UpdateVideoInput {
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
}
