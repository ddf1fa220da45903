import { Field, Float, ID, ObjectType, registerEnumType } from 'type-graphql';
import type { ClipMethod } from '../../media/clips.js';
import { Video } from './video.type.js';

export const ClipMethodEnum = { STREAM_COPY: 'STREAM_COPY', REENCODE: 'REENCODE' } as const satisfies { [K in ClipMethod]: K };
registerEnumType(ClipMethodEnum, {
  name: 'ClipMethod',
  description: 'STREAM_COPY: packets copied as they are (the span starts on a keyframe); REENCODE: H.264/AAC, frame-exact start',
});

@ObjectType({ description: 'A span of a video cut to an MP4 for download' })
export class ClipExport {
  @Field(() => ID)
  id!: string;

  @Field(() => Video)
  video!: Video;

  @Field(() => Float, { description: 'Start of the clip, seconds on the media timeline' })
  start!: number;

  @Field(() => Float, { description: 'End of the clip (clipped to the video), seconds' })
  end!: number;

  @Field(() => ClipMethodEnum)
  method!: ClipMethod;

  @Field(() => Float, { description: 'Size of the MP4 in bytes' })
  sizeBytes!: number;
}
