// AdRepository, TagRepository and HighlightRepository on the embedded SQLite database.
import type { Database, Statement } from 'better-sqlite3';
import type { Page, PageArgs } from '../../domain.js';
import type {
  AdRecord,
  AdRepository,
  HighlightFeedbackRecord,
  HighlightModelRecord,
  HighlightRepository,
  HighlightSignalsRecord,
  SegmentTagRecord,
  TagKind,
  TagRepository,
  TagSource,
} from '../ads.js';
import { brandSafetyRules } from '../ads.js';

/** A stored ad, with what later versions added filled in for rows written before them. */
function parseAd(data: string): AdRecord {
  const ad = JSON.parse(data) as AdRecord;
  return { ...ad, brandSafety: brandSafetyRules(ad.brandSafety) };
}

/** Appended to the embedded store's migration list. */
export const ADS_MIGRATION_SQL = `
CREATE TABLE ads (
  id TEXT PRIMARY KEY,
  data TEXT NOT NULL
);
CREATE TABLE ads_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  inventory_version INTEGER NOT NULL
);
INSERT INTO ads_state (id, inventory_version) VALUES (1, 0);

CREATE TABLE segment_tags (
  video_id TEXT NOT NULL,
  segment_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  label TEXT NOT NULL,
  score REAL NOT NULL,
  source TEXT NOT NULL,
  box TEXT
);
CREATE INDEX segment_tags_by_segment ON segment_tags (segment_id);
CREATE INDEX segment_tags_by_video ON segment_tags (video_id, kind);

CREATE TABLE highlight_signals (
  segment_id TEXT PRIMARY KEY,
  video_id TEXT NOT NULL,
  start REAL NOT NULL,
  "end" REAL NOT NULL,
  features TEXT NOT NULL
);
CREATE INDEX highlight_signals_by_video ON highlight_signals (video_id, start);
CREATE TABLE highlight_feedback (
  id TEXT PRIMARY KEY,
  video_id TEXT NOT NULL,
  start REAL NOT NULL,
  "end" REAL NOT NULL,
  good INTEGER NOT NULL,
  features TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE highlight_model (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  weights TEXT NOT NULL,
  bias REAL NOT NULL,
  updates INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);

-- Tags, highlight signals and feedback are derived from a video: they go when it goes, whichever
-- code path deletes the video row (the repositories' deleteVideo does the same for backends
-- without triggers). The learnt weights stay: they belong to the library.
CREATE TRIGGER videos_deleted_ads_data AFTER DELETE ON videos BEGIN
  DELETE FROM segment_tags WHERE video_id = old.id;
  DELETE FROM highlight_signals WHERE video_id = old.id;
  DELETE FROM highlight_feedback WHERE video_id = old.id;
END;
`;

interface TagRow {
  video_id: string;
  segment_id: string;
  kind: string;
  label: string;
  score: number;
  source: string;
  box: string | null;
}

function toTag(row: TagRow): SegmentTagRecord {
  return {
    videoId: row.video_id,
    segmentId: row.segment_id,
    kind: row.kind as TagKind,
    label: row.label,
    score: row.score,
    source: row.source as TagSource,
    box: row.box ? (JSON.parse(row.box) as SegmentTagRecord['box']) : null,
  };
}

function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

export class EmbeddedAdRepository implements AdRepository {
  // Prepared once: matchAds reads the version on every call.
  private readonly versionQuery: Statement<[], number>;

  constructor(private readonly db: Database) {
    this.versionQuery = db.prepare<[], number>('SELECT inventory_version FROM ads_state WHERE id = 1').pluck();
  }

  private bump(): void {
    this.db.prepare('UPDATE ads_state SET inventory_version = inventory_version + 1 WHERE id = 1').run();
  }

  async putAd(ad: AdRecord): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('INSERT OR REPLACE INTO ads (id, data) VALUES (?, ?)').run(ad.id, JSON.stringify(ad));
      this.bump();
    })();
  }

  async getAd(id: string): Promise<AdRecord | null> {
    const data = this.db.prepare('SELECT data FROM ads WHERE id = ?').pluck().get(id) as string | undefined;
    return data ? parseAd(data) : null;
  }

  async deleteAd(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      const removed = this.db.prepare('DELETE FROM ads WHERE id = ?').run(id).changes > 0;
      if (removed) this.bump();
      return removed;
    })();
  }

  async listAds(page: PageArgs): Promise<Page<AdRecord>> {
    const after = page.after ? Buffer.from(page.after, 'base64url').toString('utf8') : null;
    const rows = (
      after !== null
        ? this.db.prepare('SELECT data FROM ads WHERE id > ? ORDER BY id LIMIT ?').pluck().all(after, page.first + 1)
        : this.db.prepare('SELECT data FROM ads ORDER BY id LIMIT ?').pluck().all(page.first + 1)
    ) as string[];
    const items = rows.slice(0, page.first).map(parseAd);
    const last = items.at(-1);
    return {
      items,
      hasNextPage: rows.length > page.first,
      endCursor: last ? encodeCursor(last.id) : (page.after ?? null),
      totalCount: this.db.prepare('SELECT COUNT(*) FROM ads').pluck().get() as number,
    };
  }

  async allAds(): Promise<AdRecord[]> {
    return (this.db.prepare('SELECT data FROM ads ORDER BY id').pluck().all() as string[]).map(parseAd);
  }

  async inventoryVersion(): Promise<number> {
    return this.versionQuery.get()!;
  }
}

