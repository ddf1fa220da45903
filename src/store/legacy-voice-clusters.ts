// Voice clusters were once points of the vector index: collection 'voice_clusters', the cluster's
// mean embedding as the vector and its record in the payload (scalars only, so the turns as JSON).
// Opening the store moves such points into the voice-cluster repository and deletes them, so a
// library indexed by an older version keeps its clusters, whichever backends hold the vectors and
// the clusters (the embedded file, Qdrant, Elasticsearch in any mix). Nothing left → one count.
import type { VectorIndex, VectorPayload, VectorPoint } from './interfaces.js';
import type { VoiceClusterOrigin, VoiceClusterRecord, VoiceClusterRepository, VoiceTurnRecord } from './voice-clusters.js';

export const LEGACY_VOICE_CLUSTERS_COLLECTION = 'voice_clusters';

function legacyRecord(id: string, p: VectorPayload): VoiceClusterRecord {
  const str = (key: string): string | null => (typeof p[key] === 'string' ? (p[key] as string) : null);
  const num = (key: string): number => (typeof p[key] === 'number' ? (p[key] as number) : 0);
  return {
    id,
    videoId: str('videoId') ?? '',
    actorId: str('actorId'),
    origin: str('origin') as VoiceClusterOrigin | null,
    linkedTrackId: str('linkedTrackId'),
    linkedShare: num('linkedShare'),
    linkedFaceId: str('linkedFaceId'),
    turns: JSON.parse(str('turns') ?? '[]') as VoiceTurnRecord[],
    speechSec: num('speechSec'),
    modelId: str('modelId') ?? '',
    createdAt: str('createdAt') ?? '',
    updatedAt: str('updatedAt') ?? '',
  };
}

/** Moves every legacy cluster point into `clusters`, video by video; returns how many clusters moved. */
export async function moveLegacyVoiceClusters(vectors: VectorIndex, clusters: VoiceClusterRepository): Promise<number> {
  const total = await vectors.count(LEGACY_VOICE_CLUSTERS_COLLECTION);
  if (total === 0) return 0;
  const byVideo = new Map<string, string[]>();
  for (const { id, payload } of await vectors.scroll(LEGACY_VOICE_CLUSTERS_COLLECTION, undefined, total)) {
    const videoId = typeof payload.videoId === 'string' ? payload.videoId : '';
    byVideo.set(videoId, [...(byVideo.get(videoId) ?? []), id]);
  }
  let moved = 0;
  for (const [videoId, ids] of byVideo) {
    // Clusters already in the repository are newer (a re-index, or another process that opened the
    // store at the same time moved them): the points are stale copies.
    if ((await clusters.listOfVideo(videoId)).length === 0) {
      const points = (await vectors.get(LEGACY_VOICE_CLUSTERS_COLLECTION, ids)).filter((p): p is VectorPoint => p !== null);
      await clusters.replaceVideo(videoId, points.map((p) => ({ record: legacyRecord(p.id, p.payload), vector: p.vector })));
      moved += points.length;
    }
    // Deleted only once the repository holds them: a failed start leaves them for the next one.
    await vectors.delete(LEGACY_VOICE_CLUSTERS_COLLECTION, ids);
  }
  return moved;
}
