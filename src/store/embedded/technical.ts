// TechnicalRepository on the embedded SQLite database.
import type { Database } from 'better-sqlite3';
import type { Box } from '../../models/types.js';
import { StatementCache } from './db.js';
import type {
  ShotQualityRecord,
  TechnicalCueRecord,
  TechnicalCueType,
  TechnicalRepository,
  VisualFlagRecord,
  VisualModerationLabel,
} from '../technical.js';

/** Appended to the embedded store's migration list. */
export const TECHNICAL_MIGRATION_SQL = `
CREATE TABLE technical_cues (
  id TEXT PRIMARY KEY,
  video_id TEXT NOT NULL,
  type TEXT NOT NULL,
  start REAL NOT NULL,
  "end" REAL NOT NULL,
  confidence REAL NOT NULL,
  active_area TEXT
);
CREATE INDEX technical_cues_by_video ON technical_cues (video_id, start);

CREATE TABLE shot_quality (
  video_id TEXT NOT NULL,
  shot_index INTEGER NOT NULL,
  start REAL NOT NULL,
  "end" REAL NOT NULL,
  time REAL NOT NULL,
  sharpness REAL NOT NULL,
  face_sharpness REAL,
  blockiness REAL NOT NULL,
  brightness REAL NOT NULL,
  contrast REAL NOT NULL,
  clean INTEGER NOT NULL,
  issues TEXT NOT NULL,
  PRIMARY KEY (video_id, shot_index)
);

CREATE TABLE visual_flags (
  id TEXT PRIMARY KEY,
  video_id TEXT NOT NULL,
  segment_id TEXT NOT NULL,
  label TEXT NOT NULL,
  start REAL NOT NULL,
  "end" REAL NOT NULL,
  score REAL NOT NULL,
  evidence_times TEXT NOT NULL,
  model_id TEXT NOT NULL
);
CREATE INDEX visual_flags_by_video ON visual_flags (video_id, start);
`;

/**
 * Graded visual risk: rows written before it were all flags, so they read as flagged at full risk
 * until the video is indexed again.
 */
export const VISUAL_RISK_MIGRATION_SQL = `
ALTER TABLE visual_flags ADD COLUMN risk REAL NOT NULL DEFAULT 1;
ALTER TABLE visual_flags ADD COLUMN flagged INTEGER NOT NULL DEFAULT 1;
`;

interface CueRow {
  id: string;
  video_id: string;
  type: string;
  start: number;
  end: number;
  confidence: number;
  active_area: string | null;
}

interface QualityRow {
  video_id: string;
  shot_index: number;
  start: number;
  end: number;
  time: number;
  sharpness: number;
  face_sharpness: number | null;
  blockiness: number;
  brightness: number;
  contrast: number;
  clean: number;
  issues: string;
}

interface FlagRow {
  id: string;
  video_id: string;
  segment_id: string;
  label: string;
  start: number;
  end: number;
  score: number;
  risk: number;
  flagged: number;
  evidence_times: string;
  model_id: string;
}

export class EmbeddedTechnicalRepository implements TechnicalRepository {
  /** The reads every matchAds query makes. */
  private readonly reads: StatementCache;

  constructor(private readonly db: Database) {
    this.reads = new StatementCache(db);
  }

  async replaceCues(videoId: string, cues: readonly TechnicalCueRecord[]): Promise<void> {
    const insert = this.db.prepare('INSERT OR REPLACE INTO technical_cues (id, video_id, type, start, "end", confidence, active_area) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM technical_cues WHERE video_id = ?').run(videoId);
      for (const c of cues) insert.run(c.id, videoId, c.type, c.start, c.end, c.confidence, c.activeArea ? JSON.stringify(c.activeArea) : null);
    })();
  }

  async getCues(videoId: string): Promise<TechnicalCueRecord[]> {
    const rows = this.reads.get('SELECT * FROM technical_cues WHERE video_id = ? ORDER BY start, type').all(videoId) as CueRow[];
    return rows.map((r) => ({
      id: r.id,
      videoId: r.video_id,
      type: r.type as TechnicalCueType,
      start: r.start,
      end: r.end,
      confidence: r.confidence,
      activeArea: r.active_area ? (JSON.parse(r.active_area) as Box) : null,
    }));
  }

  async replaceShotQuality(videoId: string, rows: readonly ShotQualityRecord[]): Promise<void> {
    const insert = this.db.prepare(
      `INSERT OR REPLACE INTO shot_quality (video_id, shot_index, start, "end", time, sharpness, face_sharpness, blockiness, brightness, contrast, clean, issues)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM shot_quality WHERE video_id = ?').run(videoId);
      for (const q of rows) {
        insert.run(videoId, q.shotIndex, q.start, q.end, q.time, q.sharpness, q.faceSharpness, q.blockiness, q.brightness, q.contrast, q.clean ? 1 : 0, JSON.stringify(q.issues));
      }
    })();
  }

  async getShotQuality(videoId: string): Promise<ShotQualityRecord[]> {
    const rows = this.db.prepare('SELECT * FROM shot_quality WHERE video_id = ? ORDER BY shot_index').all(videoId) as QualityRow[];
    return rows.map((r) => ({
      videoId: r.video_id,
      shotIndex: r.shot_index,
      start: r.start,
      end: r.end,
      time: r.time,
      sharpness: r.sharpness,
      faceSharpness: r.face_sharpness,
      blockiness: r.blockiness,
      brightness: r.brightness,
      contrast: r.contrast,
      clean: r.clean === 1,
      issues: JSON.parse(r.issues) as string[],
    }));
  }

  async replaceVisualFlags(videoId: string, flags: readonly VisualFlagRecord[]): Promise<void> {
    const insert = this.db.prepare(
      'INSERT OR REPLACE INTO visual_flags (id, video_id, segment_id, label, start, "end", score, risk, flagged, evidence_times, model_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM visual_flags WHERE video_id = ?').run(videoId);
      for (const f of flags) insert.run(f.id, videoId, f.segmentId, f.label, f.start, f.end, f.score, f.risk, f.flagged ? 1 : 0, JSON.stringify(f.evidenceTimes), f.modelId);
    })();
  }

  async getVisualFlags(videoId: string): Promise<VisualFlagRecord[]> {
    const rows = this.reads.get('SELECT * FROM visual_flags WHERE video_id = ? ORDER BY start, label').all(videoId) as FlagRow[];
    return rows.map((r) => ({
      id: r.id,
      videoId: r.video_id,
      segmentId: r.segment_id,
      label: r.label as VisualModerationLabel,
      start: r.start,
      end: r.end,
      score: r.score,
      risk: r.risk,
      flagged: r.flagged === 1,
      evidenceTimes: JSON.parse(r.evidence_times) as number[],
      modelId: r.model_id,
    }));
  }

  async deleteVideo(videoId: string): Promise<void> {
    this.db.transaction(() => {
      for (const table of ['technical_cues', 'shot_quality', 'visual_flags']) this.db.prepare(`DELETE FROM ${table} WHERE video_id = ?`).run(videoId);
    })();
  }
}
