import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import type { FaceClusterRecord, FaceRecord } from '../../store/appearances.js';
import { Actor } from './Actor.type.js';
import { ConnectionType } from './connection.js';

@ObjectType({ description: 'A face box in a frame, in the video’s own pixels' })
export class FaceBox {
  @Field(() => Float)
  x!: number;

  @Field(() => Float)
  y!: number;

  @Field(() => Float)
  width!: number;

  @Field(() => Float)
  height!: number;
}

@ObjectType({ description: 'One face seen in a video frame' })
export class Face implements Pick<FaceRecord, 'id' | 'videoId' | 'time' | 'box' | 'quality'> {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  videoId!: string;

  @Field(() => Float, { description: 'Seconds on the media timeline' })
  time!: number;

  @Field(() => FaceBox)
  box!: FaceBox;

  @Field(() => Float, { description: '0..1 from size, sharpness and pose' })
  quality!: number;
}

@ObjectType({ description: 'Faces of one unknown person gathered across the library' })
export class FaceCluster implements Pick<FaceClusterRecord, 'id' | 'size' | 'createdAt' | 'updatedAt'> {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, { description: 'Face tracks (continuous appearances) in the cluster' })
  size!: number;

  @Field(() => DateTimeISOResolver)
  createdAt!: string;

  @Field(() => DateTimeISOResolver)
  updatedAt!: string;
}

@ObjectType()
export class FaceClusterConnection extends ConnectionType(FaceCluster, 'FaceCluster') {}

@ObjectType({ description: 'What naming a cluster did' })
export class NameFaceClusterResult {
  @Field(() => FaceCluster)
  cluster!: FaceCluster;

  @Field(() => Actor)
  actor!: Actor;

  @Field(() => Int, { description: 'Face tracks that became the actor’s appearances' })
  tracksNamed!: number;

  @Field(() => Int, { description: 'Faces of the cluster added as the actor’s templates: those least like its templates so far (other poses), large enough to enrol from' })
  templatesAdded!: number;
}

@ObjectType({ description: 'What moving faces did' })
export class MoveFacesResult {
  @Field(() => Actor)
  actor!: Actor;

  @Field(() => Int, { description: 'Face tracks moved (a track moves as a whole: it is one person)' })
  tracksMoved!: number;

  @Field(() => Int, { description: 'Faces of the moved tracks learnt as the actor’s templates: those least like its templates so far (other poses), large enough to enrol from' })
  templatesAdded!: number;
}
