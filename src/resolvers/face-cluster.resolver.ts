// Editors' face work: unknown-face clusters, naming them, merging actors and moving faces.
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { NotFoundError } from '../errors.js';
import type { FaceClusterRecord, FaceRecord } from '../store/appearances.js';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { actorLoader } from './presence.resolver.js';
import { Actor } from './types/Actor.type.js';
import { Face, FaceCluster, FaceClusterConnection, MoveFacesResult, NameFaceClusterResult } from './types/FaceCluster.type.js';
import { Video } from './types/video.type.js';

const DEFAULT_SAMPLE_FACES = 6;

@Resolver(() => FaceCluster)
export class FaceClusterResolver {
  @Authorized(...ACCESS.editor)
  @Query(() => FaceClusterConnection, { description: 'Clusters of unknown faces across the library, newest first; named: true lists the named ones, null all' })
  faceClusters(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, default 20, at most 100' }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('named', () => Boolean, { nullable: true, defaultValue: false }) named?: boolean | null,
  ) {
    return ctx.services.faceClusters.faceClusters(first, after, named);
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => NameFaceClusterResult, {
    description:
      'Names a cluster after an existing actor (actorId) or a new one (newActorName): its tracks become the actor’s appearances at once, and its best faces become templates so later videos recognise the person',
  })
  nameFaceCluster(
    @Ctx() ctx: RequestContext,
    @Arg('clusterId', () => ID) clusterId: string,
    @Arg('actorId', () => ID, { nullable: true }) actorId?: string | null,
    @Arg('newActorName', () => String, { nullable: true }) newActorName?: string | null,
  ) {
    return ctx.services.faceClusters.nameFaceCluster(clusterId, { actorId, newActorName });
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => Actor, { description: 'Moves every appearance, face template and named cluster of sourceId to targetId, keeps the source’s name as an alias, and deletes the source' })
  mergeActors(@Ctx() ctx: RequestContext, @Arg('sourceId', () => ID) sourceId: string, @Arg('targetId', () => ID) targetId: string) {
    return ctx.services.faceClusters.mergeActors(sourceId, targetId);
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => MoveFacesResult, { description: 'Gives the faces’ tracks (whole continuous appearances) to another actor' })
  moveFaces(@Ctx() ctx: RequestContext, @Arg('faceIds', () => [ID]) faceIds: string[], @Arg('toActorId', () => ID) toActorId: string) {
    return ctx.services.faceClusters.moveFaces(faceIds, toActorId);
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => Int, { description: 'Forgets strangers: deletes unnamed face clusters untouched for olderThanDays, with their faces, and voice clusters in which nobody is known; returns how many clusters (face and voice) went' })
  purgeUnknownFaces(@Ctx() ctx: RequestContext, @Arg('olderThanDays', () => Int) olderThanDays: number) {
    return ctx.services.faceClusters.purgeUnknownFaces(olderThanDays);
  }

  @FieldResolver(() => Actor, { nullable: true, description: 'The actor the cluster was named after; null while unknown' })
  actor(@Root() cluster: FaceClusterRecord, @Ctx() ctx: RequestContext) {
    return cluster.actorId ? actorLoader(ctx).load(cluster.actorId) : null;
  }

  @FieldResolver(() => String, { nullable: true, description: 'Signed, expiring URL of the cluster’s best face' })
  thumbnailUrl(@Root() cluster: FaceClusterRecord, @Ctx() ctx: RequestContext): string | null {
    return cluster.bestFaceId ? ctx.mediaUrls.faceUrl(cluster.bestFaceId) : null;
  }

  @FieldResolver(() => [Face], { description: 'The cluster’s best faces, best first' })
  sampleFaces(@Root() cluster: FaceClusterRecord, @Ctx() ctx: RequestContext, @Arg('first', () => Int, { defaultValue: DEFAULT_SAMPLE_FACES }) first: number) {
    return ctx.services.faceClusters.sampleFaces(cluster.id, first);
  }
}

@Resolver(() => Face)
export class FaceResolver {
  @FieldResolver(() => Video)
  async video(@Root() face: FaceRecord, @Ctx() ctx: RequestContext) {
    const video = await ctx.loaders.video.load(face.videoId);
    if (!video) throw new NotFoundError('video', face.videoId);
    return video;
  }

  @FieldResolver(() => String, { nullable: true, description: 'Signed, expiring URL of the aligned face (kept for each track’s best faces)' })
  thumbnailUrl(@Root() face: FaceRecord, @Ctx() ctx: RequestContext): string | null {
    return face.thumbnail ? ctx.mediaUrls.faceUrl(face.id) : null;
  }
}
