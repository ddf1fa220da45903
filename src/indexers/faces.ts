// The `faces` stage: who is on screen, and when. Samples frames inside each shot (default 2 fps),
// detects and embeds faces, scores their quality, tracks them through the shot, decides each
// TRACK's identity from its best faces, names it after an enrolled actor (open set) or files it
// into an unknown-face cluster shared by the whole library, and stores faces, tracks, clusters
// and the FACE appearance spans onlyWatch answers from.
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { ShotRecord, VideoRecord } from '../domain.js';
import type { Config } from '../config.js';
import type { RawFrame } from '../media/frames.js';
import type { FrameRequest as SourceFrameRequest } from '../media/source.js';
import { alignFace, loadFaceModels, type FaceModels } from '../models/faces/index.js';
import type { DetectedFace, RawImage } from '../models/types.js';
import { createActorService, type ActorService } from '../services/actors.js';
import { FACES_COLLECTION, type FaceClusterRecord, type FaceRecord, type FaceTrackRecord } from '../store/appearances.js';
import type { ActorScore } from './face-identity.js';
import { FaceEmbeddingPlanner, embeddingSources, type ClosedChain } from './face-embedding-plan.js';
import { assignClusters, type MutableCluster } from './face-clustering.js';
import { identifyVideoTracks, isPropagated, type VideoTrackIdentity } from './face-video-identity.js';
import {
  coOccurringTracks,
  faceQuality,
  faceSpansFromTracks,
  fuseTrackEmbedding,
  pairKey,
  trackCoverage,
  trackFaces,
  type SampledFace,
} from './face-tracking.js';
import type { Stage, StageContext } from './stage.js';
import { stageFrames } from './stage-media.js';

/** Decoded frame width: enough pixels for a face to embed well, far cheaper than full HD. */
export const FACE_DECODE_WIDTH = 960;
/** Faces smaller than this (box side, decoded pixels) are too small to recognise reliably. */
export const MIN_FACE_SIDE = 16;
/**
 * Sources whose shorter side is below this get tiled detection (config faceDetectTiles): their
 * faces are fewest pixels, and the detector's 320×240 input halves them again. Measured on the
 * harder set (640×360): labelled people never detected 15 → 5 of 77 shot appearances, for ~1.9×
 * the stage's CPU; at 720p and above the whole frame alone keeps the stage's cost (README.md).
 */
export const TILE_BELOW_SIDE_PX = 720;
/** Faces fused into a track's identity, and kept as thumbnails (templates when a cluster is named). */
export const TRACK_TOP_FACES = 3;
/**
 * Best faces per chain (face-embedding-plan.ts) that are embedded, besides its first and last:
 * the track's thumbnails and fused embedding are its TRACK_TOP_FACES best, so those stay exact;
 * identity then scores a track's embedded faces (up to the rule's maxFaces) instead of its 12 best.
 * Chosen on the fit half of the harder presence set (faces only): 3, 6 and 12 (every face the rule
 * scores) gave the same P/R, 0.977 / 0.658, so the smallest that keeps thumbnails exact. Reported
 * on the report half: 0.968 / 0.615 as with every face embedded; presence.json 1.0 / 1.0 as before.
 */
export const EMBED_BEST_PER_CHAIN = TRACK_TOP_FACES;
/** Tracks whose best face is this poor (blur, profile, tiny) are dropped as unrecognisable. */
export const MIN_TRACK_QUALITY = 0.05;
const THUMBNAIL_QUALITY = 85;

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
}

