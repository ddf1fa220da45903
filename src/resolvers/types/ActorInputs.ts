import { ArrayMaxSize, IsNotEmpty, IsOptional, MaxLength } from 'class-validator';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import { Field, InputType } from 'type-graphql';
import { MAX_ALIASES, MAX_ENROL_IMAGES, MAX_NAME_LENGTH } from '../../services/actors.js';

@InputType({ description: 'A new actor: a name and pictures of their face (each must show one dominant face), optionally voice samples' })
export class EnrollActorInput {
  @Field()
  @IsNotEmpty()
  @MaxLength(MAX_NAME_LENGTH)
  name!: string;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(MAX_ALIASES)
  aliases?: string[] | null;

  @Field(() => [GraphQLUpload], { nullable: true, description: 'Pictures uploaded as multipart files' })
  @IsOptional()
  @ArrayMaxSize(MAX_ENROL_IMAGES)
  images?: Promise<FileUpload>[] | null;

  @Field(() => [String], { nullable: true, description: 'Pictures as base64 (data URLs accepted)' })
  @IsOptional()
  @ArrayMaxSize(MAX_ENROL_IMAGES)
  imagesBase64?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Server-side picture paths inside VIDSEARCH_MEDIA_ROOTS' })
  @IsOptional()
  @ArrayMaxSize(MAX_ENROL_IMAGES)
  imagePaths?: string[] | null;

  @Field(() => [GraphQLUpload], { nullable: true, description: 'Voice samples uploaded as multipart files' })
  @IsOptional()
  @ArrayMaxSize(MAX_ENROL_IMAGES)
  voices?: Promise<FileUpload>[] | null;

  @Field(() => [String], { nullable: true, description: 'Server-side voice sample paths inside VIDSEARCH_MEDIA_ROOTS' })
  @IsOptional()
  @ArrayMaxSize(MAX_ENROL_IMAGES)
  voicePaths?: string[] | null;
}

@InputType({ description: 'Fields to change; a field left out stays' })
export class UpdateActorInput {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(MAX_NAME_LENGTH)
  name?: string | null;

  @Field(() => [String], { nullable: true, description: 'Replaces the aliases' })
  @IsOptional()
  @ArrayMaxSize(MAX_ALIASES)
  aliases?: string[] | null;
}
