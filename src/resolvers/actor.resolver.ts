import DataLoader from 'dataloader';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { ImageUpload } from '../services/actors.js';
import type { ActorRecord } from '../store/actors.js';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { readUpload } from './upload.js';
import { Actor, ActorConnection } from './types/Actor.type.js';
import { EnrollActorInput, UpdateActorInput } from './types/ActorInputs.js';

// Per-request loader for Actor.faceCount (a page of actors costs one count query), kept beside
// the request context so the shared loader registry stays untouched.
const faceCountLoaders = new WeakMap<RequestContext, DataLoader<string, number>>();

function faceCountLoader(ctx: RequestContext): DataLoader<string, number> {
  let loader = faceCountLoaders.get(ctx);
  if (!loader) {
    loader = new DataLoader((ids) => ctx.services.actors.faceCounts(ids));
    faceCountLoaders.set(ctx, loader);
  }
  return loader;
}

const readUploads = (uploads: Promise<FileUpload>[] | null | undefined): Promise<ImageUpload[]> =>
  Promise.all((uploads ?? []).map((upload, i) => readUpload(upload, { label: `upload #${i + 1}` })));

@Resolver(() => Actor)
export class ActorResolver {
  @Authorized(...ACCESS.read)
  @Query(() => ActorConnection, { description: 'Enrolled actors by name; `query` matches part of a name or alias' })
  actors(
    @Ctx() ctx: RequestContext,
    @Arg('query', () => String, { nullable: true }) query?: string | null,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, default 20, at most 100' }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return ctx.services.actors.listActors(query, first, after);
  }

  @Authorized(...ACCESS.read)
  @Query(() => Actor, { nullable: true })
  actor(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return ctx.services.actors.getActor(id);
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => Actor, {
    description: 'Enrols a person from face pictures (and voice samples). All or nothing: a picture without exactly one dominant face fails the call, naming the file, and nothing is stored',
  })
  async enrollActor(@Ctx() ctx: RequestContext, @Arg('input', () => EnrollActorInput) input: EnrollActorInput) {
    const [images, voices] = await Promise.all([readUploads(input.images), readUploads(input.voices)]);
    return ctx.services.actors.enrollActor({ ...input, images, voices });
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => Actor, { description: 'Renames an actor or replaces their aliases' })
  updateActor(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('input', () => UpdateActorInput) input: UpdateActorInput) {
    return ctx.services.actors.updateActor(id, input);
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => Boolean, { description: 'Deletes the actor and every face and voice template made from their pictures and samples' })
  async deleteActor(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    await ctx.services.actors.deleteActor(id);
    return true;
  }

  @FieldResolver(() => Int, { description: 'Face templates enrolled for this actor (an enrolment picture gives two: as taken and mirrored)' })
  faceCount(@Root() actor: ActorRecord, @Ctx() ctx: RequestContext): Promise<number> {
    return faceCountLoader(ctx).load(actor.id);
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: 'Signed, expiring URL of the first enrolled face, aligned (a small JPEG); null without faces',
  })
  async thumbnailUrl(@Root() actor: ActorRecord, @Ctx() ctx: RequestContext): Promise<string | null> {
    return (await ctx.services.actors.thumbnail(actor.id)) ? ctx.mediaUrls.actorUrl(actor.id) : null;
  }
}