const defaultDeps: FacesStageDeps = {
  models: (ctx) => loadFaceModels({ modelDir: ctx.config.modelDir }),
  frames: (ctx, request) => stageFrames(ctx, faceFrameRequest(ctx.video, request.fps, request.width), request.signal),
  scoreFace: (ctx, embedding, among) => actorServiceFor(ctx).scoreFace(embedding, undefined, among),
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

interface SampledFaceWithCrop extends SampledFace {
  /** JPEG of the aligned face; only the best faces of each track keep it. */
  crop: Buffer | null;
  /** False when the face borrowed a chain neighbour's embedding (it is not stored as a vector). */
  embedded: boolean;
}

interface PendingFace extends SampledFaceWithCrop {
  box: DetectedFace['box'];
  /** The frame the face was seen in, until it is embedded or let go (each frame is its own copy). */
  image: RawImage | null;
}

interface DraftTrack {
  shot: ShotRecord;
  faces: SampledFaceWithCrop[];
  coverage: { start: number; end: number };
  embedding: Float32Array;
}

/** Shots to sample; a video without stored shots is one shot. */
async function shotsOf(ctx: StageContext): Promise<ShotRecord[]> {
  const shots = await ctx.store.catalog.getShots(ctx.video.id);
  if (shots.length) return [...shots].sort((a, b) => a.start - b.start);
  return [{ id: `${ctx.video.id}:whole`, videoId: ctx.video.id, index: 0, start: 0, end: ctx.video.durationSec, keyframeTime: 0, transition: 'START' }];
}

function shotAt(shots: readonly ShotRecord[], time: number): ShotRecord {
  let found = shots[0]!;
  for (const shot of shots) if (shot.start <= time + 1e-6) found = shot;
  return found;
}

async function encodeJpeg(image: RawImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } }).jpeg({ quality: THUMBNAIL_QUALITY }).toBuffer();
}

/** Box in decoded pixels → box in the video's own pixels. */
function toVideoBox(face: DetectedFace, scale: number): FaceRecord['box'] {
  return { x: face.box.x * scale, y: face.box.y * scale, width: face.box.width * scale, height: face.box.height * scale };
}

/** Placeholder until a face's chain closes and it is embedded or lent a neighbour's vector. */
const NOT_EMBEDDED = new Float32Array(0);

/**
 * Embeds a closed chain's chosen faces from their frames (with a thumbnail each: a track's
 * thumbnails are its best faces, always among the chosen) and lends every other face the vector
 * of its nearest embedded neighbour, for the tracker.
 */
async function embedChain(models: FaceModels, chain: ClosedChain<PendingFace>): Promise<void> {
  for (const face of chain.embed) {
    const image = face.image!;
    face.embedding = await models.embedder.embed(image, face.face);
    face.crop = face.face.landmarks?.length === 5 ? await encodeJpeg(alignFace(image, face.face.landmarks)) : null;
    face.embedded = true;
    face.image = null;
  }
  const sources = embeddingSources(chain.faces, new Set(chain.embed));
  chain.faces.forEach((face, i) => {
    if (!face.embedded) face.embedding = sources[i]!.embedding;
  });
}

