// What every Elasticsearch repository does the same way: a family of versioned indices with strict
// mappings (schema.ts), requests retried with back-off on 429/503, whole result sets read with
// search_after, documents fetched by id in the caller's order, and deletes by query.
import type { Client, estypes } from '@elastic/elasticsearch';
import type { Page, PageArgs } from '../../domain.js';
import { DEFAULT_BACKOFF, isNotFound, withBackoff, type Backoff } from './client.js';
import { indexNames, migrateVersionedIndex, type VersionedIndexResult } from './schema.js';

export type Query = estypes.QueryDslQueryContainer;
export type Sort = estypes.SortCombinations;
export type Mapping = estypes.MappingProperty;

export const term = (field: string, value: string | number | boolean): Query => ({ term: { [field]: value } });
export const terms = (field: string, values: readonly (string | number)[]): Query => ({ terms: { [field]: [...values] } });
export const filterQuery = (...filters: Query[]): Query => ({ bool: { filter: filters } });
/** Documents without a value in `field` (null, absent or an empty list). */
export const missing = (field: string): Query => ({ bool: { must_not: [{ exists: { field } }] } });
export const asc = (field: string): Sort => ({ [field]: { order: 'asc' } });
export const desc = (field: string): Sort => ({ [field]: { order: 'desc' } });

/** Common field mappings. */
export const KEYWORD: Mapping = { type: 'keyword' };
export const DOUBLE: Mapping = { type: 'double' };
export const INTEGER: Mapping = { type: 'integer' };
/** Millisecond clock readings and counters beyond the integer range. */
export const LONG: Mapping = { type: 'long' };
export const BOOLEAN: Mapping = { type: 'boolean' };
/** Kept in _source, never searched (messages, JSON blobs, long texts). */
export const STORED_ONLY: Mapping = { type: 'text', index: false };
/** Bytes (base64 in _source), never searched. */
export const BINARY: Mapping = { type: 'binary' };
/** An object kept whole in _source without mapping its inside (boxes, nested records read back as they are). */
export const OPAQUE: Mapping = { type: 'object', enabled: false };

/**
 * The flip of the generation scheme (catalog.ts explains it): sets the current generation of
 * every slot on the owner's document, unless one of them is already newer (a later replace won:
 * nothing changes, and the result is 'noop'). With scripted_upsert it also creates the document.
 */
const GENERATION_FLIP = `
if (ctx._source.generations == null) { ctx._source.generations = [:]; }
boolean superseded = false;
for (slot in params.slots) {
  def current = ctx._source.generations[slot];
  if (current != null && current > params.generation) { superseded = true; }
}
if (superseded) { ctx.op = 'noop'; } else {
  for (slot in params.slots) { ctx._source.generations[slot] = params.generation; }
}
`.trim();

export function generationFlip(slots: readonly string[], generation: number): estypes.Script {
  return { source: GENERATION_FLIP, lang: 'painless', params: { slots: [...slots], generation } };
}

/** Text matched literally inside a wildcard query (its own * and ? escaped). */
export function escapeWildcard(text: string): string {
  return text.replace(/[\\*?]/g, (c) => `\\${c}`);
}

/** Updates of one document that race (flips, counters, scripted edits) retry on the version conflict this often. */
export const CONFLICT_RETRIES = 5;

/**
 * Orders strings by their UTF-8 bytes: how keyword fields sort, and SQLite's BINARY collation, so
 * in-memory sorts and cursors agree with both backends.
 */
