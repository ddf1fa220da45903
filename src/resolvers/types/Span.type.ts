import { Field, Float, ID, ObjectType, registerEnumType } from 'type-graphql';
import type { WatchEvidence, WatchSpan } from '../../services/presence.js';
import type { SpanEvidence } from '../../store/appearances.js';

export const WatchEvidenceEnum = { FACE: 'FACE', VOICE: 'VOICE', BOTH: 'BOTH' } as const satisfies { [K in WatchEvidence]: K };
/** Voices can be cloned and nothing here detects it (src/models/voice/README.md): API users are told where voice evidence appears. */
const VOICE_EVIDENCE = {
  description:
    'The actor’s enrolled voice was heard. There is no spoof detection: a cloned or converted voice of the actor may pass as the actor (a voice match never counts while another identified actor’s face is alone on screen)',
};
registerEnumType(WatchEvidenceEnum, { name: 'PresenceEvidence', description: 'How presence was established: face on screen, voice heard, or both', valuesConfig: { VOICE: VOICE_EVIDENCE } });

export const SpanEvidenceEnum = { FACE: 'FACE', VOICE: 'VOICE' } as const satisfies { [K in SpanEvidence]: K };
registerEnumType(SpanEvidenceEnum, { name: 'AppearanceEvidence', description: 'What one stored appearance rests on', valuesConfig: { VOICE: VOICE_EVIDENCE } });

@ObjectType({ description: 'A stretch of a video where the asked-for actors are present' })
export class Span implements Omit<WatchSpan, 'bestFaceId'> {
  @Field(() => Float, { description: 'Seconds on the media timeline' })
  start!: number;

  @Field(() => Float)
  end!: number;

  @Field(() => [ID], { description: 'Ids of the asked-for actors present in the span (see `cast` for the actors themselves)' })
  actors!: string[];

  @Field(() => Float, { description: '0..1; 0.5 at the recogniser’s acceptance threshold' })
  confidence!: number;

  @Field(() => WatchEvidenceEnum)
  evidence!: WatchEvidence;
}
