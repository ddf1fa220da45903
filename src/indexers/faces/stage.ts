// The `faces` stage: who is on screen, and when. Samples frames (default 2 fps), detects faces and
// scores their quality as the job's decode goes by (sampling.ts: no shots needed), then, once the
// shots are stored, embeds the faces each shot's chains need, tracks them through the shot
// (tracks.ts), decides each TRACK's identity from its best faces, names it after an enrolled actor
// (open set) or files it into an unknown-face cluster shared by the whole library, and stores
// faces, tracks, clusters and the FACE appearance spans onlyWatch answers from (records.ts).
import type { ShotRecord, VideoRecord } from '../../domain.js';
import type { Config } from '../../config.js';
import type { RawFrame } from '../../media/frames.js';
import type { FrameRequest as SourceFrameRequest } from '../../media/source.js';
import { loadFaceModels, type FaceModels } from '../../models/faces/index.js';
import { createActorService, type ActorService } from '../../services/actors.js';
import { FACES_COLLECTION } from '../../store/appearances.js';
import type { ActorScore } from '../face-identity.js';
import { identifyVideoTracks, isPropagated, type SecondOpinionScorer, type TrackEvidence } from '../face-video-identity.js';
import { secondOpinionScorerFor } from '../../services/face-second-opinion.js';
import { faceSpansFromTracks } from '../face-tracking.js';
import { awaitPrerequisites, type Stage, type StageContext } from '../stage.js';
import { stageFrames } from '../stage-media.js';
import { buildRecords, clusterUnknowns, finishClusters } from './records.js';
import { sampleFaces } from './sampling.js';
import { trackShots, type DraftTrack } from './tracks.js';

/** Decoded frame width: enough pixels for a face to embed well, far cheaper than full HD. */
export const FACE_DECODE_WIDTH = 960;
/**
 * Sources whose shorter side is below this get tiled detection (config faceDetectTiles): their
 * faces are fewest pixels, and the detector's 320×240 input halves them again. Measured on the
 * harder set (640×360): labelled people never detected 15 → 5 of 77 shot appearances, for ~1.9×
 * the stage's CPU; at 720p and above the whole frame alone keeps the stage's cost (README.md).
 */
export const TILE_BELOW_SIDE_PX = 720;
/** Share of the stage's progress taken by sampling (detection); the rest is tracking and storing. */
const SAMPLING_SHARE = 0.7;

export interface FacesStageOutput {
  fps: number;
  sampledFrames: number;
  faces: number;
  /** Faces run through the embedder; the others lent a chain neighbour's vector to the tracker. */
  embeddedFaces: number;
  tracks: number;
  identifiedTracks: number;
  /** Of those, named by propagation from a linked track rather than by their own faces. */
  propagatedTracks: number;
  unknownTracks: number;
  clustersCreated: number;
  modelId: string;
}

export interface FrameRequest {
  fps: number;
  width: number;
  signal: AbortSignal;
}

export interface FacesStageDeps {
  models(ctx: StageContext): Promise<FaceModels>;
  frames(ctx: StageContext, request: FrameRequest): AsyncIterable<RawFrame>;
  /** The enrolled actors closest to one face, best first; only those of `among` (a cast) when given (ActorService.scoreFace). */
  scoreFace(ctx: StageContext, embedding: Float32Array, among: readonly string[] | null): Promise<ActorScore[]>;
  /** The second recogniser asked about small unknown tracks when the video has a cast (null: none). */
  secondOpinion(ctx: StageContext): SecondOpinionScorer | null;
}

const defaultDeps: FacesStageDeps = {
  models: (ctx) => loadFaceModels({ modelDir: ctx.config.modelDir }),
  frames: (ctx, request) => stageFrames(ctx, faceFrameRequest(ctx.video, request.fps, request.width), request.signal),
  scoreFace: (ctx, embedding, among) => actorServiceFor(ctx).scoreFace(embedding, undefined, among),
  secondOpinion: (ctx) => (ctx.video.cast?.length ? secondOpinionScorerFor(ctx.store.actors) : null),
};

/** The RGB stream faces are detected in (never wider than the video). */
function faceFrameRequest(video: Pick<VideoRecord, 'width'>, fps: number, width: number): SourceFrameRequest {
  return { fps, width: Math.min(width, video.width || width), pixFmt: 'rgb24' };
}

function faceMedia(video: VideoRecord, config: Config): { frames: SourceFrameRequest[] } {
  return { frames: [faceFrameRequest(video, config.indexing.faceSampleFps, FACE_DECODE_WIDTH)] };
}

// The ActorService owns the calibrated threshold and the template collection's model checks;
// one per stage run, so its collection check happens once rather than per track.
const actorServices = new WeakMap<StageContext, ActorService>();