export function compareKeywords(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Bytes of a typed array as they lie in memory, as base64 for a BINARY field. */
export function base64Of(values: Uint8Array | Uint32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

/** A BINARY field's bytes. */
export function bytesOf(base64: string): Buffer {
  return Buffer.from(base64, 'base64');
}

export function totalOf(total: estypes.SearchTotalHits | number | undefined): number {
  return typeof total === 'number' ? total : (total?.value ?? 0);
}

/** One page of a listing (ElasticDocuments.searchPage). */
export interface PageRequest<T, R> {
  index: string;
  query: Query;
  /** Unique sort keys, the same the cursor encodes. */
  sort: Sort[];
  page: PageArgs;
  /** The sort values the page starts after (decoded from page.after); null on the first page. */
  after: estypes.FieldValue[] | null;
  toItem(doc: T): R;
  /** The cursor of an item: its sort values, encoded the way the embedded backend does. */
  cursorOf(item: R): string;
  /** Further search parameters (e.g. _source_excludes). */
  params?: Partial<estypes.SearchRequest>;
}

/** Hits per request when reading every document of a set (search_after pages). */
export const SCAN_PAGE = 1000;

export interface IndexFamily<Name extends string> {
  /** Bumped when a mapping changes: the next start copies the documents into the new version. */
  version: number;
  properties: Record<Name, Record<string, Mapping>>;
}

/** Brings every index of the family to its version (create, or copy forward and swap the alias); returns the aliases. */
export async function migrateIndexFamily<Name extends string>(
  client: Client,
  prefix: string,
  family: IndexFamily<Name>,
): Promise<{ aliases: Record<Name, string>; results: Record<Name, VersionedIndexResult> }> {
  const aliases = {} as Record<Name, string>;
  const results = {} as Record<Name, VersionedIndexResult>;
  for (const name of Object.keys(family.properties) as Name[]) {
    const names = indexNames(prefix, name);
    aliases[name] = names.alias;
    results[name] = await migrateVersionedIndex(client, {
      names,
      version: family.version,
      settings: { number_of_shards: 1 },
      mappings: { dynamic: 'strict', _meta: { schemaVersion: family.version }, properties: family.properties[name] },
    });
  }
  return { aliases, results };
}

/** What opening did to each index, as one log line's fields: `{ videos: 'vidsearch-videos-v1 (created)' }`. */
export function migrationSummary(results: Record<string, VersionedIndexResult>): Record<string, string> {
  return Object.fromEntries(Object.entries(results).map(([name, result]) => [name, `${result.index} (${result.action})`]));
}

/** The aliases of a family without touching the cluster (for adapters opened on migrated indices). */
export function familyAliases<Name extends string>(prefix: string, family: IndexFamily<Name>): Record<Name, string> {
  return Object.fromEntries(Object.keys(family.properties).map((name) => [name, indexNames(prefix, name).alias])) as Record<Name, string>;
}

/** Requests with back-off, and the reads every adapter needs, on one client. */
export class ElasticDocuments {
  constructor(
    readonly client: Client,
    readonly backoff: Backoff = DEFAULT_BACKOFF,
    private readonly scanPage: number = SCAN_PAGE,
  ) {}

  /** Runs an idempotent request, retrying 429/503 with back-off. */
  call<T>(request: () => Promise<T>): Promise<T> {
    return withBackoff(request, this.backoff);
  }

  /**
   * Every hit of the query, page by page with search_after on `sort` (which must be unique);
   * `source` narrows what each hit carries (e.g. leaves out a large field the caller does not need).
   */
  async searchAll<T>(index: string | string[], query: Query, sort: Sort[], source?: estypes.SearchSourceConfig): Promise<T[]> {
    const found: T[] = [];
    let searchAfter: estypes.SortResults | undefined;
    for (;;) {
      const after = searchAfter;
      const response = await this.call(() =>
        this.client.search<T>({ index, query, sort, size: this.scanPage, track_total_hits: false, ...(source ? { _source: source } : {}), ...(after ? { search_after: after } : {}) }),
      );
      const hits = response.hits.hits;
      for (const hit of hits) if (hit._source) found.push(hit._source);
      const last = hits.at(-1);
      if (hits.length < this.scanPage || !last?.sort) return found;
      searchAfter = last.sort;
    }
  }

  /**
   * One page with search_after: one hit more than the page tells whether another follows, and the
   * total counts the whole filtered set (search_after narrows the page, not the count).
   */
  async searchPage<T, R>(request: PageRequest<T, R>): Promise<Page<R>> {
    const { page, after } = request;
    const response = await this.call(() =>
      this.client.search<T>({
        index: request.index,
        query: request.query,
        sort: request.sort,
        size: page.first + 1,
        track_total_hits: true,
        ...request.params,
        ...(after ? { search_after: after } : {}),
      }),
    );
    const docs = response.hits.hits.flatMap((hit) => (hit._source ? [hit._source] : []));
    const items = docs.slice(0, page.first).map((doc) => request.toItem(doc));
    const last = items.at(-1);
    return {
      items,
      endCursor: last ? request.cursorOf(last) : (page.after ?? null),
      hasNextPage: docs.length > page.first,
      totalCount: totalOf(response.hits.total),
    };
  }

  /** Documents by id (real-time, no refresh needed), same order as `ids`, null where missing. */
  async getMany<T>(index: string, ids: readonly string[]): Promise<(T | null)[]> {
    if (ids.length === 0) return [];
    const response = await this.call(() => this.client.mget<T>({ index, ids: [...ids] }));
    return response.docs.map((doc) => ('found' in doc && doc.found && doc._source ? doc._source : null));
  }

  async getOne<T>(index: string, id: string): Promise<T | null> {
    const [doc] = await this.getMany<T>(index, [id]);
    return doc ?? null;
  }

  /** Deletes one document; false when it was not there. */
  async deleteOne(index: string, id: string, refresh: 'wait_for' | false): Promise<boolean> {
    try {
      await this.call(() => this.client.delete({ index, id, ...(refresh ? { refresh } : {}) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Deletes what the query matches. delete_by_query finds documents through search, so indices
   * written without a refresh are refreshed first (`refreshFirst`); `refresh: true` makes the
   * deletion visible to the next search.
   */
  async deleteWhere(index: string | string[], query: Query, options: { refreshFirst?: boolean; refresh?: boolean } = {}): Promise<number> {
    if (options.refreshFirst) await this.call(() => this.client.indices.refresh({ index }));
    const response = await this.call(() =>
      this.client.deleteByQuery({ index, query, conflicts: 'proceed', ...(options.refresh ? { refresh: true } : {}) }),
    );
    return response.deleted ?? 0;
  }
}
