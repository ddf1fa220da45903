import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import type { OnlyWatchResult as OnlyWatchShape, WatchMode } from '../../services/presence.js';
import { Span } from './Span.type.js';

export const WatchModeEnum = { ANY: 'ANY', ALL: 'ALL' } as const satisfies { [K in WatchMode]: K };
registerEnumType(WatchModeEnum, { name: 'OnlyWatchMode', description: 'ANY: any of the actors is present; ALL: all of them together' });

@ObjectType({ description: 'Only-watch-TA: where the actors appear, as spans and as a playlist' })
export class OnlyWatchResult implements Omit<OnlyWatchShape, 'spans'> {
  @Field(() => [Span])
  spans!: Span[];

  @Field(() => Float, { description: 'Seconds covered by the spans' })
  totalSec!: number;

  @Field(() => Float, { description: 'totalSec / the video’s duration' })
  share!: number;

  @Field(() => [[Float]], { description: '[start, end] pairs, ready for a player' })
  playlist!: [number, number][];
}