function actorServiceFor(ctx: StageContext): ActorService {
  let service = actorServices.get(ctx);
  if (!service) {
    service = createActorService({ store: ctx.store, config: ctx.config, log: ctx.log, models: () => loadFaceModels({ modelDir: ctx.config.modelDir }) });
    actorServices.set(ctx, service);
  }
  return service;
}

/** Shots to sample; a video without stored shots is one shot. */
async function shotsOf(ctx: StageContext): Promise<ShotRecord[]> {
  const shots = await ctx.store.catalog.getShots(ctx.video.id);
  if (shots.length) return [...shots].sort((a, b) => a.start - b.start);
  return [{ id: `${ctx.video.id}:whole`, videoId: ctx.video.id, index: 0, start: 0, end: ctx.video.durationSec, keyframeTime: 0, transition: 'START' }];
}

/** What a draft track is judged on: its embedded faces, and its thumbnails (the crops its best faces keep). */
function trackEvidence(draft: DraftTrack): TrackEvidence {
  const embedded = draft.faces.filter((f) => f.embedded);
  return {
    embedding: draft.embedding,
    faces: embedded.map((f) => ({ quality: f.quality, side: Math.min(f.face.box.width, f.face.box.height), embedding: f.embedding })),
    thumbnails: draft.faces.flatMap((f) => (f.crop ? [{ quality: f.quality, jpeg: f.crop }] : [])),
  };
}

export function createFacesStage(overrides: Partial<FacesStageDeps> = {}): Stage<unknown, FacesStageOutput> {
  const deps: FacesStageDeps = { ...defaultDeps, ...overrides };
  return {
    name: 'faces',
    weight: 4,
    needs: ['probe'],
    // Tracks inside shots (stored by the shots stage); without them the video is one shot.
    awaits: ['shots'],
    media: faceMedia,
    async run(ctx) {
      const { video, store, log } = ctx;
      const fps = ctx.config.indexing.faceSampleFps;
      const models = await deps.models(ctx);
      const modelId = models.embedder.modelId;
      await store.vectors.ensureCollection({ name: FACES_COLLECTION, dim: models.embedder.dim, metric: 'cosine', modelId });

      const tiles = Math.min(video.width, video.height) < TILE_BELOW_SIDE_PX ? ctx.config.indexing.faceDetectTiles : 1;
      const progress = (fraction: number): void => ctx.reportProgress(Math.min(0.95, fraction));
      const samples = await sampleFaces(deps.frames(ctx, { fps, width: FACE_DECODE_WIDTH, signal: ctx.signal }), models, {
        tiles,
        videoWidth: video.width,
        progress: (time) => video.durationSec > 0 && progress((SAMPLING_SHARE * time) / video.durationSec),
      });
      try {
        await awaitPrerequisites(ctx);
        const { drafts, cannotLink, embeddedFaces } = await trackShots(models, samples, await shotsOf(ctx), {
          fps,
          progress: (fraction) => progress(SAMPLING_SHARE + (1 - SAMPLING_SHARE) * fraction),
        });
        const evidence = drafts.map(trackEvidence);
        const identities = await identifyVideoTracks(evidence, cannotLink, (embedding, among) => deps.scoreFace(ctx, embedding, among), { cast: video.cast ?? null, secondOpinion: deps.secondOpinion(ctx) });

        const clusterResult = await clusterUnknowns(ctx, drafts, identities, cannotLink, modelId);
        const { tracks, faces } = buildRecords(video, drafts, identities, clusterResult.assigned, modelId, samples.scale);
        const clusters = finishClusters(clusterResult.clusters, clusterResult.touched, tracks, faces, modelId);

        const oldFaceIds = (await store.appearances.getFacesOfTracks((await store.appearances.getTracksOfVideo(video.id)).map((t) => t.id))).map((f) => f.id);
        await store.vectors.upsert(
          FACES_COLLECTION,
          faces.filter((face) => face.embedded).map((face) => ({ id: face.id, vector: face.embedding, payload: { videoId: video.id, trackId: face.trackId, time: face.time } })),
        );
        await store.appearances.replaceVideoFaces(video.id, {
          tracks,
          faces: faces.map(({ embedding: _embedding, embedded: _embedded, ...record }) => record),
          spans: faceSpansFromTracks(video.id, tracks),
          clusters,
        });
        const newIds = new Set(faces.map((f) => f.id));
        await store.vectors.delete(FACES_COLLECTION, oldFaceIds.filter((id) => !newIds.has(id)));
        ctx.reportProgress(1);

        const output: FacesStageOutput = {
          fps,
          sampledFrames: samples.frames.length,
          faces: faces.length,
          embeddedFaces,
          tracks: tracks.length,
          identifiedTracks: tracks.filter((t) => t.actorId).length,
          propagatedTracks: identities.filter(isPropagated).length,
          unknownTracks: tracks.filter((t) => !t.actorId).length,
          clustersCreated: clusterResult.created,
          modelId,
        };
        log.info(output, 'faces indexed');
        return output;
      } finally {
        samples.crops.close();
      }
    },
  };
}
