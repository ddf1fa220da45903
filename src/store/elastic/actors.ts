// ActorRepository on Elasticsearch, with the embedded repository's contract
// (test/store/conformance-presence.ts).
//
// One document per actor, its face templates inside (`templates`, thumbnails as base64, plus the
// keyword array `templateIds`). Why one document: enrolment is all-or-nothing (createActor in one
// transaction) and a single-document write is atomic; an actor's templates are always read whole
// per actor and stay small (a few dozen ~5 KB thumbnails). Template changes are painless scripts
// on that document (retry_on_conflict), so concurrent additions for one actor never lose each
// other. getFaceTemplate / deleteFaceTemplates find the owner through a term query on
// `templateIds`; that, listActors and allFaceTemplates search, so every write waits for the
// refresh ('wait_for'). Actor writes are editor actions: a second of latency is fine.
//
// Reads of actors leave the templates out of _source (`_source_excludes`): a listing does not
// carry every thumbnail.
import { errors, type Client, type estypes } from '@elastic/elasticsearch';
import type { Page, PageArgs } from '../../domain.js';
import { BadInputError, NotFoundError } from '../../errors.js';
import type { ActorPatch, ActorRecord, ActorRepository, FaceTemplateRecord } from '../actors.js';
import { caseFold } from '../embedded/catalog.js';
import { decodeCursor, encodeCursor } from '../embedded/cursor.js';
import { DEFAULT_BACKOFF, isNotFound, type ElasticRepositoryOptions } from './client.js';
import { asc, base64Of, bytesOf, compareKeywords, CONFLICT_RETRIES, ElasticDocuments, escapeWildcard, terms, type Query } from './documents.js';
import { migrateActorIndices, type ActorIndex } from './presence-schema.js';
import type { VersionedIndexResult } from './schema.js';

interface StoredTemplate {
  id: string;
  actorId: string;
  modelId: string;
  source: string;
  /** Base64 JPEG. */
  thumbnail: string | null;
  createdAt: string;
}

interface StoredActor {
  id: string;
  name: string;
  nameKey: string;
  aliases: string[];
  namesFolded: string[];
  createdAt: string;
  updatedAt: string;
  templateIds: string[];
  templates: StoredTemplate[];
}

/** Replaces the templates whose id is in params.remove by params.add (either may be empty). */
const TEMPLATES_SCRIPT = `
List kept = new ArrayList();
for (t in ctx._source.templates) { if (!params.remove.contains(t.id)) { kept.add(t); } }
if (params.add.isEmpty() && kept.size() == ctx._source.templates.size()) { ctx.op = 'noop'; } else {
  kept.addAll(params.add);
  List ids = new ArrayList();
  for (t in kept) { ids.add(t.id); }
  ctx._source.templates = kept;
  ctx._source.templateIds = ids;
}
`.trim();

const WITHOUT_TEMPLATES = ['templates', 'templateIds'];

