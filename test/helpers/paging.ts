// Offset paging over an in-memory list, as the fakes of the store repositories page.
import type { Page, PageArgs } from '../../src/domain.js';

export function pageOf<T>(all: readonly T[], page: PageArgs): Page<T> {
  const offset = page.after ? Number(page.after) : 0;
  const items = all.slice(offset, offset + page.first);
  const end = offset + items.length;
  return { items, endCursor: items.length ? String(end) : (page.after ?? null), hasNextPage: end < all.length, totalCount: all.length };
}
