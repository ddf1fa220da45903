import { ArrayMaxSize, IsOptional, Min } from 'class-validator';
import { Field, Float, ID, InputType } from 'type-graphql';
import type { TextDocKind } from '../../store/interfaces.js';
import { TextKindEnum } from './enums.js';

@InputType({ description: 'Narrows a segment search' })
export class SegmentFilter {
  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(1000)
  videoIds?: string[] | null;

  @Field(() => String, { nullable: true })
  series?: string | null;

  @Field(() => Float, { nullable: true, description: 'Only segments overlapping [from, to] seconds' })
  @IsOptional()
  @Min(0)
  from?: number | null;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @Min(0)
  to?: number | null;

  @Field(() => [TextKindEnum], { nullable: true, description: 'Which texts may match (default: all)' })
  kinds?: TextDocKind[] | null;
}
