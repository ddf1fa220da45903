// FrameEvidenceRepository on the embedded SQLite database: one row per sampled frame (JPEG picture
// and packed local features as BLOBs), keyed by (video, millisecond), so a verification window is
// one range read on the primary key; a grey thumbnail per frame (nullable: rows of older indexes
// have none) beside them, its width in its own column. A trigger drops a video's rows with its catalog row, the
// way every derived row goes with its video.
import type { FrameEvidence, FrameEvidenceRepository } from '../interfaces.js';
import { StatementCache, type SqliteDatabase } from './db.js';

/** Appended to the embedded store's migration list. */
export const FRAME_EVIDENCE_MIGRATION_SQL = `
CREATE TABLE frame_evidence (
  video_id TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  model TEXT NOT NULL,
  picture BLOB NOT NULL,
  features BLOB NOT NULL,
  repeat INTEGER NOT NULL,
  PRIMARY KEY (video_id, time_ms)
);
CREATE TRIGGER frame_evidence_video_deleted AFTER DELETE ON videos BEGIN
  DELETE FROM frame_evidence WHERE video_id = old.id;
END;
`;

/** Appended later: grey thumbnails for time localisation (older rows keep NULL). */
export const FRAME_THUMBNAIL_MIGRATION_SQL = `
ALTER TABLE frame_evidence ADD COLUMN thumbnail BLOB;
ALTER TABLE frame_evidence ADD COLUMN thumbnail_width INTEGER;
`;

/** The columns a FrameEvidence is read from (evidenceOfRow), also for the media migration's reads. */
export const EVIDENCE_COLUMNS = 'time_ms, picture, features, repeat, thumbnail, thumbnail_width';

export interface EvidenceRow {
  time_ms: number;
  picture: Buffer;
  features: Buffer;
  repeat: number;
  thumbnail: Buffer | null;
  thumbnail_width: number | null;
}

export function evidenceOfRow(r: EvidenceRow): FrameEvidence {
  const width = r.thumbnail_width;
  const thumbnail = r.thumbnail && width ? { width, height: r.thumbnail.length / width, grey: r.thumbnail } : null;
  return { time: r.time_ms / 1000, picture: r.picture, features: r.features, repeat: r.repeat === 1, thumbnail };
}

function blobOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class EmbeddedFrameEvidenceRepository implements FrameEvidenceRepository {
  /** window's reads: an image search verifies up to 30 candidates, each a window read (preparing cost as much as the read). */
  private readonly reads: StatementCache;

  constructor(private readonly db: SqliteDatabase) {
    this.reads = new StatementCache(db);
  }

  async add(videoId: string, model: string, frames: readonly FrameEvidence[]): Promise<void> {
    const write = this.db.prepare(
      'INSERT OR REPLACE INTO frame_evidence (video_id, time_ms, model, picture, features, repeat, thumbnail, thumbnail_width) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const f of frames) {
        const thumbnail = f.thumbnail ?? null;
        write.run(videoId, Math.round(f.time * 1000), model, blobOf(f.picture), blobOf(f.features), f.repeat ? 1 : 0, thumbnail && blobOf(thumbnail.grey), thumbnail?.width ?? null);
      }
    })();
  }

  async window(videoId: string, model: string, from: number, to: number): Promise<FrameEvidence[]> {
    const fromMs = Math.ceil(from * 1000);
    const rows = this.reads
      .get(`SELECT ${EVIDENCE_COLUMNS} FROM frame_evidence WHERE video_id = ? AND time_ms BETWEEN ? AND ? AND model = ? ORDER BY time_ms`)
      .all(videoId, fromMs, Math.floor(to * 1000), model) as EvidenceRow[];
    if (rows[0]?.repeat === 1) {
      // The frame the leading repeats repeat: a still shot that began before the range.
      const lead = this.reads
        .get(`SELECT ${EVIDENCE_COLUMNS} FROM frame_evidence WHERE video_id = ? AND time_ms < ? AND model = ? AND repeat = 0 ORDER BY time_ms DESC LIMIT 1`)
        .get(videoId, fromMs, model) as EvidenceRow | undefined;
      if (lead) rows.unshift(lead);
    }
    return rows.map(evidenceOfRow);
  }

  async deleteVideo(videoId: string): Promise<void> {
    this.db.prepare('DELETE FROM frame_evidence WHERE video_id = ?').run(videoId);
  }
}
