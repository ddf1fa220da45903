// Offset paging over an in-memory list, as the fakes of the store repositories page. A cursor
// that is not one of its offsets is BAD_USER_INPUT, as in every real backend.
import type { Page, PageArgs } from '../../src/domain.js';
import { BadInputError } from '../../src/errors.js';

export function pageOf<T>(all: readonly T[], page: PageArgs): Page<T> {
  const offset = page.after ? Number(page.after) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw new BadInputError('after is not a valid cursor', { after: page.after });
  const items = all.slice(offset, offset + page.first);
  const end = offset + items.length;
  return { items, endCursor: items.length ? String(end) : (page.after ?? null), hasNextPage: end < all.length, totalCount: all.length };
}
