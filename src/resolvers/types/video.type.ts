import { DateTimeISOResolver } from 'graphql-scalars';
import { Authorized, Field, Float, ID, Int, ObjectType } from 'type-graphql';
import type { VideoRecord, VideoStatus } from '../../domain.js';
import { ACCESS } from '../auth.js';
import { ConnectionType } from './connection.js';
import { VideoStatusEnum } from './enums.js';

@ObjectType({ description: 'One video file; the same content indexed twice is one video' })
export class Video implements Omit<VideoRecord, 'createdAt' | 'updatedAt'> {
  @Field(() => ID)
  id!: string;

  // Server file layout is for editors only.
  @Authorized(...ACCESS.editor)
  @Field({ description: 'Absolute, symlink-resolved path on the server (editors only)' })
  path!: string;

  @Field({ description: 'sha256 of the file contents' })
  contentHash!: string;

  @Field(() => String, { nullable: true })
  title!: string | null;

  @Field(() => String, { nullable: true })
  series!: string | null;

  @Field(() => Int, { nullable: true })
  season!: number | null;

  @Field(() => Int, { nullable: true })
  episode!: number | null;

  @Field(() => [ID], { nullable: true, description: 'Actor ids of the cast list given at indexing (null: none, faces are identified open-set)' })
  cast?: readonly string[] | null;

  @Field(() => Float)
  durationSec!: number;

  @Field(() => Float)
  fps!: number;

  @Field(() => Int)
  width!: number;

  @Field(() => Int)
  height!: number;

  @Field(() => Int, { description: 'Display rotation in degrees' })
  rotation!: number;

  @Field(() => Float, { description: 'ffprobe start_time; media times are PTS minus this' })
  startTime!: number;

  @Field()
  hasAudio!: boolean;

  @Field(() => VideoStatusEnum)
  status!: VideoStatus;

  @Field(() => String, { nullable: true, description: 'Why indexing failed' })
  error!: string | null;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  @Field(() => DateTimeISOResolver)
  updatedAt!: string;
}

@ObjectType()
export class VideoConnection extends ConnectionType(Video, 'Video') {}
