import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { JobRecord, JobStatus } from '../domain.js';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { JobStatusEnum } from './types/enums.js';
import { IndexVideoInput } from './types/index-video.input.js';
import { IndexingJob, IndexingJobConnection } from './types/indexing-job.type.js';
import { Video } from './types/video.type.js';

@Resolver(() => IndexingJob)
export class JobResolver {
  @Authorized(...ACCESS.editor)
  @Query(() => IndexingJob, { nullable: true })
  job(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return ctx.services.indexing.job(id);
  }

  @Authorized(...ACCESS.editor)
  @Query(() => IndexingJobConnection, { description: 'Indexing jobs, newest first' })
  jobs(
    @Ctx() ctx: RequestContext,
    @Arg('status', () => JobStatusEnum, { nullable: true }) status?: JobStatus | null,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, default 20, at most 100' }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return ctx.services.indexing.jobs(status ?? null, first, after);
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => IndexingJob, {
    description: 'Queues a video file for indexing (or returns its active job); refuses undecodable files at once',
  })
  indexVideo(@Ctx() ctx: RequestContext, @Arg('input', () => IndexVideoInput) input: IndexVideoInput) {
    return ctx.services.indexing.indexVideo(input);
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => IndexingJob, { description: 'Cancels a queued job now, a running one at its next stage' })
  cancelJob(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return ctx.services.indexing.cancelJob(id);
  }

  @FieldResolver(() => Video, { nullable: true })
  video(@Root() job: JobRecord, @Ctx() ctx: RequestContext) {
    return job.videoId ? ctx.loaders.video.load(job.videoId) : null;
  }

  @FieldResolver(() => String, { description: 'The file being indexed' })
  path(@Root() job: JobRecord): string {
    return job.request.path;
  }
}