export function createFacesStage(overrides: Partial<FacesStageDeps> = {}): Stage<unknown, FacesStageOutput> {
  const deps: FacesStageDeps = { ...defaultDeps, ...overrides };
  return {
    name: 'faces',
    weight: 4,
    // Samples inside shots (stored by the shots stage); without them the video is one shot.
    needs: ['shots'],
    media: faceMedia,
    async run(ctx) {
      const { video, store, log } = ctx;
      const fps = ctx.config.indexing.faceSampleFps;
      const models = await deps.models(ctx);
      const modelId = models.embedder.modelId;
      await store.vectors.ensureCollection({ name: FACES_COLLECTION, dim: models.embedder.dim, metric: 'cosine', modelId });
      const shots = await shotsOf(ctx);

      // Detect and embed per sampled frame; track each shot as soon as it ends, so only one
      // shot's crops are held in memory at a time.
      const drafts: DraftTrack[] = [];
      const cannotLink = new Set<string>();
      let shotFrames: SampledFaceWithCrop[][] = [];
      let currentShot: ShotRecord | null = null;
      let frameIndex = 0;
      let sampledFrames = 0;
      let embeddedFaces = 0;
      const planner = new FaceEmbeddingPlanner<PendingFace>(EMBED_BEST_PER_CHAIN);
      const embedChains = async (chains: readonly ClosedChain<PendingFace>[]): Promise<void> => {
        for (const chain of chains) {
          await embedChain(models, chain);
          embeddedFaces += chain.embed.length;
        }
      };
      const closeShot = async (): Promise<void> => {
        if (!currentShot) return;
        await embedChains(planner.closeAll());
        const tracks = trackFaces(shotFrames) as SampledFaceWithCrop[][];
        const kept = tracks.filter((t) => Math.max(...t.map((f) => f.quality)) >= MIN_TRACK_QUALITY);
        const offset = drafts.length;
        for (const pair of coOccurringTracks(kept)) {
          const [a, b] = pair.split(':').map(Number) as [number, number];
          cannotLink.add(pairKey(offset + a, offset + b));
        }
        for (const faces of kept) {
          const ranked = [...faces].sort((a, b) => b.quality - a.quality);
          // Only the best faces keep their crop: they are the track's thumbnails and future templates.
          for (const face of ranked.slice(TRACK_TOP_FACES)) face.crop = null;
          drafts.push({ shot: currentShot, faces, coverage: trackCoverage(faces, fps, currentShot), embedding: fuseTrackEmbedding(faces, TRACK_TOP_FACES) });
        }
        shotFrames = [];
        frameIndex = 0;
      };

      const tiles = Math.min(video.width, video.height) < TILE_BELOW_SIDE_PX ? ctx.config.indexing.faceDetectTiles : 1;
      let scale = 1;
      for await (const frame of deps.frames(ctx, { fps, width: FACE_DECODE_WIDTH, signal: ctx.signal })) {
        sampledFrames++;
        scale = video.width > 0 ? video.width / frame.width : 1;
        const shot = shotAt(shots, frame.time);
        if (shot !== currentShot) {
          await closeShot();
          currentShot = shot;
        }
        const image: RawImage = { data: frame.data, width: frame.width, height: frame.height, channels: 3 };
        const detected = (await models.detector.detect(image, { tiles })).filter((f) => Math.min(f.box.width, f.box.height) >= MIN_FACE_SIDE);
        const faces: PendingFace[] = detected.map((face) => ({
          frameIndex, time: frame.time, face, box: face.box, quality: faceQuality(image, face), image,
          embedding: NOT_EMBEDDED, embedded: false, crop: null,
        }));
        const outcome = planner.addFrame(frameIndex, faces);
        for (const face of outcome.released) face.image = null;
        await embedChains(outcome.closed);
        if (faces.length) shotFrames.push(faces);
        frameIndex++;
        if (video.durationSec > 0) ctx.reportProgress(Math.min(0.95, frame.time / video.durationSec));
      }
      await closeShot();

      const evidence = drafts.map((draft) => ({ embedding: draft.embedding, faces: draft.faces.filter((f) => f.embedded).map((f) => ({ quality: f.quality, side: Math.min(f.face.box.width, f.face.box.height), embedding: f.embedding })) }));
      const identities = await identifyVideoTracks(evidence, cannotLink, (embedding, among) => deps.scoreFace(ctx, embedding, among), { cast: video.cast ?? null });

      const clusterResult = await clusterUnknowns(ctx, drafts, identities, cannotLink, modelId);
      const { tracks, faces } = buildRecords(video, drafts, identities, clusterResult.assigned, modelId, scale);
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
        sampledFrames,
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
    },
  };
}

interface ClusterWork {
  clusters: Map<string, MutableCluster & { record: FaceClusterRecord | null }>;
  touched: Set<string>;
  assigned: Map<number, string>;
  created: number;
}

/**
 * Files unknown tracks into library-wide clusters. A re-indexed video's old tracks first leave
 * their clusters, so indexing the same video twice does not count its faces twice.
 */
async function clusterUnknowns(
  ctx: StageContext,
  drafts: readonly DraftTrack[],
  identities: readonly (VideoTrackIdentity | null)[],
  cannotLink: ReadonlySet<string>,
  modelId: string,
): Promise<ClusterWork> {
  const repo = ctx.store.appearances;
  const clusters: ClusterWork['clusters'] = new Map();
  for (const record of await repo.openClusters(modelId)) clusters.set(record.id, { id: record.id, vectorSum: record.vectorSum, size: record.size, record });
  const touched = new Set<string>();
  for (const old of await repo.getTracksOfVideo(ctx.video.id)) {
    if (!old.clusterId) continue;
    let cluster = clusters.get(old.clusterId);
    if (!cluster) {
      const record = await repo.getCluster(old.clusterId);
      if (!record) continue;
      cluster = { id: record.id, vectorSum: record.vectorSum, size: record.size, record };
      clusters.set(record.id, cluster);
    }
    for (let i = 0; i < cluster.vectorSum.length; i++) cluster.vectorSum[i]! -= old.embedding[i] ?? 0;
    cluster.size -= 1;
    // This video's faces are about to be replaced: a cover picture from them would dangle.
    if (cluster.record?.bestFaceId?.startsWith(`${ctx.video.id}:face:`)) cluster.record = { ...cluster.record, bestFaceId: null, bestFaceQuality: 0 };
    touched.add(cluster.id);
  }
  // Named clusters take no new members: their person is now an actor, found by identification.
  const open = new Map([...clusters].filter(([, c]) => c.record?.actorId == null));
  const unknown = drafts
    .map((draft, index) => ({ index, embedding: draft.embedding, length: draft.faces.length }))
    .filter((t) => identities[t.index] === null)
    .sort((a, b) => b.length - a.length);
  let created = 0;
  const assigned = assignClusters(unknown, open as Map<string, MutableCluster>, cannotLink, () => {
    created++;
    return randomUUID();
  });
  for (const [id, cluster] of open) if (!clusters.has(id)) clusters.set(id, { ...cluster, record: null });
  for (const id of assigned.values()) touched.add(id);
  return { clusters, touched, assigned, created };
}

