// The faces stage's records: unknown tracks filed into library-wide clusters, and the tracks,
// faces and cluster records the stage stores, from the draft tracks and their identities.
import { randomUUID } from 'node:crypto';
import type { VideoRecord } from '../../domain.js';
import type { DetectedFace } from '../../models/types.js';
import type { FaceClusterRecord, FaceRecord, FaceTrackRecord } from '../../store/appearances.js';
import { assignClusters, type MutableCluster } from '../face-clustering.js';
import { isPropagated, type VideoTrackIdentity } from '../face-video-identity.js';
import type { StageContext } from '../stage.js';
import type { DraftTrack } from './tracks.js';

/** Box in decoded pixels → box in the video's own pixels. */
function toVideoBox(face: DetectedFace, scale: number): FaceRecord['box'] {
  return { x: face.box.x * scale, y: face.box.y * scale, width: face.box.width * scale, height: face.box.height * scale };
}

export interface ClusterWork {
  clusters: Map<string, MutableCluster & { record: FaceClusterRecord | null }>;
  touched: Set<string>;
  assigned: Map<number, string>;
  created: number;
}

/**
 * Files unknown tracks into library-wide clusters. A re-indexed video's old tracks first leave
 * their clusters, so indexing the same video twice does not count its faces twice.
 */
export async function clusterUnknowns(
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

export type FaceWithEmbedding = FaceRecord & { embedding: Float32Array; embedded: boolean };

export function buildRecords(
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
export function finishClusters(
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
