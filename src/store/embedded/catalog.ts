// Catalog on the embedded SQLite database: videos, shots, segments, cues and stage artifacts.
import type {
  CueKind,
  CueRecord,
  Page,
  PageArgs,
  SegmentRecord,
  ShotRecord,
  VideoMetadataPatch,
  VideoRecord,
} from '../../domain.js';
import { checkCueSources, inOrder, updateVideoRow } from '../catalog-records.js';
import type { Catalog, VideoFilter } from '../interfaces.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { IN_JSON_LIST, jsonList, StatementCache, type SqliteDatabase } from './db.js';
import { deleteVideoText } from './text-index.js';

interface VideoRow {
  id: string;
  path: string;
  content_hash: string;
  title: string | null;
  series: string | null;
  season: number | null;
  episode: number | null;
  /** JSON array of actor ids, or NULL for no cast (VIDEO_CAST_SQL in migrations.ts). */
  cast_ids: string | null;
  duration_sec: number;
  fps: number;
  width: number;
  height: number;
  rotation: number;
  start_time: number;
  has_audio: number;
  status: VideoRecord['status'];
  error: string | null;
  created_at: string;
  updated_at: string;
}

interface ShotRow {
  id: string;
  video_id: string;
  idx: number;
  start: number;
  end: number;
  keyframe_time: number;
  transition: ShotRecord['transition'];
}

interface SegmentRow {
  id: string;
  video_id: string;
  idx: number;
  shot_index: number;
  start: number;
  end: number;
  keyframe_time: number;
}

interface CueRow {
  id: string;
  video_id: string;
  segment_id: string | null;
  start: number;
  end: number;
  text: string;
  kind: CueKind;
  source: CueRecord['source'];
  lang: string | null;
}

/** The record's fields bound by name (the cast goes in as JSON, castIds). */
function withoutCast(video: VideoRecord): Omit<VideoRecord, 'cast'> {
  const { cast: _cast, ...rest } = video;
  return rest;
}

