import { ArrayMaxSize, IsOptional, MaxLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';

@InputType({ description: 'Restricts an image search to some videos' })
export class ImageMatchFilter {
  @Field(() => String, { nullable: true, description: 'Only videos of this series' })
  @IsOptional()
  @MaxLength(500)
  series?: string | null;

  @Field(() => [ID], { nullable: true, description: 'Only these videos' })
  @IsOptional()
  @ArrayMaxSize(1000)
  videoIds?: string[] | null;
}