/** SQLite's NOCASE folds ASCII letters only; the sort key does the same so both backends order alike. */
function nameSortKey(name: string): string {
  return name.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function toActor(doc: Pick<StoredActor, keyof ActorRecord>): ActorRecord {
  return { id: doc.id, name: doc.name, aliases: [...doc.aliases], createdAt: doc.createdAt, updatedAt: doc.updatedAt };
}

function storedActorFields(actor: ActorRecord): Omit<StoredActor, 'templates' | 'templateIds'> {
  return {
    ...toActor(actor),
    nameKey: nameSortKey(actor.name),
    namesFolded: [actor.name, ...actor.aliases].map(caseFold),
  };
}

function storedTemplate(t: FaceTemplateRecord): StoredTemplate {
  return { id: t.id, actorId: t.actorId, modelId: t.modelId, source: t.source, thumbnail: t.thumbnail ? base64Of(t.thumbnail) : null, createdAt: t.createdAt };
}

function toTemplate(t: StoredTemplate): FaceTemplateRecord {
  return { id: t.id, actorId: t.actorId, modelId: t.modelId, source: t.source, thumbnail: t.thumbnail === null ? null : bytesOf(t.thumbnail), createdAt: t.createdAt };
}

const byCreatedThenId = (a: FaceTemplateRecord, b: FaceTemplateRecord): number => compareKeywords(a.createdAt, b.createdAt) || compareKeywords(a.id, b.id);

export class ElasticActorRepository implements ActorRepository {
  private readonly index: string;

  constructor(
    private readonly documents: ElasticDocuments,
    aliases: Record<ActorIndex, string>,
  ) {
    this.index = aliases.actors;
  }

  /** Migrates the actor index forward to this build's schema, then opens the repository on it. */
  static async open(client: Client, options: ElasticRepositoryOptions = {}): Promise<{ repository: ElasticActorRepository; migration: Record<ActorIndex, VersionedIndexResult> }> {
    const { aliases, results } = await migrateActorIndices(client, options.prefix ?? 'vidsearch');
    return { repository: new ElasticActorRepository(new ElasticDocuments(client, options.backoff ?? DEFAULT_BACKOFF), aliases), migration: results };
  }

  private get client(): Client {
    return this.documents.client;
  }

  private call<T>(request: () => Promise<T>): Promise<T> {
    return this.documents.call(request);
  }

  async createActor(actor: ActorRecord, templates: readonly FaceTemplateRecord[]): Promise<void> {
    const foreign = templates.find((t) => t.actorId !== actor.id);
    if (foreign) throw new BadInputError(`face template ${foreign.id} belongs to actor ${foreign.actorId}, not ${actor.id}`);
    const document: StoredActor = { ...storedActorFields(actor), templateIds: templates.map((t) => t.id), templates: templates.map(storedTemplate) };
    await this.call(() => this.client.index({ index: this.index, id: actor.id, document, refresh: 'wait_for' }));
  }

  async getActor(id: string): Promise<ActorRecord | null> {
    const [actor] = await this.getActors([id]);
    return actor ?? null;
  }

  async getActors(ids: readonly string[]): Promise<(ActorRecord | null)[]> {
    if (ids.length === 0) return [];
    const response = await this.call(() => this.client.mget<StoredActor>({ index: this.index, ids: [...ids], _source_excludes: WITHOUT_TEMPLATES }));
    return response.docs.map((doc) => ('found' in doc && doc.found && doc._source ? toActor(doc._source) : null));
  }

  async updateActor(id: string, patch: ActorPatch): Promise<ActorRecord | null> {
    const current = await this.getActor(id);
    if (!current) return null;
    const next: ActorRecord = { ...current, name: patch.name ?? current.name, aliases: patch.aliases ?? current.aliases, updatedAt: new Date().toISOString() };
    try {
      // A partial update: templates added meanwhile stay.
      await this.call(() =>
        this.client.update({ index: this.index, id, doc: storedActorFields(next), retry_on_conflict: CONFLICT_RETRIES, refresh: 'wait_for' }),
      );
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    return next;
  }

  async deleteActor(id: string): Promise<string[] | null> {
    // Delete the version we read, so a template added in between is not deleted unreported.
    for (let attempt = 0; ; attempt += 1) {
      let current: estypes.GetGetResult<Pick<StoredActor, 'templateIds'>>;
      try {
        current = await this.call(() => this.client.get<Pick<StoredActor, 'templateIds'>>({ index: this.index, id, _source_includes: ['templateIds'] }));
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
      const { _seq_no: seqNo, _primary_term: primaryTerm } = current;
      try {
        await this.call(() => this.client.delete({ index: this.index, id, if_seq_no: seqNo, if_primary_term: primaryTerm, refresh: 'wait_for' }));
        return [...(current._source?.templateIds ?? [])].sort(compareKeywords);
      } catch (err) {
        if (isNotFound(err)) return null;
        if (!isConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
      }
    }
  }

  async listActors(query: string | null, page: PageArgs): Promise<Page<ActorRecord>> {
    const filters: Query[] = query ? [{ wildcard: { namesFolded: { value: `*${escapeWildcard(caseFold(query))}*` } } }] : [];
    const after = page.after ? decodeCursor(page.after, { n: 'string', i: 'string' }) : null;
    return this.documents.searchPage<StoredActor, ActorRecord>({
      index: this.index,
      query: { bool: { filter: filters } },
      sort: [asc('nameKey'), asc('id')],
      page,
      after: after ? [after.n, after.i] : null,
      toItem: toActor,
      cursorOf: (actor) => encodeCursor({ n: nameSortKey(actor.name), i: actor.id }),
      params: { _source_excludes: WITHOUT_TEMPLATES },
    });
  }

  async addFaceTemplates(templates: readonly FaceTemplateRecord[]): Promise<void> {
    for (const [actorId, own] of groupBy(templates, (t) => t.actorId)) {
      try {
        await this.updateTemplates(actorId, own.map((t) => t.id), own.map(storedTemplate));
      } catch (err) {
        // Templates need their actor (the embedded store's foreign key).
        if (isNotFound(err)) throw new NotFoundError('actor', actorId);
        throw err;
      }
    }
  }

  async deleteFaceTemplates(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    for (const actorId of await this.ownersOf(ids)) {
      try {
        await this.updateTemplates(actorId, ids, []);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  async listFaceTemplates(actorId: string): Promise<FaceTemplateRecord[]> {
    const doc = await this.documents.getOne<StoredActor>(this.index, actorId);
    return (doc?.templates ?? []).map(toTemplate).sort(byCreatedThenId);
  }

  async getFaceTemplate(id: string): Promise<FaceTemplateRecord | null> {
    const response = await this.call(() =>
      this.client.search<StoredActor>({ index: this.index, query: { bool: { filter: [terms('templateIds', [id])] } }, size: 1, track_total_hits: false }),
    );
    const template = response.hits.hits[0]?._source?.templates.find((t) => t.id === id);
    return template ? toTemplate(template) : null;
  }

  async countFaceTemplates(actorIds: readonly string[]): Promise<number[]> {
    if (actorIds.length === 0) return [];
    const response = await this.call(() =>
      this.client.mget<Pick<StoredActor, 'templateIds'>>({ index: this.index, ids: [...actorIds], _source_includes: ['templateIds'] }),
    );
    return response.docs.map((doc) => ('found' in doc && doc.found ? (doc._source?.templateIds?.length ?? 0) : 0));
  }

  async allFaceTemplates(): Promise<FaceTemplateRecord[]> {
    const actors = await this.documents.searchAll<StoredActor>(this.index, { match_all: {} }, [asc('id')]);
    return actors.flatMap((actor) => actor.templates.map(toTemplate).sort((a, b) => compareKeywords(a.id, b.id)));
  }

  /** Actors holding any of the template ids. */
  private async ownersOf(templateIds: readonly string[]): Promise<string[]> {
    const response = await this.call(() =>
      this.client.search<Pick<StoredActor, 'id'>>({
        index: this.index,
        query: { bool: { filter: [terms('templateIds', templateIds)] } },
        _source: ['id'],
        sort: [asc('id')],
        // Each template has one owner: never more actors than ids.
        size: templateIds.length,
        track_total_hits: false,
      }),
    );
    return response.hits.hits.flatMap((hit) => (hit._source ? [hit._source.id] : []));
  }

  private async updateTemplates(actorId: string, remove: readonly string[], add: readonly StoredTemplate[]): Promise<void> {
    await this.call(() =>
      this.client.update({
        index: this.index,
        id: actorId,
        script: { source: TEMPLATES_SCRIPT, lang: 'painless', params: { remove: [...remove], add: [...add] } },
        retry_on_conflict: CONFLICT_RETRIES,
        refresh: 'wait_for',
      }),
    );
  }
}

/** Another writer changed the document since we read it (if_seq_no did not match). */
export function isConflict(err: unknown): boolean {
  return err instanceof errors.ResponseError && err.statusCode === 409;
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
