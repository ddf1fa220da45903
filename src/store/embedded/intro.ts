// IntroRepository on the embedded SQLite database. Fingerprint windows are BLOBs (a few KB per
// episode); series membership comes from the videos table, so renaming a series moves an episode.
import type { Database } from 'better-sqlite3';
import { IN_JSON_LIST, jsonList } from './db.js';
import type { EpisodeFingerprint, FingerprintWindow, IntroRepository, SkipMarkerKind, SkipMarkerRecord, SkipMarkerSource } from '../intro.js';

/** Appended to the embedded store's migration list. */
export const INTRO_MIGRATION_SQL = `
CREATE TABLE episode_fingerprints (
  video_id TEXT PRIMARY KEY,
  duration_sec REAL NOT NULL,
  visual_step_sec REAL NOT NULL,
  audio_step_sec REAL NOT NULL,
  version INTEGER NOT NULL,
  head_start REAL NOT NULL,
  head_visual BLOB NOT NULL,
  head_informative BLOB NOT NULL,
  head_audio BLOB NOT NULL,
  tail_start REAL NOT NULL,
  tail_visual BLOB NOT NULL,
  tail_informative BLOB NOT NULL,
  tail_audio BLOB NOT NULL
);

CREATE TABLE skip_markers (
  video_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  start REAL NOT NULL,
  "end" REAL NOT NULL,
  confidence REAL NOT NULL,
  matched_video_ids TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (video_id, kind, source)
);
`;

/** A row of episode_fingerprints as SQLite returns it (migrate-media.ts reads the file too). */
export interface FingerprintRow {
  video_id: string;
  duration_sec: number;
  visual_step_sec: number;
  audio_step_sec: number;
  version: number;
  head_start: number;
  head_visual: Buffer;
  head_informative: Buffer;
  head_audio: Buffer;
  tail_start: number;
  tail_visual: Buffer;
  tail_informative: Buffer;
  tail_audio: Buffer;
}

interface MarkerRow {
  video_id: string;
  kind: string;
  source: string;
  start: number;
  end: number;
  confidence: number;
  matched_video_ids: string;
  updated_at: string;
}

function blobOf(values: Uint32Array | Uint8Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

function uint32s(blob: Buffer): Uint32Array {
  // Copy: SQLite's buffer need not be 4-byte aligned.
  const copy = new Uint8Array(blob);
  return new Uint32Array(copy.buffer, 0, Math.floor(copy.length / 4));
}

function windowOf(start: number, visual: Buffer, informative: Buffer, audio: Buffer): FingerprintWindow {
  return { start, visual: uint32s(visual), visualInformative: new Uint8Array(informative), audio: uint32s(audio) };
}

export function fingerprintOf(row: FingerprintRow): EpisodeFingerprint {
  return {
    videoId: row.video_id,
    durationSec: row.duration_sec,
    visualStepSec: row.visual_step_sec,
    audioStepSec: row.audio_step_sec,
    version: row.version,
    head: windowOf(row.head_start, row.head_visual, row.head_informative, row.head_audio),
    tail: windowOf(row.tail_start, row.tail_visual, row.tail_informative, row.tail_audio),
  };
}

function markerOf(r: MarkerRow): SkipMarkerRecord {
  return {
    videoId: r.video_id,
    kind: r.kind as SkipMarkerKind,
    source: r.source as SkipMarkerSource,
    start: r.start,
    end: r.end,
    confidence: r.confidence,
    matchedVideoIds: JSON.parse(r.matched_video_ids) as string[],
    updatedAt: r.updated_at,
  };
}

export class EmbeddedIntroRepository implements IntroRepository {
  constructor(private readonly db: Database) {}

  async putFingerprint(fp: EpisodeFingerprint): Promise<void> {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO episode_fingerprints (video_id, duration_sec, visual_step_sec, audio_step_sec, version,
           head_start, head_visual, head_informative, head_audio, tail_start, tail_visual, tail_informative, tail_audio)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        fp.videoId, fp.durationSec, fp.visualStepSec, fp.audioStepSec, fp.version,
        fp.head.start, blobOf(fp.head.visual), blobOf(fp.head.visualInformative), blobOf(fp.head.audio),
        fp.tail.start, blobOf(fp.tail.visual), blobOf(fp.tail.visualInformative), blobOf(fp.tail.audio),
      );
  }

  async getFingerprintsOfSeries(series: string): Promise<EpisodeFingerprint[]> {
    const rows = this.db
      .prepare('SELECT f.* FROM episode_fingerprints f JOIN videos v ON v.id = f.video_id WHERE v.series = ? ORDER BY v.season, v.episode, v.created_at, v.id')
      .all(series) as FingerprintRow[];
    return rows.map(fingerprintOf);
  }

  async replaceAutoMarkers(videoIds: readonly string[], markers: readonly SkipMarkerRecord[]): Promise<void> {
    const insert = this.db.prepare(
      `INSERT OR REPLACE INTO skip_markers (video_id, kind, source, start, "end", confidence, matched_video_ids, updated_at)
       VALUES (?, ?, 'AUTO', ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM skip_markers WHERE source = 'AUTO' AND video_id IN ${IN_JSON_LIST}`).run(jsonList(videoIds));
      for (const m of markers) insert.run(m.videoId, m.kind, m.start, m.end, m.confidence, JSON.stringify(m.matchedVideoIds), m.updatedAt);
    })();
  }

  async putEditorMarker(videoId: string, kind: SkipMarkerKind, marker: SkipMarkerRecord | null): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM skip_markers WHERE source = 'EDITOR' AND video_id = ? AND kind = ?`).run(videoId, kind);
      if (!marker) return;
      this.db
        .prepare(
          `INSERT INTO skip_markers (video_id, kind, source, start, "end", confidence, matched_video_ids, updated_at)
           VALUES (?, ?, 'EDITOR', ?, ?, ?, '[]', ?)`,
        )
        .run(videoId, kind, marker.start, marker.end, marker.confidence, marker.updatedAt);
    })();
  }

  async getMarkers(videoIds: readonly string[]): Promise<SkipMarkerRecord[][]> {
    const rows = this.db
      .prepare(`SELECT * FROM skip_markers WHERE video_id IN ${IN_JSON_LIST} ORDER BY kind, source DESC`)
      .all(jsonList(videoIds)) as MarkerRow[];
    const byVideo = new Map<string, SkipMarkerRecord[]>();
    for (const row of rows) {
      const list = byVideo.get(row.video_id) ?? [];
      list.push(markerOf(row));
      byVideo.set(row.video_id, list);
    }
    return videoIds.map((id) => byVideo.get(id) ?? []);
  }

  async deleteVideo(videoId: string): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM episode_fingerprints WHERE video_id = ?').run(videoId);
      this.db.prepare('DELETE FROM skip_markers WHERE video_id = ?').run(videoId);
    })();
  }
}
