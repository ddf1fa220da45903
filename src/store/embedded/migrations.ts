// Forward-only schema migrations. The database's PRAGMA user_version is the number of migrations
// applied; opening the store applies the rest in order, each in its own transaction. To change the
// schema, APPEND a migration to MIGRATIONS (never edit one that has shipped).
import { ACTORS_MIGRATION_SQL } from './actors.js';
import { ADS_MIGRATION_SQL } from './ads.js';
import { APPEARANCES_MIGRATION_SQL } from './appearances.js';
import type { SqliteDatabase } from './db.js';
import { FRAME_EVIDENCE_MIGRATION_SQL, FRAME_THUMBNAIL_MIGRATION_SQL } from './frame-evidence.js';
import { INTRO_MIGRATION_SQL } from './intro.js';
import { MODERATION_MIGRATION_SQL } from './moderation.js';
import { TECHNICAL_MIGRATION_SQL, VISUAL_RISK_MIGRATION_SQL } from './technical.js';
import { rebuildTextIndex, TEXT_TAGS_MIGRATION_SQL } from './text-tables.js';
import { VOICE_CLUSTERS_MIGRATION_SQL } from './voice-clusters.js';

export type Migration = string | ((db: SqliteDatabase) => void);

/** A video's cast list (JSON array of actor ids; NULL = none, open-set identification). */
const VIDEO_CAST_SQL = 'ALTER TABLE videos ADD COLUMN cast_ids TEXT;';

/** Cue length per video: getCuesOverlapping reads the longest with one index seek. */
const CUE_LENGTH_INDEX_SQL = 'CREATE INDEX cues_by_video_length ON cues (video_id, ("end" - start));';

const CORE_SQL = `
CREATE TABLE videos (
  id TEXT PRIMARY KEY,
  path TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  title TEXT,
  series TEXT,
  season INTEGER,
  episode INTEGER,
  duration_sec REAL NOT NULL,
  fps REAL NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  rotation INTEGER NOT NULL,
  start_time REAL NOT NULL,
  has_audio INTEGER NOT NULL,
  status TEXT NOT NULL,
  error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX videos_by_hash ON videos (content_hash);
CREATE INDEX videos_by_created ON videos (created_at DESC, id DESC);
CREATE INDEX videos_by_series ON videos (series, created_at DESC, id DESC);

-- Rows derived from a video carry no foreign key: the pipeline may checkpoint before the video row
-- is final, and Catalog.deleteVideo removes them explicitly in one transaction.
CREATE TABLE shots (
  id TEXT PRIMARY KEY,
  video_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  start REAL NOT NULL,
  "end" REAL NOT NULL,
  keyframe_time REAL NOT NULL,
  transition TEXT NOT NULL
);
CREATE INDEX shots_by_video ON shots (video_id, idx);

CREATE TABLE segments (
  id TEXT PRIMARY KEY,
  video_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  shot_index INTEGER NOT NULL,
  start REAL NOT NULL,
  "end" REAL NOT NULL,
  keyframe_time REAL NOT NULL
);
CREATE INDEX segments_by_video ON segments (video_id, idx);

CREATE TABLE cues (
  id TEXT PRIMARY KEY,
  video_id TEXT NOT NULL,
  segment_id TEXT,
  start REAL NOT NULL,
  "end" REAL NOT NULL,
  text TEXT NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  lang TEXT
);
CREATE INDEX cues_by_video ON cues (video_id, start);
CREATE INDEX cues_by_segment ON cues (segment_id, start);

CREATE TABLE artifacts (
  video_id TEXT NOT NULL,
  stage TEXT NOT NULL,
  data TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (video_id, stage)
);

-- Segments of text documents get a number; a document's rowid is (segment number << 16) + slot, so
-- the FTS index alone can collapse hits and count distinct segments (rowid >> 16), with no join.
CREATE TABLE text_segments (
  seg_no INTEGER PRIMARY KEY,
  segment_id TEXT NOT NULL UNIQUE,
  video_id TEXT NOT NULL
);
CREATE INDEX text_segments_by_video ON text_segments (video_id, seg_no);
CREATE TABLE text_docs (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  video_id TEXT NOT NULL,
  segment_id TEXT NOT NULL,
  cue_id TEXT,
  kind TEXT NOT NULL,
  start REAL NOT NULL,
  "end" REAL NOT NULL,
  text TEXT NOT NULL,
  series TEXT
);
CREATE INDEX text_docs_by_video ON text_docs (video_id);
-- Contentless: the original text lives in text_docs; the index holds the segmented tokens only.
-- words: jieba words + English (porter-stemmed); grams: CJK bigrams for exact substring phrases.
CREATE VIRTUAL TABLE text_fts USING fts5 (
  words, grams,
  content = '', contentless_delete = 1,
  tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TABLE vector_collections (
  name TEXT PRIMARY KEY,
  dim INTEGER NOT NULL,
  metric TEXT NOT NULL,
  model_id TEXT NOT NULL,
  -- Bumped when the model changes: in-memory matrices of any process rebuild from scratch.
  generation INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE TABLE vectors (
  collection TEXT NOT NULL REFERENCES vector_collections (name) ON DELETE CASCADE,
  id TEXT NOT NULL,
  video_id TEXT,
  payload TEXT NOT NULL,
  vector BLOB NOT NULL,
  PRIMARY KEY (collection, id)
);
CREATE INDEX vectors_by_video ON vectors (video_id);
-- Every vector write, from any process or code path, so each process's in-memory matrix catches up
-- incrementally (the API server and a separate worker share the file). Pruned to the newest rows.
CREATE TABLE vector_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  collection TEXT NOT NULL,
  id TEXT NOT NULL
);
CREATE INDEX vector_changes_by_collection ON vector_changes (collection, seq);
CREATE TRIGGER vectors_inserted AFTER INSERT ON vectors BEGIN
  INSERT INTO vector_changes (collection, id) VALUES (new.collection, new.id);
END;
CREATE TRIGGER vectors_updated AFTER UPDATE ON vectors BEGIN
  INSERT INTO vector_changes (collection, id) VALUES (new.collection, new.id);
END;
CREATE TRIGGER vectors_deleted AFTER DELETE ON vectors BEGIN
  INSERT INTO vector_changes (collection, id) VALUES (old.collection, old.id);
END;

CREATE TABLE jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  video_id TEXT,
  request TEXT NOT NULL,
  status TEXT NOT NULL,
  priority INTEGER NOT NULL,
  progress REAL NOT NULL,
  stage TEXT,
  stages_done TEXT NOT NULL,
  error TEXT,
  attempts INTEGER NOT NULL,
  worker_id TEXT,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  heartbeat_at TEXT
);
-- claim(): highest priority, then newest (seq grows with every enqueue).
CREATE INDEX jobs_by_status ON jobs (status, priority DESC, seq DESC);
CREATE INDEX jobs_by_video ON jobs (video_id, status);
`;

