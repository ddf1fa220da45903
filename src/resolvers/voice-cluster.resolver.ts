// Editors' voice work: the voices diarisation grouped per video, and naming them.
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { NotFoundError } from '../errors.js';
import { MAX_SAMPLE_TURNS } from '../services/voice-clusters.js';
import type { VoiceClusterRecord } from '../store/voice-clusters.js';
import { ACCESS } from './auth.js';
import type { RequestContext } from './context.js';
import { actorLoader } from './presence.resolver.js';
import { Actor } from './types/Actor.type.js';
import { Face } from './types/FaceCluster.type.js';
import { Video } from './types/video.type.js';
import { NameVoiceClusterResult, SpeechTurn, VoiceCluster, VoiceClusterConnection } from './types/VoiceCluster.type.js';

const DEFAULT_SAMPLE_TURNS = 5;

@Resolver(() => VoiceCluster)
export class VoiceClusterResolver {
  @Authorized(...ACCESS.editor)
  @Query(() => VoiceClusterConnection, { description: 'Voices found in videos, newest first; unnamed ones by default, named: true lists the named ones, null all' })
  voiceClusters(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, default 20, at most 100' }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('named', () => Boolean, { nullable: true, defaultValue: false }) named?: boolean | null,
  ) {
    return ctx.services.voiceClusters.voiceClusters(first, after, named);
  }

  @Authorized(...ACCESS.editor)
  @Mutation(() => NameVoiceClusterResult, {
    description:
      'Names a voice cluster after an existing actor (actorId) or a new one (newActorName): its speech becomes the actor’s voice appearances at once, and its voice a template so later videos recognise the person',
  })
  nameVoiceCluster(
    @Ctx() ctx: RequestContext,
    @Arg('clusterId', () => ID) clusterId: string,
    @Arg('actorId', () => ID, { nullable: true }) actorId?: string | null,
    @Arg('newActorName', () => String, { nullable: true }) newActorName?: string | null,
  ) {
    return ctx.services.voiceClusters.nameVoiceCluster(clusterId, { actorId, newActorName });
  }

  @FieldResolver(() => Int, { description: 'Speech turns (up to 3 s each) in the cluster' })
  size(@Root() cluster: VoiceClusterRecord): number {
    return cluster.turns.length;
  }

  @FieldResolver(() => [SpeechTurn], { description: 'The longest turns of the voice, in time order, to listen to' })
  sampleTurns(@Root() cluster: VoiceClusterRecord, @Arg('first', () => Int, { defaultValue: DEFAULT_SAMPLE_TURNS }) first: number): SpeechTurn[] {
    const limit = Math.max(0, Math.min(first, MAX_SAMPLE_TURNS));
    return [...cluster.turns]
      .sort((a, b) => b.end - b.start - (a.end - a.start))
      .slice(0, limit)
      .sort((a, b) => a.start - b.start)
      .map((t) => ({ start: t.start, end: t.end }));
  }

  @FieldResolver(() => Video)
  async video(@Root() cluster: VoiceClusterRecord, @Ctx() ctx: RequestContext) {
    const video = await ctx.loaders.video.load(cluster.videoId);
    if (!video) throw new NotFoundError('video', cluster.videoId);
    return video;
  }

  @FieldResolver(() => Actor, { nullable: true, description: 'Who the voice is (see origin for why); null while unknown' })
  actor(@Root() cluster: VoiceClusterRecord, @Ctx() ctx: RequestContext) {
    return cluster.actorId ? actorLoader(ctx).load(cluster.actorId) : null;
  }

  @FieldResolver(() => Face, { nullable: true, description: 'The face alone on screen for most of this voice’s speech (active speaker), if any' })
  async linkedFace(@Root() cluster: VoiceClusterRecord, @Ctx() ctx: RequestContext) {
    if (!cluster.linkedFaceId) return null;
    const [face] = await ctx.services.faceClusters.getFaces([cluster.linkedFaceId]);
    return face ?? null;
  }
}
