// The faces stage's part that needs the shots: walks the sampled frames shot by shot, decides
// which faces to embed (face-embedding-plan.ts: chains close at the end of a shot), embeds them
// from the crops sampling kept, and tracks each shot's faces into draft tracks. The same frames,
// faces and shots give the same tracks whether sampling ran before or after the shots were known.
import sharp from 'sharp';
import type { ShotRecord } from '../../domain.js';
import type { FaceModels } from '../../models/faces/index.js';
import type { DetectedFace, RawImage } from '../../models/types.js';
import { FaceEmbeddingPlanner, embeddingSources, type ClosedChain } from '../face-embedding-plan.js';
import { coOccurringTracks, fuseTrackEmbedding, pairKey, trackCoverage, trackFaces, type SampledFace } from '../face-tracking.js';
import { embedSample, loadStored, type DetectedSample, type FaceSamples } from './sampling.js';

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

export interface TrackedFace extends SampledFace {
  /** JPEG of the aligned face; only the best faces of each track keep it. */
  crop: Buffer | null;
  /** False when the face borrowed a chain neighbour's embedding (it is not stored as a vector). */
  embedded: boolean;
}

interface PendingFace extends TrackedFace {
  box: DetectedFace['box'];
  sample: DetectedSample;
}

export interface DraftTrack {
  shot: ShotRecord;
  faces: TrackedFace[];
  coverage: { start: number; end: number };
  embedding: Float32Array;
}

export interface DraftTracks {
  drafts: DraftTrack[];
  /** Pairs of draft indexes seen at the same time (pairKey): never the same person. */
  cannotLink: Set<string>;
  embeddedFaces: number;
}

function shotAt(shots: readonly ShotRecord[], time: number): ShotRecord {
  let found = shots[0]!;
  for (const shot of shots) if (shot.start <= time + 1e-6) found = shot;
  return found;
}

async function encodeJpeg(image: RawImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } }).jpeg({ quality: THUMBNAIL_QUALITY }).toBuffer();
}

/** Placeholder until a face's chain closes and it is embedded or lent a neighbour's vector. */
const NOT_EMBEDDED = new Float32Array(0);

/**
 * Embeds a closed chain's chosen faces (with a thumbnail each: a track's thumbnails are its best
 * faces, always among the chosen) and lends every other face the vector of its nearest embedded
 * neighbour, for the tracker.
 */
async function embedChain(models: FaceModels, samples: FaceSamples, chain: ClosedChain<PendingFace>): Promise<void> {
  for (const face of chain.embed) {
    face.embedding = await embedSample(models, samples.crops, face.sample);
    face.crop = face.sample.thumbnail ? await encodeJpeg(loadStored(samples.crops, face.sample.thumbnail)) : null;
    face.embedded = true;
  }
  const sources = embeddingSources(chain.faces, new Set(chain.embed));
  chain.faces.forEach((face, i) => {
    if (!face.embedded) face.embedding = sources[i]!.embedding;
  });
}

/** Tracks of every shot, from the sampled faces; `progress` gets the fraction of frames walked. */
export async function trackShots(
  models: FaceModels,
  samples: FaceSamples,
  shots: readonly ShotRecord[],
  opts: { fps: number; progress(fraction: number): void },
): Promise<DraftTracks> {
  const out: DraftTracks = { drafts: [], cannotLink: new Set(), embeddedFaces: 0 };
  const planner = new FaceEmbeddingPlanner<PendingFace>(EMBED_BEST_PER_CHAIN);
  let shotFrames: PendingFace[][] = [];
  let currentShot: ShotRecord | null = null;
  let frameIndex = 0;
  const embedChains = async (chains: readonly ClosedChain<PendingFace>[]): Promise<void> => {
    for (const chain of chains) {
      await embedChain(models, samples, chain);
      out.embeddedFaces += chain.embed.length;
    }
  };
  const closeShot = async (): Promise<void> => {
    if (!currentShot) return;
    await embedChains(planner.closeAll());
    addShotTracks(out, currentShot, shotFrames, opts.fps);
    shotFrames = [];
    frameIndex = 0;
  };
  for (const [i, frame] of samples.frames.entries()) {
    const shot = shotAt(shots, frame.time);
    if (shot !== currentShot) {
      await closeShot();
      currentShot = shot;
    }
    const faces: PendingFace[] = frame.faces.map((sample) => ({
      frameIndex, time: frame.time, face: sample.face, box: sample.face.box, quality: sample.quality, sample,
      embedding: NOT_EMBEDDED, embedded: false, crop: null,
    }));
    await embedChains(planner.addFrame(frameIndex, faces).closed);
    if (faces.length) shotFrames.push(faces);
    frameIndex++;
    opts.progress((i + 1) / samples.frames.length);
  }
  await closeShot();
  return out;
}

/** One shot's tracks (poor ones dropped) into the drafts, with the pairs that co-occur. */
function addShotTracks(out: DraftTracks, shot: ShotRecord, shotFrames: PendingFace[][], fps: number): void {
  const tracks = trackFaces(shotFrames) as PendingFace[][];
  const kept = tracks.filter((t) => Math.max(...t.map((f) => f.quality)) >= MIN_TRACK_QUALITY);
  const offset = out.drafts.length;
  for (const pair of coOccurringTracks(kept)) {
    const [a, b] = pair.split(':').map(Number) as [number, number];
    out.cannotLink.add(pairKey(offset + a, offset + b));
  }
  for (const pending of kept) {
    const faces: TrackedFace[] = pending.map(({ sample: _sample, box: _box, ...face }) => face);
    const ranked = [...faces].sort((a, b) => b.quality - a.quality);
    // Only the best faces keep their crop: they are the track's thumbnails and future templates.
    for (const face of ranked.slice(TRACK_TOP_FACES)) face.crop = null;
    out.drafts.push({ shot, faces, coverage: trackCoverage(faces, fps, shot), embedding: fuseTrackEmbedding(faces, TRACK_TOP_FACES) });
  }
}
