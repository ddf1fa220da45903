// ModerationRepository on the embedded SQLite database.
import type { Database } from 'better-sqlite3';
import type { CueKind, Page, PageArgs } from '../../domain.js';
import type { FlagRecord, KeywordListRecord, ModerationCheck, ModerationRepository } from '../moderation.js';
import { decodeCursor, encodeCursor } from './cursor.js';

/** Appended to the embedded store's migration list. */
export const MODERATION_MIGRATION_SQL = `
CREATE TABLE keyword_lists (
  name TEXT PRIMARY KEY,
  updated_at TEXT NOT NULL
);
CREATE TABLE keywords (
  list TEXT NOT NULL REFERENCES keyword_lists (name) ON DELETE CASCADE,
  keyword TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (list, keyword)
);
CREATE TABLE moderation_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  keywords_version INTEGER NOT NULL
);
INSERT INTO moderation_state (id, keywords_version) VALUES (1, 0);
CREATE TABLE moderation_checks (
  video_id TEXT PRIMARY KEY,
  keywords_version INTEGER NOT NULL,
  video_updated_at TEXT NOT NULL
);
CREATE TABLE moderation_flags (
  id TEXT PRIMARY KEY,
  video_id TEXT NOT NULL,
  segment_id TEXT,
  cue_id TEXT NOT NULL,
  list TEXT NOT NULL,
  keyword TEXT NOT NULL,
  text TEXT NOT NULL,
  start REAL NOT NULL,
  "end" REAL NOT NULL,
  kind TEXT NOT NULL
);
CREATE INDEX moderation_flags_order ON moderation_flags (video_id, start, id);
`;

interface FlagRow {
  id: string;
  video_id: string;
  segment_id: string | null;
  cue_id: string;
  list: string;
  keyword: string;
  text: string;
  start: number;
  end: number;
  kind: string;
}

function toFlag(row: FlagRow): FlagRecord {
  return {
    id: row.id,
    videoId: row.video_id,
    segmentId: row.segment_id,
    cueId: row.cue_id,
    list: row.list,
    keyword: row.keyword,
    text: row.text,
    start: row.start,
    end: row.end,
    kind: row.kind as CueKind,
  };
}

export class EmbeddedModerationRepository implements ModerationRepository {
  /** Read by every matchAds query (is the keyword matcher current?): prepared once. */
  private readonly versionQuery;

  constructor(private readonly db: Database) {
    this.versionQuery = db.prepare<[], number>('SELECT keywords_version FROM moderation_state WHERE id = 1').pluck();
  }

  private bumpVersion(): void {
    this.db.prepare('UPDATE moderation_state SET keywords_version = keywords_version + 1 WHERE id = 1').run();
  }

  private readList(name: string): KeywordListRecord | null {
    const list = this.db.prepare('SELECT name, updated_at FROM keyword_lists WHERE name = ?').get(name) as
      | { name: string; updated_at: string }
      | undefined;
    if (!list) return null;
    const keywords = this.db.prepare('SELECT keyword FROM keywords WHERE list = ? ORDER BY position').pluck().all(name) as string[];
    return { name: list.name, keywords, updatedAt: list.updated_at };
  }

  async addKeywords(list: string, keywords: readonly string[]): Promise<KeywordListRecord> {
    return this.db.transaction(() => {
      const now = new Date().toISOString();
      this.db
        .prepare('INSERT INTO keyword_lists (name, updated_at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at')
        .run(list, now);
      const next = this.db.prepare('SELECT COALESCE(MAX(position), -1) + 1 FROM keywords WHERE list = ?').pluck();
      const insert = this.db.prepare('INSERT OR IGNORE INTO keywords (list, keyword, position) VALUES (?, ?, ?)');
      for (const keyword of keywords) insert.run(list, keyword, next.get(list));
      this.bumpVersion();
      return this.readList(list)!;
    })();
  }

  async removeKeywords(list: string, keywords: readonly string[]): Promise<KeywordListRecord | null> {
    return this.db.transaction(() => {
      const remove = this.db.prepare('DELETE FROM keywords WHERE list = ? AND keyword = ?');
      for (const keyword of keywords) remove.run(list, keyword);
      const left = this.db.prepare('SELECT COUNT(*) FROM keywords WHERE list = ?').pluck().get(list) as number;
      if (left === 0) this.db.prepare('DELETE FROM keyword_lists WHERE name = ?').run(list);
      else this.db.prepare('UPDATE keyword_lists SET updated_at = ? WHERE name = ?').run(new Date().toISOString(), list);
      this.bumpVersion();
      return this.readList(list);
    })();
  }

  async listKeywordLists(): Promise<KeywordListRecord[]> {
    const names = this.db.prepare('SELECT name FROM keyword_lists ORDER BY name').pluck().all() as string[];
    return names.map((name) => this.readList(name)!);
  }

  async keywordsVersion(): Promise<number> {
    return this.versionQuery.get()!;
  }

  async replaceFlags(check: ModerationCheck, flags: readonly FlagRecord[]): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM moderation_flags WHERE video_id = ?').run(check.videoId);
      const insert = this.db.prepare(
        `INSERT OR REPLACE INTO moderation_flags (id, video_id, segment_id, cue_id, list, keyword, text, start, "end", kind)
         VALUES (@id, @videoId, @segmentId, @cueId, @list, @keyword, @text, @start, @end, @kind)`,
      );
      for (const flag of flags) insert.run(flag);
      this.db
        .prepare('INSERT OR REPLACE INTO moderation_checks (video_id, keywords_version, video_updated_at) VALUES (?, ?, ?)')
        .run(check.videoId, check.keywordsVersion, check.videoUpdatedAt);
    })();
  }

  async listChecks(): Promise<ModerationCheck[]> {
    const rows = this.db.prepare('SELECT video_id, keywords_version, video_updated_at FROM moderation_checks').all() as {
      video_id: string;
      keywords_version: number;
      video_updated_at: string;
    }[];
    return rows.map((r) => ({ videoId: r.video_id, keywordsVersion: r.keywords_version, videoUpdatedAt: r.video_updated_at }));
  }

  async deleteVideo(videoId: string): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM moderation_flags WHERE video_id = ?').run(videoId);
      this.db.prepare('DELETE FROM moderation_checks WHERE video_id = ?').run(videoId);
    })();
  }

  async listFlags(page: PageArgs): Promise<Page<FlagRecord>> {
    const after = page.after ? decodeCursor(page.after, { videoId: 'string', start: 'number', id: 'string' }) : null;
    const rows = (
      after
        ? this.db
            .prepare(
              `SELECT * FROM moderation_flags WHERE (video_id, start, id) > (?, ?, ?)
               ORDER BY video_id, start, id LIMIT ?`,
            )
            .all(after.videoId, after.start, after.id, page.first + 1)
        : this.db.prepare('SELECT * FROM moderation_flags ORDER BY video_id, start, id LIMIT ?').all(page.first + 1)
    ) as FlagRow[];
    const items = rows.slice(0, page.first).map(toFlag);
    const last = items.at(-1);
    return {
      items,
      hasNextPage: rows.length > page.first,
      endCursor: last ? encodeCursor({ videoId: last.videoId, start: last.start, id: last.id }) : (page.after ?? null),
      totalCount: this.db.prepare('SELECT COUNT(*) FROM moderation_flags').pluck().get() as number,
    };
  }
}