export class EmbeddedTagRepository implements TagRepository {
  // Prepared once: matchAds reads a segment's tags on every call.
  private readonly segmentsQuery: Statement<[string], TagRow>;

  constructor(private readonly db: Database) {
    this.segmentsQuery = db.prepare<[string], TagRow>(
      'SELECT * FROM segment_tags WHERE segment_id IN (SELECT value FROM json_each(?)) ORDER BY segment_id, kind, score DESC, label',
    );
  }

  async replaceVideoTags(videoId: string, kinds: readonly TagKind[], tags: readonly SegmentTagRecord[]): Promise<void> {
    this.db.transaction(() => {
      const remove = this.db.prepare('DELETE FROM segment_tags WHERE video_id = ? AND kind = ?');
      for (const kind of kinds) remove.run(videoId, kind);
      const insert = this.db.prepare(
        'INSERT INTO segment_tags (video_id, segment_id, kind, label, score, source, box) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      for (const t of tags) insert.run(t.videoId, t.segmentId, t.kind, t.label, t.score, t.source, t.box ? JSON.stringify(t.box) : null);
    })();
  }

  async getTagsOfSegments(segmentIds: readonly string[]): Promise<SegmentTagRecord[][]> {
    if (segmentIds.length === 0) return [];
    const bySegment = new Map<string, SegmentTagRecord[]>(segmentIds.map((id) => [id, []]));
    for (const row of this.segmentsQuery.all(JSON.stringify(segmentIds))) bySegment.get(row.segment_id)?.push(toTag(row));
    return segmentIds.map((id) => bySegment.get(id) ?? []);
  }

  async getTagsOfVideo(videoId: string): Promise<SegmentTagRecord[]> {
    const rows = this.db.prepare('SELECT * FROM segment_tags WHERE video_id = ? ORDER BY segment_id, kind, score DESC, label').all(videoId) as TagRow[];
    return rows.map(toTag);
  }

  async deleteVideo(videoId: string): Promise<void> {
    this.db.prepare('DELETE FROM segment_tags WHERE video_id = ?').run(videoId);
  }
}

export class EmbeddedHighlightRepository implements HighlightRepository {
  constructor(private readonly db: Database) {}

  async replaceVideoSignals(videoId: string, rows: readonly HighlightSignalsRecord[]): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM highlight_signals WHERE video_id = ?').run(videoId);
      const insert = this.db.prepare('INSERT OR REPLACE INTO highlight_signals (segment_id, video_id, start, "end", features) VALUES (?, ?, ?, ?, ?)');
      for (const r of rows) insert.run(r.segmentId, r.videoId, r.start, r.end, JSON.stringify(r.features));
    })();
  }

  async getSignalsOfVideo(videoId: string): Promise<HighlightSignalsRecord[]> {
    const rows = this.db.prepare('SELECT * FROM highlight_signals WHERE video_id = ? ORDER BY start').all(videoId) as {
      segment_id: string;
      video_id: string;
      start: number;
      end: number;
      features: string;
    }[];
    return rows.map((r) => ({ videoId: r.video_id, segmentId: r.segment_id, start: r.start, end: r.end, features: JSON.parse(r.features) as number[] }));
  }

  async addFeedback(feedback: HighlightFeedbackRecord, model: HighlightModelRecord): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT OR REPLACE INTO highlight_feedback (id, video_id, start, "end", good, features, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(feedback.id, feedback.videoId, feedback.start, feedback.end, feedback.good ? 1 : 0, JSON.stringify(feedback.features), feedback.createdAt);
      this.db
        .prepare('INSERT OR REPLACE INTO highlight_model (id, weights, bias, updates, updated_at) VALUES (1, ?, ?, ?, ?)')
        .run(JSON.stringify(model.weights), model.bias, model.updates, model.updatedAt);
    })();
  }

  async getModel(): Promise<HighlightModelRecord | null> {
    const row = this.db.prepare('SELECT weights, bias, updates, updated_at FROM highlight_model WHERE id = 1').get() as
      | { weights: string; bias: number; updates: number; updated_at: string }
      | undefined;
    return row ? { weights: JSON.parse(row.weights) as number[], bias: row.bias, updates: row.updates, updatedAt: row.updated_at } : null;
  }

  async countFeedback(): Promise<number> {
    return this.db.prepare('SELECT COUNT(*) FROM highlight_feedback').pluck().get() as number;
  }

  async deleteVideo(videoId: string): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM highlight_signals WHERE video_id = ?').run(videoId);
      this.db.prepare('DELETE FROM highlight_feedback WHERE video_id = ?').run(videoId);
    })();
  }
}
