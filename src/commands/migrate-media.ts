// `vidsearch migrate --to elastic`, media part: copies technical cues, episode fingerprints, skip
// markers and frame evidence from the embedded store into their Elasticsearch repositories.
//
// Safe to re-run, and never overwrites what the target got after the switch: a technical set or a
// video's markers already in the target are left alone, and a video's frame evidence is skipped
// when the target holds its last frame (frames are copied in time order, so a copy cut off half-way
// is resumed). Fingerprints are rewritten as they are (the target has no read of one video's).
// Technical sets and markers are read through the embedded repositories for every video of the
// catalog; fingerprints and frame evidence straight from the SQLite file, read-only, because their
// repositories have no call listing what they hold.
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../logger.js';
import { DATABASE_FILE } from '../store/embedded/db.js';
import { EVIDENCE_COLUMNS, evidenceOfRow, type EvidenceRow } from '../store/embedded/frame-evidence.js';
import { fingerprintOf, type FingerprintRow } from '../store/embedded/intro.js';
import type { Store } from '../store/interfaces.js';

type MediaRepositories = Pick<Store, 'technical' | 'intro' | 'frameEvidence'>;

export interface MediaCopy {
  /** Technical sets (cues, shot quality, visual flags of one video) copied. */
  technicalSets: number;
  /** Sets the target already held: left as they are. */
  technicalSetsSkipped: number;
  fingerprints: number;
  /** Videos whose markers were copied. */
  markerVideos: number;
  /** Videos that already had markers in the target: left as they are. */
  markerVideosSkipped: number;
  evidenceFrames: number;
  /** (video, model) pairs whose frames were all in the target already. */
  evidenceVideosSkipped: number;
}

const VIDEO_PAGE = 100;
/** Frames per add: about 20 KB each; each add waits for one refresh. */
const EVIDENCE_BATCH = 500;


interface EvidenceSpan {
  video_id: string;
  model: string;
  last_ms: number;
}


/** Copies one technical set unless the target has it already; true when copied. */
async function copySet<T>(read: (repos: MediaRepositories) => Promise<T[]>, write: (repos: MediaRepositories, rows: T[]) => Promise<void>, source: MediaRepositories, target: MediaRepositories): Promise<boolean | null> {
  const rows = await read(source);
  if (rows.length === 0) return null;
  if ((await read(target)).length > 0) return false;
  await write(target, rows);
  return true;
}

async function copyPerVideo(source: Pick<Store, 'catalog'> & MediaRepositories, target: MediaRepositories, copied: MediaCopy, log: Logger): Promise<void> {
  for (let after: string | null = null; ; ) {
    const page = await source.catalog.listVideos({}, { first: VIDEO_PAGE, after });
    const ids = page.items.map((v) => v.id);
    for (const id of ids) {
      const results = [
        await copySet((r) => r.technical.getCues(id), (r, rows) => r.technical.replaceCues(id, rows), source, target),
        await copySet((r) => r.technical.getShotQuality(id), (r, rows) => r.technical.replaceShotQuality(id, rows), source, target),
        await copySet((r) => r.technical.getVisualFlags(id), (r, rows) => r.technical.replaceVisualFlags(id, rows), source, target),
      ];
      copied.technicalSets += results.filter((r) => r === true).length;
      copied.technicalSetsSkipped += results.filter((r) => r === false).length;
    }
    const [sourceMarkers, targetMarkers] = await Promise.all([source.intro.getMarkers(ids), target.intro.getMarkers(ids)]);
    for (const [i, id] of ids.entries()) {
      const markers = sourceMarkers[i]!;
      if (markers.length === 0) continue;
      if (targetMarkers[i]!.length > 0) {
        copied.markerVideosSkipped += 1;
        continue;
      }
      await target.intro.replaceAutoMarkers([id], markers.filter((m) => m.source === 'AUTO'));
      for (const marker of markers.filter((m) => m.source === 'EDITOR')) await target.intro.putEditorMarker(id, marker.kind, marker);
      copied.markerVideos += 1;
    }
    log.info({ ...copied }, 'technical sets and markers copied');
    if (!page.hasNextPage) return;
    after = page.endCursor;
  }
}

async function copyEvidence(db: Database.Database, target: MediaRepositories, copied: MediaCopy, log: Logger): Promise<void> {
  const spans = db.prepare('SELECT video_id, model, MAX(time_ms) AS last_ms FROM frame_evidence GROUP BY video_id, model ORDER BY video_id, model').all() as EvidenceSpan[];
  const batch = db.prepare(`SELECT ${EVIDENCE_COLUMNS} FROM frame_evidence WHERE video_id = ? AND model = ? AND time_ms > ? ORDER BY time_ms LIMIT ?`);
  for (const span of spans) {
    const last = span.last_ms / 1000;
    if ((await target.frameEvidence.window(span.video_id, span.model, last, last)).some((f) => Math.round(f.time * 1000) === span.last_ms)) {
      copied.evidenceVideosSkipped += 1;
      continue;
    }
    for (let after = -1; ; ) {
      const rows = batch.all(span.video_id, span.model, after, EVIDENCE_BATCH) as EvidenceRow[];
      if (rows.length === 0) break;
      await target.frameEvidence.add(span.video_id, span.model, rows.map(evidenceOfRow));
      copied.evidenceFrames += rows.length;
      after = rows.at(-1)!.time_ms;
    }
    log.info({ videoId: span.video_id, evidenceFrames: copied.evidenceFrames }, 'frame evidence copied');
  }
}

/** Copies the embedded store's technical sets, fingerprints, markers and frame evidence into `target`. */
export async function copyMedia(source: Pick<Store, 'catalog'> & MediaRepositories, dataDir: string, target: MediaRepositories, log: Logger): Promise<MediaCopy> {
  const copied: MediaCopy = { technicalSets: 0, technicalSetsSkipped: 0, fingerprints: 0, markerVideos: 0, markerVideosSkipped: 0, evidenceFrames: 0, evidenceVideosSkipped: 0 };
  await copyPerVideo(source, target, copied, log);
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    for (const row of db.prepare('SELECT * FROM episode_fingerprints ORDER BY video_id').all() as FingerprintRow[]) {
      await target.intro.putFingerprint(fingerprintOf(row));
      copied.fingerprints += 1;
    }
    await copyEvidence(db, target, copied, log);
  } finally {
    db.close();
  }
  log.info({ ...copied }, 'media copied');
  return copied;
}
