// A queued, claimed indexing job for a stored placeholder video: what pipeline tests run stages on.
import type { JobRecord, VideoRecord } from '../../src/domain.js';
import type { Store } from '../../src/store/interfaces.js';

export async function claimedJobFor(store: Store, videoId: string, stagesDone: string[] = []): Promise<JobRecord> {
  const now = new Date().toISOString();
  const video: VideoRecord = {
    id: videoId, path: '/media/x.mp4', contentHash: 'h', title: null, series: null, season: null, episode: null,
    durationSec: 10, fps: 25, width: 320, height: 180, rotation: 0, startTime: 0, hasAudio: false, status: 'PENDING',
    error: null, createdAt: now, updatedAt: now,
  };
  await store.catalog.putVideo(video);
  await store.jobs.enqueue({ kind: 'INDEX_VIDEO', videoId: video.id, request: { path: video.path } });
  return { ...(await store.jobs.claim('test'))!, stagesDone };
}
