// Relay-style pages for every list the API returns: page-size rules and opaque cursors.
// Store pages only carry a cursor for their LAST item, but Relay needs one per edge, so an edge
// cursor here is "the store cursor the page started from + how many items of it to skip". Any
// backend's opaque cursor works that way, and resuming mid-page costs one slightly larger read.
import type { Page, PageArgs } from '../domain.js';
import { BadInputError } from '../errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

/** `first` as asked, or the default; BAD_USER_INPUT when negative, fractional or over the maximum. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0) throw new BadInputError('first must be a whole number ≥ 0', { first });
  if (first > MAX_PAGE_SIZE) {
    throw new BadInputError(`page size over the maximum: first must be at most ${MAX_PAGE_SIZE}`, { first, max: MAX_PAGE_SIZE });
  }
  return first;
}

interface StoreCursor {
  kind: 'store';
  /** The store cursor the page was read from (null: the beginning). */
  after: string | null;
  /** Items of that store page already seen. */
  skip: number;
}

interface OffsetCursor {
  kind: 'offset';
  offset: number;
}

type Cursor = StoreCursor | OffsetCursor;

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function decodeCursor<K extends Cursor['kind']>(raw: string, kind: K): Extract<Cursor, { kind: K }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new BadInputError('after is not a cursor this API returned', { after: raw });
  }
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    (parsed as Cursor).kind === kind &&
    (kind === 'offset'
      ? Number.isInteger((parsed as OffsetCursor).offset) && (parsed as OffsetCursor).offset >= 0
      : Number.isInteger((parsed as StoreCursor).skip) &&
        (parsed as StoreCursor).skip >= 0 &&
        (parsed as StoreCursor).skip <= MAX_PAGE_SIZE &&
        ((parsed as StoreCursor).after === null || typeof (parsed as StoreCursor).after === 'string'));
  if (!valid) throw new BadInputError('after is not a cursor this API returned', { after: raw });
  return parsed as Extract<Cursor, { kind: K }>;
}

/** The offset an offset-cursor points after (0 without a cursor). */
export function offsetAfter(after: string | null | undefined): number {
  return after ? decodeCursor(after, 'offset').offset : 0;
}

export function offsetCursor(offset: number): string {
  return encodeCursor({ kind: 'offset', offset });
}

/** One page read through a store's cursor-paged list method. */
export async function pageFromStore<T>(
  read: (page: PageArgs) => Promise<Page<T>>,
  first: number | null | undefined,
  after: string | null | undefined,
): Promise<Connection<T>> {
  const size = pageSize(first);
  const start: StoreCursor = after ? decodeCursor(after, 'store') : { kind: 'store', after: null, skip: 0 };
  const page = await read({ first: start.skip + size, after: start.after });
  const items = page.items.slice(start.skip, start.skip + size);
  const edges = items.map((node, i) => ({ node, cursor: encodeCursor({ ...start, skip: start.skip + i + 1 }) }));
  const readToStoreEnd = start.skip + items.length >= page.items.length;
  const hasNextPage = readToStoreEnd ? page.hasNextPage : true;
  // Continue from the store's own cursor when this page used up what the store returned.
  let endCursor = edges.at(-1)?.cursor ?? after ?? null;
  if (readToStoreEnd && items.length > 0 && page.endCursor) {
    endCursor = encodeCursor({ kind: 'store', after: page.endCursor, skip: 0 });
    edges[edges.length - 1]!.cursor = endCursor;
  }
  return { edges, pageInfo: { hasNextPage, endCursor }, totalCount: page.totalCount };
}

/** One page of a list already in memory (e.g. a video's shots), with offset cursors. */
export function pageFromArray<T>(all: readonly T[], first: number | null | undefined, after: string | null | undefined): Connection<T> {
  const size = pageSize(first);
  const offset = offsetAfter(after);
  const items = all.slice(offset, offset + size);
  const edges = items.map((node, i) => ({ node, cursor: offsetCursor(offset + i + 1) }));
  return {
    edges,
    pageInfo: { hasNextPage: offset + items.length < all.length, endCursor: edges.at(-1)?.cursor ?? after ?? null },
    totalCount: all.length,
  };
}
