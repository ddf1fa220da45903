// Bulk indexing shared by the text index and the catalog: the client's bulk helper with
// idempotent `_id`s, per-document retries of 429 rejections, the whole run retried with
// exponential back-off when the cluster answers 429/503 to the request itself (safe: the ids are
// deterministic, so a repeated document overwrites itself), and an error naming what was dropped.
import type { Client } from '@elastic/elasticsearch';
import { DEFAULT_BACKOFF, withBackoff, type Backoff } from './client.js';

/** One document to index: where, under which `_id`, and its source. */
export interface BulkDocument {
  /** Alias (or index) to write to. */
  index: string;
  id: string;
  source: object;
}

/**
 * Indexes the documents (one or several indices in the same requests). `refresh: 'wait_for'` when
 * the caller reads them back through search right away; false when nothing searches for them
 * before the next scheduled refresh.
 */
export async function bulkIndex(client: Client, documents: readonly BulkDocument[], refresh: 'wait_for' | false, backoff: Backoff = DEFAULT_BACKOFF): Promise<void> {
  if (documents.length === 0) return;
  await withBackoff(async () => {
    const dropped: string[] = [];
    const stats = await client.helpers.bulk<BulkDocument>({
      datasource: [...documents],
      onDocument: (doc) => [{ index: { _index: doc.index, _id: doc.id } }, doc.source],
      onDrop: (drop) => dropped.push(`${JSON.stringify(drop.operation)}: ${drop.error?.reason ?? drop.status}`),
      retries: backoff.retries,
      wait: backoff.baseMs,
      ...(refresh ? { refresh } : {}),
    });
    if (stats.failed > 0 || dropped.length > 0) {
      const failed = Math.max(stats.failed, dropped.length);
      throw new Error(`Elasticsearch bulk index failed for ${failed} of ${documents.length} documents: ${dropped.slice(0, 3).join('; ')}`);
    }
  }, backoff);
}
