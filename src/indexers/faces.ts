// The `faces` stage (its modules are in ./faces/): this file is its entry for the pipeline and the
// services that read its constants.
import { createFacesStage } from './faces/stage.js';

export { createFacesStage, FACE_DECODE_WIDTH, TILE_BELOW_SIDE_PX, type FacesStageDeps, type FacesStageOutput, type FrameRequest } from './faces/stage.js';
export { MIN_FACE_SIDE } from './faces/sampling.js';
export { EMBED_BEST_PER_CHAIN, MIN_TRACK_QUALITY, TRACK_TOP_FACES } from './faces/tracks.js';

export const facesStage = createFacesStage();