function toVideo(row: VideoRow): VideoRecord {
  return {
    id: row.id,
    path: row.path,
    contentHash: row.content_hash,
    title: row.title,
    series: row.series,
    season: row.season,
    episode: row.episode,
    cast: row.cast_ids === null ? null : (JSON.parse(row.cast_ids) as string[]),
    durationSec: row.duration_sec,
    fps: row.fps,
    width: row.width,
    height: row.height,
    rotation: row.rotation,
    startTime: row.start_time,
    hasAudio: row.has_audio === 1,
    status: row.status,
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toShot(row: ShotRow): ShotRecord {
  return { id: row.id, videoId: row.video_id, index: row.idx, start: row.start, end: row.end, keyframeTime: row.keyframe_time, transition: row.transition };
}

function toSegment(row: SegmentRow): SegmentRecord {
  return {
    id: row.id,
    videoId: row.video_id,
    index: row.idx,
    shotIndex: row.shot_index,
    start: row.start,
    end: row.end,
    keyframeTime: row.keyframe_time,
  };
}

function toCue(row: CueRow): CueRecord {
  return {
    id: row.id,
    videoId: row.video_id,
    segmentId: row.segment_id,
    start: row.start,
    end: row.end,
    text: row.text,
    kind: row.kind,
    source: row.source,
    lang: row.lang,
  };
}

/** Case folding for titleContains: SQLite's lower() only folds ASCII. */
export function caseFold(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

export class EmbeddedCatalog implements Catalog {
  /** The reads every query makes (hydrating hits, loaders). */
  private readonly reads: StatementCache;

  constructor(private readonly db: SqliteDatabase) {
    this.reads = new StatementCache(db);
    db.function('casefold', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? caseFold(value) : null));
  }

  async putVideo(video: VideoRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO videos (id, path, content_hash, title, series, season, episode, cast_ids, duration_sec, fps, width, height, rotation,
           start_time, has_audio, status, error, created_at, updated_at)
         VALUES (@id, @path, @contentHash, @title, @series, @season, @episode, @castIds, @durationSec, @fps, @width, @height, @rotation,
           @startTime, @hasAudio, @status, @error, @createdAt, @updatedAt)
         ON CONFLICT (id) DO UPDATE SET path = excluded.path, content_hash = excluded.content_hash, title = excluded.title,
           series = excluded.series, season = excluded.season, episode = excluded.episode, cast_ids = excluded.cast_ids,
           duration_sec = excluded.duration_sec,
           fps = excluded.fps, width = excluded.width, height = excluded.height, rotation = excluded.rotation,
           start_time = excluded.start_time, has_audio = excluded.has_audio, status = excluded.status, error = excluded.error,
           created_at = excluded.created_at, updated_at = excluded.updated_at`,
      )
      .run({ ...withoutCast(video), hasAudio: video.hasAudio ? 1 : 0, castIds: video.cast?.length ? JSON.stringify(video.cast) : null });
  }

  async getVideo(id: string): Promise<VideoRecord | null> {
    const row = this.reads.get('SELECT * FROM videos WHERE id = ?').get(id) as VideoRow | undefined;
    return row ? toVideo(row) : null;
  }

  async getVideos(ids: readonly string[]): Promise<(VideoRecord | null)[]> {
    if (ids.length === 0) return [];
    const rows = this.reads.get(`SELECT * FROM videos WHERE id IN ${IN_JSON_LIST}`).all(jsonList(ids)) as VideoRow[];
    return inOrder(ids, rows.map(toVideo));
  }

  async findVideoByHash(contentHash: string): Promise<VideoRecord | null> {
    const row = this.db.prepare('SELECT * FROM videos WHERE content_hash = ? ORDER BY created_at, id LIMIT 1').get(contentHash) as
      | VideoRow
      | undefined;
    return row ? toVideo(row) : null;
  }

  async listVideos(filter: VideoFilter, page: PageArgs): Promise<Page<VideoRecord>> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.series != null) {
      where.push('series = ?');
      params.push(filter.series);
    }
    if (filter.status != null) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.titleContains) {
      where.push('instr(casefold(title), ?) > 0');
      params.push(caseFold(filter.titleContains));
    }
    const filterSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const totalCount = (this.db.prepare(`SELECT count(*) AS n FROM videos ${filterSql}`).get(...params) as { n: number }).n;

    const pageWhere = [...where];
    const pageParams = [...params];
    if (page.after) {
      const after = decodeCursor(page.after, { c: 'string', i: 'string' });
      pageWhere.push('(created_at < ? OR (created_at = ? AND id < ?))');
      pageParams.push(after.c, after.c, after.i);
    }
    const rows = this.db
      .prepare(`SELECT * FROM videos ${pageWhere.length ? `WHERE ${pageWhere.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`)
      .all(...pageParams, page.first + 1) as VideoRow[];
    const items = rows.slice(0, page.first).map(toVideo);
    const last = items.at(-1);
    return {
      items,
      endCursor: last ? encodeCursor({ c: last.createdAt, i: last.id }) : (page.after ?? null),
      hasNextPage: rows.length > page.first,
      totalCount,
    };
  }

  async updateVideo(
    id: string,
    patch: VideoMetadataPatch & Partial<Pick<VideoRecord, 'status' | 'error'>>,
  ): Promise<VideoRecord | null> {
    return updateVideoRow(this, id, patch);
  }

  async deleteVideo(id: string): Promise<boolean> {
    // Everything derived from the video in this database goes in the same transaction.
    return this.db.transaction(() => {
      for (const table of ['shots', 'segments', 'cues', 'artifacts']) {
        this.db.prepare(`DELETE FROM ${table} WHERE video_id = ?`).run(id);
      }
      deleteVideoText(this.db, id);
      this.db.prepare('DELETE FROM vectors WHERE video_id = ?').run(id);
      return this.db.prepare('DELETE FROM videos WHERE id = ?').run(id).changes > 0;
    })();
  }

  async replaceStructure(videoId: string, shots: ShotRecord[], segments: SegmentRecord[]): Promise<void> {
    const insertShot = this.db.prepare(
      'INSERT INTO shots (id, video_id, idx, start, "end", keyframe_time, transition) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const insertSegment = this.db.prepare(
      'INSERT INTO segments (id, video_id, idx, shot_index, start, "end", keyframe_time) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM shots WHERE video_id = ?').run(videoId);
      this.db.prepare('DELETE FROM segments WHERE video_id = ?').run(videoId);
      for (const s of shots) insertShot.run(s.id, videoId, s.index, s.start, s.end, s.keyframeTime, s.transition);
      for (const s of segments) insertSegment.run(s.id, videoId, s.index, s.shotIndex, s.start, s.end, s.keyframeTime);
    })();
  }

  async getShots(videoId: string): Promise<ShotRecord[]> {
    return (this.db.prepare('SELECT * FROM shots WHERE video_id = ? ORDER BY idx').all(videoId) as ShotRow[]).map(toShot);
  }

  async getSegment(id: string): Promise<SegmentRecord | null> {
    const row = this.reads.get('SELECT * FROM segments WHERE id = ?').get(id) as SegmentRow | undefined;
    return row ? toSegment(row) : null;
  }

  async getSegmentsByIds(ids: readonly string[]): Promise<(SegmentRecord | null)[]> {
    if (ids.length === 0) return [];
    const rows = this.reads.get(`SELECT * FROM segments WHERE id IN ${IN_JSON_LIST}`).all(jsonList(ids)) as SegmentRow[];
    return inOrder(ids, rows.map(toSegment));
  }

  async listSegments(videoId: string, page: PageArgs): Promise<Page<SegmentRecord>> {
    const totalCount = (this.db.prepare('SELECT count(*) AS n FROM segments WHERE video_id = ?').get(videoId) as { n: number }).n;
    const afterIndex = page.after ? Number(decodeCursor(page.after, { i: 'number' }).i) : -1;
    const rows = this.db
      .prepare('SELECT * FROM segments WHERE video_id = ? AND idx > ? ORDER BY idx LIMIT ?')
      .all(videoId, afterIndex, page.first + 1) as SegmentRow[];
    const items = rows.slice(0, page.first).map(toSegment);
    const last = items.at(-1);
    return {
      items,
      endCursor: last ? encodeCursor({ i: last.index }) : (page.after ?? null),
      hasNextPage: rows.length > page.first,
      totalCount,
    };
  }

  async getSegmentsOfVideo(videoId: string): Promise<SegmentRecord[]> {
    return (this.db.prepare('SELECT * FROM segments WHERE video_id = ? ORDER BY idx').all(videoId) as SegmentRow[]).map(toSegment);
  }

  async segmentAt(videoId: string, time: number): Promise<SegmentRecord | null> {
    // The containing segment; at (or past) the end, and in any gap, the latest segment started by then.
    const row = this.reads
      .get('SELECT * FROM segments WHERE video_id = ? AND start <= ? ORDER BY (? < "end") DESC, idx DESC LIMIT 1')
      .get(videoId, time, time) as SegmentRow | undefined;
    return row ? toSegment(row) : null;
  }

  async replaceCues(videoId: string, sources: CueRecord['source'][], cues: CueRecord[]): Promise<void> {
    checkCueSources(sources, cues);
    const insert = this.db.prepare(
      `INSERT INTO cues (id, video_id, segment_id, start, "end", text, kind, source, lang) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET video_id = excluded.video_id, segment_id = excluded.segment_id, start = excluded.start,
         "end" = excluded."end", text = excluded.text, kind = excluded.kind, source = excluded.source, lang = excluded.lang`,
    );
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM cues WHERE video_id = ? AND source IN ${IN_JSON_LIST}`).run(videoId, jsonList(sources));
      for (const c of cues) insert.run(c.id, videoId, c.segmentId, c.start, c.end, c.text, c.kind, c.source, c.lang);
    })();
  }

  async getCues(videoId: string, kinds?: CueKind[]): Promise<CueRecord[]> {
    const rows = kinds
      ? (this.reads.get(`SELECT * FROM cues WHERE video_id = ? AND kind IN ${IN_JSON_LIST} ORDER BY start, id`).all(videoId, jsonList(kinds)) as CueRow[])
      : (this.reads.get('SELECT * FROM cues WHERE video_id = ? ORDER BY start, id').all(videoId) as CueRow[]);
    return rows.map(toCue);
  }

  async getCuesOverlapping(videoId: string, from: number, to: number): Promise<CueRecord[]> {
    // cues_by_video bounds `start` on both sides: a cue reaching `from` started at most the video's
    // longest cue before it (one seek in cues_by_video_length), so the read is the window's rows.
    const rows = this.reads
      .get(
        `SELECT * FROM cues WHERE video_id = @videoId AND start <= @to AND "end" >= @from
           AND start >= @from - (SELECT max("end" - start) FROM cues WHERE video_id = @videoId)
         ORDER BY start, id`,
      )
      .all({ videoId, from, to }) as CueRow[];
    return rows.map(toCue);
  }

  async getCuesBySegments(segmentIds: readonly string[]): Promise<CueRecord[][]> {
    if (segmentIds.length === 0) return [];
    const rows = this.reads.get(`SELECT * FROM cues WHERE segment_id IN ${IN_JSON_LIST} ORDER BY start, id`).all(jsonList(segmentIds)) as CueRow[];
    const bySegment = new Map<string, CueRecord[]>();
    for (const row of rows) {
      const list = bySegment.get(row.segment_id!) ?? [];
      list.push(toCue(row));
      bySegment.set(row.segment_id!, list);
    }
    return segmentIds.map((id) => bySegment.get(id) ?? []);
  }

  async getCuesByIds(ids: readonly string[]): Promise<(CueRecord | null)[]> {
    if (ids.length === 0) return [];
    const rows = this.reads.get(`SELECT * FROM cues WHERE id IN ${IN_JSON_LIST}`).all(jsonList(ids)) as CueRow[];
    return inOrder(ids, rows.map(toCue));
  }

  async putArtifact(videoId: string, stage: string, data: unknown): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO artifacts (video_id, stage, data, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (video_id, stage) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
      )
      .run(videoId, stage, JSON.stringify(data ?? null), new Date().toISOString());
  }

  async getArtifact<T>(videoId: string, stage: string): Promise<T | null> {
    const row = this.db.prepare('SELECT data FROM artifacts WHERE video_id = ? AND stage = ?').get(videoId, stage) as
      | { data: string }
      | undefined;
    return row ? (JSON.parse(row.data) as T) : null;
  }

  async deleteArtifacts(videoId: string): Promise<void> {
    this.db.prepare('DELETE FROM artifacts WHERE video_id = ?').run(videoId);
  }
}