/** Append only. Index i is schema version i + 1. */
export const MIGRATIONS: readonly Migration[] = [CORE_SQL, ACTORS_MIGRATION_SQL, APPEARANCES_MIGRATION_SQL, MODERATION_MIGRATION_SQL, ADS_MIGRATION_SQL, TECHNICAL_MIGRATION_SQL, INTRO_MIGRATION_SQL, TEXT_TAGS_MIGRATION_SQL, rebuildTextIndex, FRAME_EVIDENCE_MIGRATION_SQL, VISUAL_RISK_MIGRATION_SQL,
  // The index leaves contentless_delete, so deletes keep bm25's statistics exact (see text-tables.ts).
  rebuildTextIndex,
  // Voice clusters leave the vector index for a table of their own; clusters an older version kept
  // as vector points are moved over when the store opens (legacy-voice-clusters.ts), whichever
  // backend holds the vectors.
  VOICE_CLUSTERS_MIGRATION_SQL,
  // A video's cast (cast_ids), the closed set its faces are identified against.
  VIDEO_CAST_SQL,
  // Grey thumbnails per sampled frame, so localisation decodes no JPEG (frame-evidence.ts).
  FRAME_THUMBNAIL_MIGRATION_SQL,
  // Each video's longest cue in one seek, which bounds a time-window read of cues (catalog.ts).
  CUE_LENGTH_INDEX_SQL];

/** Applies the migrations the database has not seen; returns the resulting schema version. */
export function migrate(db: SqliteDatabase, migrations: readonly Migration[] = MIGRATIONS): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(`database schema version ${current} is newer than this build knows (${migrations.length}); upgrade vidsearch`);
  }
  for (let version = current; version < migrations.length; version += 1) {
    const migration = migrations[version]!;
    db.transaction(() => {
      if (typeof migration === 'string') db.exec(migration);
      else migration(db);
      // PRAGMA cannot take a bound parameter; version is our own integer.
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  return migrations.length;
}
