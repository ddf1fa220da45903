// `vidsearch migrate --to elastic`, presence part: copies the embedded store's actors (with their
// face templates), face clusters, and per video its face tracks, faces, appearance spans and voice
// clusters into other repositories (the Elasticsearch ones). Read through the embedded repositories; the lists
// the interfaces have no call for (every cluster, every video with presence data, a video's face
// ids) come from the SQLite file opened read-only, as copyCatalog reads checkpoints.
//
// Safe to re-run, and a re-run after the switch never overwrites newer data in the target with
// the stale SQLite rows: an actor or cluster already in the target is left alone, and so is a
// video whose every kind of data (tracks, FACE spans, VOICE spans) the source has is already
// there. A video's VOICE spans are written before its tracks and faces, so one cut off half-way
// lacks its tracks and is copied again. Voice clusters are copied per video, unless the target
// already holds clusters of that video.
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../logger.js';
import { DATABASE_FILE } from '../store/embedded/db.js';
import type { FaceClusterRecord, FaceRecord } from '../store/appearances.js';
import type { Store } from '../store/interfaces.js';
import type { VoiceClusterWithVector } from '../store/voice-clusters.js';

type PresenceRepositories = Pick<Store, 'actors' | 'appearances' | 'voiceClusters'>;

export interface PresenceCopy {
  actors: number;
  templates: number;
  /** Actors already in the target: left as they are. */
  skippedActors: number;
  clusters: number;
  skippedClusters: number;
  videos: number;
  /** Videos whose presence data the target already holds: left as they are. */
  skippedVideos: number;
  tracks: number;
  faces: number;
  spans: number;
  voiceClusters: number;
  /** Videos whose voice clusters the target already holds: left as they are. */
  skippedVoiceVideos: number;
}

const ACTOR_PAGE = 100;
const CLUSTER_BATCH = 100;

export async function copyPresence(source: PresenceRepositories, dataDir: string, target: PresenceRepositories, log: Logger): Promise<PresenceCopy> {
  const copied: PresenceCopy = { actors: 0, templates: 0, skippedActors: 0, clusters: 0, skippedClusters: 0, videos: 0, skippedVideos: 0, tracks: 0, faces: 0, spans: 0, voiceClusters: 0, skippedVoiceVideos: 0 };
  await copyActors(source, target, copied);
  log.info({ actors: copied.actors, templates: copied.templates, skipped: copied.skippedActors }, 'actors copied');
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    await copyClusters(db, source, target, copied);
    log.info({ clusters: copied.clusters, skipped: copied.skippedClusters }, 'face clusters copied');
    await copyVideos(db, source, target, copied, log);
    await copyVoiceClusters(db, source, target, copied);
    log.info({ voiceClusters: copied.voiceClusters, skippedVideos: copied.skippedVoiceVideos }, 'voice clusters copied');
  } finally {
    db.close();
  }
  return copied;
}

async function copyActors(source: PresenceRepositories, target: PresenceRepositories, copied: PresenceCopy): Promise<void> {
  for (let after: string | null = null; ; ) {
    const page = await source.actors.listActors(null, { first: ACTOR_PAGE, after });
    const present = await target.actors.getActors(page.items.map((a) => a.id));
    for (const [i, actor] of page.items.entries()) {
      if (present[i]) {
        copied.skippedActors += 1;
        continue;
      }
      const templates = await source.actors.listFaceTemplates(actor.id);
      await target.actors.createActor(actor, templates);
      copied.actors += 1;
      copied.templates += templates.length;
    }
    if (!page.hasNextPage) return;
    after = page.endCursor;
  }
}

