import { InputType } from 'type-graphql';
import { VideoMetadataInput } from './video-metadata.input.js';

@InputType({ description: 'Metadata to change; a field left out stays, null clears it' })
export class UpdateVideoInput extends VideoMetadataInput {}
