import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { VoiceClusterOrigin, VoiceClusterRecord } from '../../store/voice-clusters.js';
import { Actor } from './Actor.type.js';
import { ConnectionType } from './connection.js';

export const VoiceClusterOriginEnum = { VOICE: 'VOICE', FACE: 'FACE', EDITOR: 'EDITOR' } as const satisfies { [K in VoiceClusterOrigin]: K };
registerEnumType(VoiceClusterOriginEnum, {
  name: 'VoiceClusterOrigin',
  description: 'How a voice cluster got its actor: its voice matched an enrolled voice, the identified face on screen while it spoke, or an editor named it',
});

@ObjectType({ description: 'A stretch of speech on the video timeline' })
export class SpeechTurn {
  @Field(() => Float, { description: 'Seconds on the media timeline' })
  start!: number;

  @Field(() => Float)
  end!: number;
}

@ObjectType({ description: 'Speech of one voice inside one video, grouped by diarisation' })
export class VoiceCluster implements Pick<VoiceClusterRecord, 'id' | 'videoId' | 'speechSec' | 'linkedShare' | 'createdAt' | 'updatedAt'> {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  videoId!: string;

  @Field(() => Float, { description: 'Seconds of speech in the cluster' })
  speechSec!: number;

  @Field(() => VoiceClusterOriginEnum, { nullable: true, description: 'Null while the voice is unknown' })
  origin!: VoiceClusterOrigin | null;

  @Field(() => Float, { description: 'Share of the speech during which the linked face was the only face on screen (0 without a link)' })
  linkedShare!: number;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  @Field(() => DateTimeISOResolver)
  updatedAt!: string;
}

@ObjectType()
export class VoiceClusterConnection extends ConnectionType(VoiceCluster, 'VoiceCluster') {}

@ObjectType({ description: 'What naming a voice cluster did' })
export class NameVoiceClusterResult {
  @Field(() => VoiceCluster)
  cluster!: VoiceCluster;

  @Field(() => Actor)
  actor!: Actor;

  @Field(() => Int, { description: 'Speech turns that became the actor’s voice appearances' })
  turnsNamed!: number;

  @Field(() => Boolean, { description: 'Whether the cluster’s voice became one of the actor’s voice templates' })
  templateAdded!: boolean;
}