async function copyClusters(db: Database.Database, source: PresenceRepositories, target: PresenceRepositories, copied: PresenceCopy): Promise<void> {
  const ids = (db.prepare('SELECT id FROM face_clusters ORDER BY id').all() as { id: string }[]).map((r) => r.id);
  for (let i = 0; i < ids.length; i += CLUSTER_BATCH) {
    const batch: FaceClusterRecord[] = [];
    for (const id of ids.slice(i, i + CLUSTER_BATCH)) {
      if (await target.appearances.getCluster(id)) {
        copied.skippedClusters += 1;
        continue;
      }
      const cluster = await source.appearances.getCluster(id);
      if (cluster) batch.push(cluster);
    }
    await target.appearances.putClusters(batch);
    copied.clusters += batch.length;
  }
}

async function copyVideos(db: Database.Database, source: PresenceRepositories, target: PresenceRepositories, copied: PresenceCopy, log: Logger): Promise<void> {
  const videoIds = (
    db.prepare('SELECT video_id FROM face_tracks UNION SELECT video_id FROM faces UNION SELECT video_id FROM appearance_spans ORDER BY video_id').all() as {
      video_id: string;
    }[]
  ).map((r) => r.video_id);
  const faceIdsOf = db.prepare('SELECT id FROM faces WHERE video_id = ? ORDER BY id');
  for (const videoId of videoIds) {
    const tracks = await source.appearances.getTracksOfVideo(videoId);
    const spans = await source.appearances.getSpansOfVideo(videoId);
    const faceSpans = spans.filter((s) => s.evidence === 'FACE');
    const voiceSpans = spans.filter((s) => s.evidence === 'VOICE');
    if (await alreadyCopied(target, videoId, { tracks: tracks.length > 0, FACE: faceSpans.length > 0, VOICE: voiceSpans.length > 0 })) {
      copied.skippedVideos += 1;
      continue;
    }
    const faceIds = (faceIdsOf.all(videoId) as { id: string }[]).map((r) => r.id);
    const faces = (await source.appearances.getFaces(faceIds)).filter((f): f is FaceRecord => f !== null);
    await target.appearances.replaceSpans(videoId, 'VOICE', voiceSpans);
    // Last: the tracks mark the video as copied.
    await target.appearances.replaceVideoFaces(videoId, { tracks, faces, spans: faceSpans, clusters: [] });
    copied.videos += 1;
    copied.tracks += tracks.length;
    copied.faces += faces.length;
    copied.spans += spans.length;
  }
  log.info({ videos: copied.videos, skipped: copied.skippedVideos, tracks: copied.tracks, faces: copied.faces, spans: copied.spans }, 'appearances copied');
}

async function copyVoiceClusters(db: Database.Database, source: PresenceRepositories, target: PresenceRepositories, copied: PresenceCopy): Promise<void> {
  const videoIds = (db.prepare('SELECT DISTINCT video_id FROM voice_clusters ORDER BY video_id').all() as { video_id: string }[]).map((r) => r.video_id);
  for (const videoId of videoIds) {
    if ((await target.voiceClusters.listOfVideo(videoId)).length > 0) {
      copied.skippedVoiceVideos += 1;
      continue;
    }
    const clusters: VoiceClusterWithVector[] = [];
    for (const record of await source.voiceClusters.listOfVideo(videoId)) {
      const vector = await source.voiceClusters.getVector(record.id);
      if (vector) clusters.push({ record, vector });
    }
    await target.voiceClusters.replaceVideo(videoId, clusters);
    copied.voiceClusters += clusters.length;
  }
}

/** The target holds every kind of data the source has for the video. */
async function alreadyCopied(target: PresenceRepositories, videoId: string, has: { tracks: boolean; FACE: boolean; VOICE: boolean }): Promise<boolean> {
  const spans = await target.appearances.getSpansOfVideo(videoId);
  const held = {
    tracks: (await target.appearances.getTracksOfVideo(videoId)).length > 0,
    FACE: spans.some((s) => s.evidence === 'FACE'),
    VOICE: spans.some((s) => s.evidence === 'VOICE'),
  };
  const kinds = (['tracks', 'FACE', 'VOICE'] as const).filter((kind) => has[kind]);
  return kinds.length > 0 && kinds.every((kind) => held[kind]);
}