type FaceWithEmbedding = FaceRecord & { embedding: Float32Array; embedded: boolean };

function buildRecords(
  video: VideoRecord,
  drafts: readonly DraftTrack[],
  identities: readonly (VideoTrackIdentity | null)[],
  clusterOf: ReadonlyMap<number, string>,
  modelId: string,
  scale: number,
): { tracks: FaceTrackRecord[]; faces: FaceWithEmbedding[] } {
  const tracks: FaceTrackRecord[] = [];
  const faces: FaceWithEmbedding[] = [];
  drafts.forEach((draft, index) => {
    const trackId = `${video.id}:track:${index}`;
    const identity = identities[index] ?? null;
    let best: FaceWithEmbedding | null = null;
    for (const sampled of draft.faces) {
      const face: FaceWithEmbedding = {
        id: `${video.id}:face:${faces.length}`,
        videoId: video.id,
        trackId,
        time: sampled.time,
        box: toVideoBox(sampled.face, scale),
        detectionScore: sampled.face.score,
        quality: sampled.quality,
        thumbnail: sampled.crop,
        embedding: sampled.embedding,
        embedded: sampled.embedded,
      };
      faces.push(face);
      if (!best || face.quality > best.quality) best = face;
    }
    tracks.push({
      id: trackId,
      videoId: video.id,
      shotIndex: draft.shot.index,
      start: draft.coverage.start,
      end: draft.coverage.end,
      faceCount: draft.faces.length,
      actorId: identity?.actorId ?? null,
      clusterId: clusterOf.get(index) ?? null,
      // A propagated name carries no similarity of its own (null, like an editor's, but confidence < 1):
      // that is how stored tracks tell evidence from linked tracks (isPropagatedTrack).
      similarity: identity && !isPropagated(identity) ? identity.similarity : null,
      confidence: identity?.confidence ?? 0,
      bestFaceId: best!.id,
      embedding: draft.embedding,
      modelId,
    });
  });
  return { tracks, faces };
}

/** Cluster records to write: new sums and sizes, and a cover face when a better one arrived. */
function finishClusters(
  clusters: ClusterWork['clusters'],
  touched: ReadonlySet<string>,
  tracks: readonly FaceTrackRecord[],
  faces: readonly FaceRecord[],
  modelId: string,
): FaceClusterRecord[] {
  const now = new Date().toISOString();
  const faceById = new Map(faces.map((f) => [f.id, f]));
  const out: FaceClusterRecord[] = [];
  for (const id of touched) {
    const cluster = clusters.get(id)!;
    const record: FaceClusterRecord = cluster.record
      ? { ...cluster.record, vectorSum: cluster.vectorSum, size: cluster.size, updatedAt: now }
      : { id, actorId: null, size: cluster.size, vectorSum: cluster.vectorSum, modelId, bestFaceId: null, bestFaceQuality: 0, createdAt: now, updatedAt: now };
    for (const track of tracks) {
      if (track.clusterId !== id) continue;
      const face = faceById.get(track.bestFaceId);
      if (face && face.quality > record.bestFaceQuality) {
        record.bestFaceId = face.id;
        record.bestFaceQuality = face.quality;
      }
    }
    out.push(record);
  }
  return out;
}

export const facesStage = createFacesStage();
