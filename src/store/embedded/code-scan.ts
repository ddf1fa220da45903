// Scans of a matrix's int8 codes, shared by the in-process matrix and the scan threads
// (scan-worker.ts), so both shortlist by the same rule. Every answer is "tie-complete": the k
// nearest rows plus every further row at the k-th distance. usearch's exact search picks among
// tied rows by its partial sort (an order that changes when the rows are split across threads);
// with every tied row returned, the caller can break ties by id and get the same shortlist
// however the rows are split.
import { createRequire } from 'node:module';

export type UsearchModule = typeof import('usearch');

/** The metrics the native scan runs on codes: inner product (cosine on unit rows) and squared L2. */
export type CodeMetric = 'ip' | 'l2sq';

/** Rows (as the scanned array numbers them) and their distances, nearest first. */
export interface CodeCandidates {
  rows: number[];
  distances: number[];
}

let usearch: UsearchModule | null | undefined;

/** usearch, or null where its native module does not load. */
export function simdModule(): UsearchModule | null {
  if (usearch === undefined) {
    try {
      usearch = createRequire(import.meta.url)('usearch') as UsearchModule;
    } catch {
      usearch = null;
    }
  }
  return usearch;
}

/**
 * The k rows of `codes` (row-major, `dim` per row, starting at byte 0: usearch ignores a view's
 * offset) nearest `query`, tie-complete. Asks for 2k so a tie across the k-th place is usually
 * seen in one scan; a tie group longer than that doubles the ask until it ends.
 */
export function nearestCodes(native: UsearchModule, codes: Int8Array, dim: number, query: Int8Array, k: number, metric: CodeMetric): CodeCandidates {
  const size = codes.length / dim;
  if (size === 0 || k <= 0) return { rows: [], distances: [] };
  const kind = metric === 'l2sq' ? native.MetricKind.L2sq : native.MetricKind.IP;
  for (let ask = Math.min(size, 2 * k); ; ask = Math.min(size, 2 * ask)) {
    // One thread: the caller splits the rows across threads itself.
    const { keys, distances } = native.exactSearch(codes, query, dim, ask, kind, 1) as { keys: BigUint64Array; distances: Float32Array };
    const kth = distances[Math.min(k, ask) - 1]!;
    if (ask < size && distances[ask - 1] === kth) continue;
    let end = Math.min(k, ask);
    while (end < ask && distances[end] === kth) end += 1;
    return { rows: Array.from(keys.subarray(0, end), Number), distances: Array.from(distances.subarray(0, end)) };
  }
}

/**
 * Among `rows`, the k whose codes have the largest int8 dot product with `query` (distance: the
 * negative dot), tie-complete. For filtered scans, which the native scan cannot restrict to rows.
 */
export function nearestAmong(codes: Int8Array, dim: number, rows: ArrayLike<number>, query: Int8Array, k: number): CodeCandidates {
  const dots = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i += 1) {
    const base = rows[i]! * dim;
    let dot = 0;
    for (let j = 0; j < dim; j += 1) dot += codes[base + j]! * query[j]!;
    dots[i] = dot;
  }
  const kth = rows.length <= k ? -Infinity : Float64Array.from(dots).sort()[rows.length - k]!;
  return candidatesFrom(rows, dots, kth);
}

/** The rows whose dot is at least `kth`, nearest (largest dot) first. */
function candidatesFrom(rows: ArrayLike<number>, dots: Float64Array, kth: number): CodeCandidates {
  const kept: number[] = [];
  for (let i = 0; i < rows.length; i += 1) if (dots[i]! >= kth) kept.push(i);
  kept.sort((a, b) => dots[b]! - dots[a]!);
  return { rows: kept.map((i) => rows[i]!), distances: kept.map((i) => -dots[i]!) };
}
