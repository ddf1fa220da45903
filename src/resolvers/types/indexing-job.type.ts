import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import type { JobStatus } from '../../domain.js';
import { ConnectionType } from './connection.js';
import { JobStatusEnum } from './enums.js';

@ObjectType({ description: 'A queued or running indexing of one video file' })
export class IndexingJob {
  @Field(() => ID)
  id!: string;

  @Field(() => JobStatusEnum)
  status!: JobStatus;

  @Field(() => Float, { description: '0..1 over the whole pipeline' })
  progress!: number;

  @Field(() => String, { nullable: true, description: 'The stage running now (or last run)' })
  stage!: string | null;

  @Field(() => String, { nullable: true, description: 'Why the job failed' })
  error!: string | null;

  @Field(() => ID, { nullable: true })
  videoId!: string | null;

  @Field(() => Int)
  priority!: number;

  @Field(() => Int)
  attempts!: number;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  @Field(() => DateTimeISOResolver, { nullable: true })
  startedAt!: string | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  finishedAt!: string | null;
}

@ObjectType()
export class IndexingJobConnection extends ConnectionType(IndexingJob, 'IndexingJob') {}
