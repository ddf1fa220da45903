// Where a matrix keeps its rows' int8 codes: in process (LocalRowCodes, below) or split across
// scan threads (ShardedRowCodes, sharded-codes.ts). Rows are numbered as the matrix numbers them
// (dense; removing one moves the last into its place); scans answer in those numbers.
import { nearestAmong, nearestCodes, simdModule, type CodeCandidates, type CodeMetric } from './code-scan.js';

export interface RowCodes {
  /** Room for `rows` rows without growing. */
  reserve(rows: number): void;
  /** Sets row `row`'s codes (`row` at most the current count: equal appends). */
  write(row: number, codes: Int8Array): void;
  /** Drops `row`: the last row's codes move into its place. */
  remove(row: number): void;
  /** The k rows nearest `query` natively, tie-complete (code-scan.ts), in any order. */
  nearest(query: Int8Array, k: number, metric: CodeMetric): Promise<CodeCandidates>;
  /** The k of `rows` with the largest int8 dot product, tie-complete, in any order. */
  nearestAmong(rows: readonly number[], query: Int8Array, k: number): Promise<CodeCandidates>;
  /** Set when the codes were lost (a scan thread died): the matrix must be loaded again. */
  readonly lost: boolean;
  /** Frees what the codes hold (threads). */
  close(): Promise<void>;
}

/** A copy of `array` with room for at least `length` elements (doubling). */
export function grownCopy<T extends Int32Array<ArrayBuffer> | Int8Array<ArrayBuffer> | Uint8Array<ArrayBuffer>>(array: T, length: number): T {
  const grown = new (array.constructor as new (length: number) => T)(Math.max(array.length * 2, length));
  grown.set(array);
  return grown;
}

export class LocalRowCodes implements RowCodes {
  private codes: Int8Array<ArrayBuffer>;
  private count = 0;
  readonly lost = false;

  constructor(
    private readonly dim: number,
    capacity: number,
  ) {
    this.codes = new Int8Array(dim * capacity);
  }

  /** Codes already laid out row-major, `count` rows of them (a scan thread's first load), kept without a copy. */
  static adopting(dim: number, codes: Int8Array<ArrayBuffer>, count: number): LocalRowCodes {
    const local = new LocalRowCodes(dim, 0);
    local.codes = codes;
    local.count = count;
    return local;
  }

  /** Rows held. */
  get size(): number {
    return this.count;
  }

  reserve(rows: number): void {
    if (rows * this.dim > this.codes.length) this.codes = grownCopy(this.codes, rows * this.dim);
  }

  write(row: number, codes: Int8Array): void {
    this.reserve(row + 1);
    this.codes.set(codes, row * this.dim);
    this.count = Math.max(this.count, row + 1);
  }

  remove(row: number): void {
    const last = this.count - 1;
    this.codes.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
    this.count = last;
  }

  async nearest(query: Int8Array, k: number, metric: CodeMetric): Promise<CodeCandidates> {
    return nearestCodes(simdModule()!, this.codes.subarray(0, this.count * this.dim), this.dim, query, k, metric);
  }

  async nearestAmong(rows: ArrayLike<number>, query: Int8Array, k: number): Promise<CodeCandidates> {
    return nearestAmong(this.codes, this.dim, rows, query, k);
  }

  async close(): Promise<void> {}
}
