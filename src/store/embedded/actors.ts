// ActorRepository on the embedded SQLite database. Face vectors are not here: they live in the
// vector index (collection 'actor_faces'); these tables keep names, aliases and template metadata.
import type { Database } from 'better-sqlite3';
import type { Page, PageArgs } from '../../domain.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { IN_JSON_LIST, jsonList, StatementCache } from './db.js';
import type { ActorPatch, ActorRecord, ActorRepository, FaceTemplateRecord } from '../actors.js';

/** Appended to the embedded store's migration list. */
export const ACTORS_MIGRATION_SQL = `
CREATE TABLE actors (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  aliases TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX actors_by_name ON actors (name COLLATE NOCASE, id);
CREATE TABLE actor_face_templates (
  id TEXT PRIMARY KEY,
  actor_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
  model_id TEXT NOT NULL,
  source TEXT NOT NULL,
  thumbnail BLOB,
  created_at TEXT NOT NULL
);
CREATE INDEX actor_face_templates_by_actor ON actor_face_templates (actor_id, id);
`;

interface ActorRow {
  id: string;
  name: string;
  aliases: string;
  created_at: string;
  updated_at: string;
}

interface TemplateRow {
  id: string;
  actor_id: string;
  model_id: string;
  source: string;
  thumbnail: Buffer | null;
  created_at: string;
}

function toActor(row: ActorRow): ActorRecord {
  return { id: row.id, name: row.name, aliases: JSON.parse(row.aliases) as string[], createdAt: row.created_at, updatedAt: row.updated_at };
}

function toTemplate(row: TemplateRow): FaceTemplateRecord {
  return { id: row.id, actorId: row.actor_id, modelId: row.model_id, source: row.source, thumbnail: row.thumbnail, createdAt: row.created_at };
}

/** LIKE pattern matching `text` literally anywhere. */
function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class EmbeddedActorRepository implements ActorRepository {
  /** The reads every onlyWatch query makes. */
  private readonly reads: StatementCache;

  constructor(private readonly db: Database) {
    this.reads = new StatementCache(db);
  }

  async createActor(actor: ActorRecord, templates: readonly FaceTemplateRecord[]): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO actors (id, name, aliases, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
        .run(actor.id, actor.name, JSON.stringify(actor.aliases), actor.createdAt, actor.updatedAt);
      this.insertTemplates(templates);
    })();
  }

  async getActor(id: string): Promise<ActorRecord | null> {
    const row = this.db.prepare('SELECT * FROM actors WHERE id = ?').get(id) as ActorRow | undefined;
    return row ? toActor(row) : null;
  }

  async getActors(ids: readonly string[]): Promise<(ActorRecord | null)[]> {
    if (ids.length === 0) return [];
    const rows = this.reads.get(`SELECT * FROM actors WHERE id IN ${IN_JSON_LIST}`).all(jsonList(ids)) as ActorRow[];
    const byId = new Map(rows.map((row) => [row.id, toActor(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async updateActor(id: string, patch: ActorPatch): Promise<ActorRecord | null> {
    const current = await this.getActor(id);
    if (!current) return null;
    const next: ActorRecord = {
      ...current,
      name: patch.name ?? current.name,
      aliases: patch.aliases ?? current.aliases,
      updatedAt: new Date().toISOString(),
    };
    this.db.prepare('UPDATE actors SET name = ?, aliases = ?, updated_at = ? WHERE id = ?').run(next.name, JSON.stringify(next.aliases), next.updatedAt, id);
    return next;
  }

  async deleteActor(id: string): Promise<string[] | null> {
    return this.db.transaction(() => {
      const templateIds = (this.db.prepare('SELECT id FROM actor_face_templates WHERE actor_id = ?').all(id) as { id: string }[]).map((r) => r.id);
      this.db.prepare('DELETE FROM actor_face_templates WHERE actor_id = ?').run(id);
      const deleted = this.db.prepare('DELETE FROM actors WHERE id = ?').run(id).changes > 0;
      return deleted ? templateIds : null;
    })();
  }

  async listActors(query: string | null, page: PageArgs): Promise<Page<ActorRecord>> {
    const where: string[] = [];
    const params: string[] = [];
    if (query) {
      // Aliases are a JSON array of strings; a substring match on its text finds any alias.
      where.push("(lower(name) LIKE ? ESCAPE '\\' OR lower(aliases) LIKE ? ESCAPE '\\')");
      params.push(containsPattern(query), containsPattern(query));
    }
    const filterSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const totalCount = (this.db.prepare(`SELECT count(*) AS n FROM actors ${filterSql}`).get(...params) as { n: number }).n;
    const after = page.after ? decodeCursor(page.after, { name: 'string', id: 'string' }) : null;
    const afterSql = after ? `${where.length ? 'AND' : 'WHERE'} (name > ? COLLATE NOCASE OR (name = ? COLLATE NOCASE AND id > ?))` : '';
    const rows = this.db
      .prepare(`SELECT * FROM actors ${filterSql} ${afterSql} ORDER BY name COLLATE NOCASE, id LIMIT ?`)
      .all(...params, ...(after ? [after.name, after.name, after.id] : []), page.first + 1) as ActorRow[];
    const items = rows.slice(0, page.first).map(toActor);
    const last = items.at(-1);
    return {
      items,
      endCursor: last ? encodeCursor({ name: last.name, id: last.id }) : (page.after ?? null),
      hasNextPage: rows.length > page.first,
      totalCount,
    };
  }

  async addFaceTemplates(templates: readonly FaceTemplateRecord[]): Promise<void> {
    this.db.transaction(() => this.insertTemplates(templates))();
  }

  async deleteFaceTemplates(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    this.db.prepare(`DELETE FROM actor_face_templates WHERE id IN (${ids.map(() => '?').join(',')})`).run(...ids);
  }

  async listFaceTemplates(actorId: string): Promise<FaceTemplateRecord[]> {
    return (this.db.prepare('SELECT * FROM actor_face_templates WHERE actor_id = ? ORDER BY created_at, id').all(actorId) as TemplateRow[]).map(toTemplate);
  }

  async getFaceTemplate(id: string): Promise<FaceTemplateRecord | null> {
    const row = this.db.prepare('SELECT * FROM actor_face_templates WHERE id = ?').get(id) as TemplateRow | undefined;
    return row ? toTemplate(row) : null;
  }

  async countFaceTemplates(actorIds: readonly string[]): Promise<number[]> {
    if (actorIds.length === 0) return [];
    const rows = this.db
      .prepare(`SELECT actor_id, count(*) AS n FROM actor_face_templates WHERE actor_id IN (${actorIds.map(() => '?').join(',')}) GROUP BY actor_id`)
      .all(...actorIds) as { actor_id: string; n: number }[];
    const counts = new Map(rows.map((r) => [r.actor_id, r.n]));
    return actorIds.map((id) => counts.get(id) ?? 0);
  }

  async allFaceTemplates(): Promise<FaceTemplateRecord[]> {
    return (this.db.prepare('SELECT * FROM actor_face_templates ORDER BY actor_id, id').all() as TemplateRow[]).map(toTemplate);
  }

  private insertTemplates(templates: readonly FaceTemplateRecord[]): void {
    const insert = this.db.prepare(
      'INSERT INTO actor_face_templates (id, actor_id, model_id, source, thumbnail, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const t of templates) insert.run(t.id, t.actorId, t.modelId, t.source, t.thumbnail, t.createdAt);
  }
}

