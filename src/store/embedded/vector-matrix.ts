// One collection's vectors as a dense Float32Array (row-major) plus ids and payloads, for exact
// search. Rows are unordered: removing one moves the last row into its place. Unfiltered scans of
// larger matrices run in usearch's SIMD brute force (still exact: ~5x the JS loop, see
// bench/vectors.ts); filtered scans, and machines where the native module does not load, use JS.
// Cosine matrices also keep an int8 copy: the native scan reads a quarter of the bytes (1M ×
// 128-d: ~37 → ~15 ms) and shortlists a few times `limit` rows, which are rescored exactly from
// the float rows (an int8-only matrix, below: 1.25x, each a SQLite read), so scores stay exact;
// only rows the int8 rounding pushes past the shortlist
// can be missed (near-ties deep in a crowd of near-duplicates). L2 matrices keep one too, on a
// scale set by the largest magnitude stored so far (re-coded when a larger one arrives, with
// headroom, so re-codes stay rare): ColorLayout's 33-d rows scan in a quarter of the bytes.
// A large cosine matrix may keep the int8 rows only (given a StoredRows reader): the shortlist is
// then rescored from the vectors as stored (SQLite), read for the shortlist's rows alone, which
// saves four bytes per dimension and row (1M frames × 128-d: 512 MB) for a read of a few hundred
// rows per search. Scores are the same: the stored vector is normalised as `set` would.
// The codes live behind RowCodes: in process, or split across scan threads for large matrices
// (sharded-codes.ts). Either way the shortlist is the `shortlist` rows nearest by int8 distance,
// ties by id, and the answer the best `limit` by exact score, ties by id: the same hits in the
// same order however the rows are split.
import type { VectorFilter, VectorHit, VectorMetric, VectorPayload } from '../interfaces.js';
import { simdModule, type CodeCandidates, type UsearchModule } from './code-scan.js';
import { LocalRowCodes, type RowCodes } from './row-codes.js';
import { RowIds } from './row-ids.js';
import { RowPayloads, type RowTest } from './row-payloads.js';

/** Below this many rows the JS loop is as fast as a native call. */
const SIMD_MIN_ROWS = 2_048;
/**
 * int8 steps per unit: a unit vector's components are ~1/√dim, so ±4/√dim fills the int8 range
 * (a rarer larger component saturates; the exact rescoring still scores it right).
 */
function int8Scale(dim: number): number {
  return Math.max(127, (127 * Math.sqrt(dim)) / 4);
}
/** An L2 matrix's int8 scale leaves this much headroom over the largest magnitude stored. */
const L2_HEADROOM = 1.25;
/** Rows the int8 scan shortlists for exact rescoring: limit × factor + slack. */
const INT8_OVERSAMPLE = 4;
const INT8_SLACK = 64;
/**
 * The same factor for an int8-only matrix, whose rescoring reads each shortlisted row from SQLite
 * (~10–20 µs a row at 1M frames in a multi-GB file: 864 rows for a 200-row search was ~40 % of the
 * frame scan's CPU). At 1M frames (bench image-search's synthetic crowd) the rescored top 200 of
 * a 314-row shortlist was the 864-row one's exactly, for the image-search.json queries (fitted)
 * and the image-search-hard.json ones (reported); 264 rows already lost a row (overlap 0.999).
 */
const INT8_ONLY_OVERSAMPLE = 1.25;

function toInt8(vector: Float32Array, scale: number, out: Int8Array, offset: number): void {
  for (let i = 0; i < vector.length; i += 1) out[offset + i] = Math.max(-127, Math.min(127, Math.round(vector[i]! * scale)));
}

/** Whether unfiltered scans run natively here (for benches and tests). */
export function nativeScanAvailable(): boolean {
  return simdModule() !== null;
}

/** Where a matrix keeps its codes: given the dimension and the rows to make room for. */
export type RowCodesFactory = (dim: number, capacity: number) => RowCodes;

const localCodes: RowCodesFactory = (dim, capacity) => new LocalRowCodes(dim, capacity);

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The vectors as stored, by id (those no longer stored are missing from the answer). `locator` is
 * where `set` was told the row is stored (SQLite: its rowid, a direct read instead of a key lookup),
 * a hint the reader checks against the id.
 */
export type StoredRows = (rows: readonly { id: string; locator: number | undefined }[]) => Map<string, Float32Array>;

function l2Normalize(vector: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < vector.length; i += 1) norm += vector[i]! * vector[i]!;
  norm = Math.sqrt(norm);
  const out = new Float32Array(vector.length);
  if (norm > 0) for (let i = 0; i < vector.length; i += 1) out[i] = vector[i]! / norm;
  return out;
}

/** The `limit` best (highest) scores seen so far, kept sorted descending; equal scores in `precedes` order. */
class TopK {
  readonly rows: number[] = [];
  readonly scores: number[] = [];
  constructor(
    private readonly limit: number,
    private readonly precedes: (row: number, other: number) => boolean,
  ) {}

  /** Whether (row, score) ranks before the entry at `at`. */
  private before(row: number, score: number, at: number): boolean {
    const other = this.scores[at]!;
    return score > other || (score === other && this.precedes(row, this.rows[at]!));
  }

  offer(row: number, score: number): void {
    if (this.scores.length >= this.limit && !this.before(row, score, this.scores.length - 1)) return;
    let at = this.scores.length;
    while (at > 0 && this.before(row, score, at - 1)) at -= 1;
    this.scores.splice(at, 0, score);
    this.rows.splice(at, 0, row);
    if (this.scores.length > this.limit) {
      this.scores.pop();
      this.rows.pop();
    }
  }
}

export class VectorMatrix {
  /** Float rows (cosine: normalised); empty when the matrix keeps int8 rows only (`stored` given). */
  private data: Float32Array;
  /** int8 copy of the rows for the native scan (cosine and L2); null for dot or without SIMD. */
  private readonly codes: RowCodes | null;
  /** int8 steps per unit of the codes (cosine: fixed by dim; L2: 127 / (headroom × largest magnitude)). */
  private codeScale: number;
  /** Rows the float rows, codes and locators have room for. */
  private capacity: number;
  /** One row's codes, reused by every write. */
  private readonly scratch: Int8Array;
  /** Ids and payloads by row, in typed arrays (1M frames: ~80 MB off the JS heap, not ~240 MB on it). */
  private readonly ids: RowIds;
  private readonly payloads: RowPayloads;
  /** Where each row is stored, as `set` was told (NaN: not told); int8-only matrices only (the rescoring reads it). */
  private locators: Float64Array | null;

  /** Where rescoring reads float rows when the matrix keeps int8 rows only; null when it keeps both. */
  private readonly stored: StoredRows | null;

  /**
   * @param simd use the native exact scan when available (false: always the JS loop).
   * @param stored keep int8 rows only and rescore from these (cosine with the native scan only;
   *   otherwise ignored: the float rows stay).
   * @param codesIn where the int8 codes live (default: in this thread).
   */
  constructor(
    readonly dim: number,
    readonly metric: VectorMetric,
    initialCapacity = 1024,
    private readonly simd = true,
    stored: StoredRows | null = null,
    codesIn: RowCodesFactory = localCodes,
  ) {
    this.capacity = initialCapacity;
    this.codes = metric !== 'dot' && simd && simdModule() !== null ? codesIn(dim, initialCapacity) : null;
    this.stored = stored && metric === 'cosine' && this.codes ? stored : null;
    this.data = new Float32Array(this.stored ? 0 : dim * initialCapacity);
    this.codeScale = metric === 'cosine' ? int8Scale(dim) : 0;
    this.scratch = new Int8Array(dim);
    this.ids = new RowIds(initialCapacity);
    this.payloads = new RowPayloads(initialCapacity);
    this.locators = this.stored ? new Float64Array(initialCapacity) : null;
  }

  /** Equal scores rank by id: an order that does not depend on where rows sit. */
  private readonly idPrecedes = (row: number, other: number): boolean => this.ids.idOf(row) < this.ids.idOf(other);

  /** Whether the matrix keeps int8 rows only (rescoring reads the stored vectors). */
  get int8Only(): boolean {
    return this.stored !== null;
  }

  /** Whether the codes were lost (a scan thread died): searches fail until the matrix is loaded again. */
  get lost(): boolean {
    return this.codes?.lost ?? false;
  }

  get size(): number {
    return this.ids.size;
  }

  /** Ends the scan threads, if the codes have any. */
  close(): Promise<void> {
    return this.codes?.close() ?? Promise.resolve();
  }

  /** @param locator where the row is stored (SQLite: its rowid), for the rescoring of an int8-only matrix. */
  set(id: string, vector: Float32Array, payload: VectorPayload, locator?: number): void {
    // Cosine on unit vectors is a dot product: normalise once here, not per search.
    const stored = this.metric === 'cosine' ? l2Normalize(vector) : vector;
    const row = this.ids.add(id);
    this.grow(row + 1);
    this.payloads.set(row, payload);
    if (this.locators) this.locators[row] = locator ?? NaN;
    if (!this.stored) this.data.set(stored, row * this.dim);
    if (this.metric === 'l2') this.widenL2Scale(stored);
    this.writeCodes(row, stored);
  }

  private writeCodes(row: number, vector: Float32Array): void {
    if (!this.codes) return;
    toInt8(vector, this.codeScale, this.scratch, 0);
    this.codes.write(row, this.scratch);
  }

  /** Room for `rows` rows (doubling), in the float rows kept, the codes and the locators. */
  private grow(rows: number): void {
    if (rows <= this.capacity) return;
    this.capacity = Math.max(this.capacity * 2, rows);
    this.codes?.reserve(this.capacity);
    if (this.locators) {
      const grownLocators = new Float64Array(this.capacity);
      grownLocators.set(this.locators);
      this.locators = grownLocators;
    }
    if (!this.stored) {
      const grown = new Float32Array(this.capacity * this.dim);
      grown.set(this.data);
      this.data = grown;
    }
  }

  /** Shrinks the L2 code scale (re-coding every row) when `vector` holds a larger magnitude than it covers. */
  private widenL2Scale(vector: Float32Array): void {
    let largest = 0;
    for (let i = 0; i < vector.length; i += 1) largest = Math.max(largest, Math.abs(vector[i]!));
    if (!this.codes || largest === 0 || (this.codeScale > 0 && largest * this.codeScale <= 127)) return;
    this.codeScale = 127 / (L2_HEADROOM * largest);
    for (let row = 0; row < this.size; row += 1) this.writeCodes(row, this.data.subarray(row * this.dim, (row + 1) * this.dim));
  }

  remove(id: string): void {
    const row = this.ids.rowOf(id);
    if (row === undefined) return;
    const last = this.size - 1;
    if (row !== last) {
      if (!this.stored) this.data.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      if (this.locators) this.locators[row] = this.locators[last]!;
    }
    this.codes?.remove(row);
    this.ids.remove(row);
    this.payloads.remove(row);
  }

  async search(query: Float32Array, limit: number, filter?: VectorFilter): Promise<VectorHit[]> {
    const test = this.payloads.test(filter);
    const q = this.metric === 'cosine' ? l2Normalize(query) : query;
    const native = this.simd && !test && this.size >= SIMD_MIN_ROWS ? simdModule() : null;
    if (native) return this.nativeSearch(native, q, limit);
    if (this.stored) return this.int8ScanSearch(q, limit, test);
    const { dim, data } = this;
    const top = new TopK(limit, this.idPrecedes);
    for (let row = 0; row < this.size; row += 1) {
      if (test && !test(row)) continue;
      const base = row * dim;
      let score = 0;
      if (this.metric === 'l2') {
        for (let i = 0; i < dim; i += 1) {
          const d = data[base + i]! - q[i]!;
          score += d * d;
        }
        score = -score;
      } else {
        for (let i = 0; i < dim; i += 1) score += data[base + i]! * q[i]!;
      }
      top.offer(row, score);
    }
    return top.rows.map((row, i) => ({
      id: this.ids.idOf(row),
      // Ranked on squared distance; reported as the negative distance itself.
      score: this.metric === 'l2' ? -Math.sqrt(-top.scores[i]!) : top.scores[i]!,
      payload: this.payloads.get(row),
    }));
  }

  private async nativeSearch(native: UsearchModule, q: Float32Array, limit: number): Promise<VectorHit[]> {
    if (this.codes && this.codeScale > 0) return this.int8Search(this.codes, q, limit);
    const metric = this.metric === 'l2' ? native.MetricKind.L2sq : native.MetricKind.IP;
    // One thread: concurrent API requests already use the other cores.
    const { keys, distances } = native.exactSearch(this.data.subarray(0, this.size * this.dim), q, this.dim, Math.min(limit, this.size), metric, 1) as {
      keys: BigUint64Array;
      distances: Float32Array;
    };
    return Array.from(keys, (key, i) => {
      const row = Number(key);
      const distance = distances[i]!;
      // usearch's "ip" distance is 1 - dot; "l2sq" is the squared distance.
      const score = this.metric === 'l2' ? -Math.sqrt(Math.max(0, distance)) : 1 - distance;
      return { id: this.ids.idOf(row), score, payload: this.payloads.get(row) };
    });
  }

  /** Matching rows ordered by id (the rows themselves are unordered), at most `limit`. */
  scroll(filter: VectorFilter | undefined, limit: number): { id: string; payload: VectorPayload }[] {
    const test = this.payloads.test(filter);
    const rows: { row: number; id: string }[] = [];
    for (let row = 0; row < this.size; row += 1) if (!test || test(row)) rows.push({ row, id: this.ids.idOf(row) });
    rows.sort((a, b) => (a.id < b.id ? -1 : 1));
    return rows.slice(0, Math.max(0, limit)).map(({ row, id }) => ({ id, payload: this.payloads.get(row) }));
  }

  private queryCodes(q: Float32Array): Int8Array {
    const query = new Int8Array(this.dim);
    toInt8(q, this.codeScale, query, 0);
    return query;
  }

  /** Shortlist on the int8 rows natively, then rescore the shortlist exactly on the float rows. */
  private async int8Search(codes: RowCodes, q: Float32Array, limit: number): Promise<VectorHit[]> {
    const shortlist = this.shortlistFor(limit);
    const candidates = await codes.nearest(this.queryCodes(q), shortlist, this.metric === 'l2' ? 'l2sq' : 'ip');
    return this.rescore(this.nearestById(candidates, shortlist), q, limit);
  }

  /** The `count` nearest candidates, ties by id (the candidates are tie-complete, so this is the same set however they were scanned). */
  private nearestById({ rows, distances }: CodeCandidates, count: number): number[] {
    const order = rows.map((row, i) => ({ row, distance: distances[i]!, id: this.ids.idOf(row) }));
    order.sort((a, b) => a.distance - b.distance || byId(a.id, b.id));
    return order.slice(0, count).map((entry) => entry.row);
  }

  /** Rows an int8 scan shortlists for the exact rescoring of `limit`. */
  private shortlistFor(limit: number): number {
    return Math.ceil(limit * (this.stored ? INT8_ONLY_OVERSAMPLE : INT8_OVERSAMPLE)) + INT8_SLACK;
  }

  /**
   * A int8-only matrix's filtered (or small) scan: every row that passes when they are few enough
   * to rescore them all (exact), else a shortlist by the int8 dot product.
   */
  private async int8ScanSearch(q: Float32Array, limit: number, test: RowTest | null): Promise<VectorHit[]> {
    const shortlist = this.shortlistFor(limit);
    const passing: number[] = [];
    for (let row = 0; row < this.size; row += 1) if (!test || test(row)) passing.push(row);
    if (passing.length <= shortlist) return this.rescore(passing, q, limit);
    const candidates = await this.codes!.nearestAmong(passing, this.queryCodes(q), shortlist);
    return this.rescore(this.nearestById(candidates, shortlist), q, limit);
  }

  /** The `limit` best of `rows` by their exact score, ties by id: the float rows kept, or the stored vectors read for these rows alone. */
  private rescore(rows: readonly number[], q: Float32Array, limit: number): VectorHit[] {
    const { dim } = this;
    const l2 = this.metric === 'l2';
    const vectorOf = this.stored ? this.storedRowReader(rows) : (row: number) => this.data.subarray(row * dim, (row + 1) * dim);
    const top = new TopK(limit, this.idPrecedes);
    for (const row of rows) {
      const v = vectorOf(row);
      if (!v) continue;
      let score = 0;
      for (let i = 0; i < dim; i += 1) score += l2 ? -((v[i]! - q[i]!) ** 2) : v[i]! * q[i]!;
      top.offer(row, score);
    }
    // L2 ranks on the negative squared distance and reports the negative distance, as the JS scan.
    return top.rows.map((row, i) => ({ id: this.ids.idOf(row), score: l2 ? -Math.sqrt(-top.scores[i]!) : top.scores[i]!, payload: this.payloads.get(row) }));
  }

  /** The stored vectors of `rows`, normalised as `set` stores cosine rows; undefined for a row no longer stored. */
  private storedRowReader(rows: readonly number[]): (row: number) => Float32Array | undefined {
    const ids = new Map(rows.map((row) => [row, this.ids.idOf(row)]));
    const vectors = this.stored!(rows.map((row) => ({ id: ids.get(row)!, locator: Number.isNaN(this.locators![row]) ? undefined : this.locators![row] })));
    return (row) => {
      const vector = vectors.get(ids.get(row)!);
      return vector && l2Normalize(vector);
    };
  }

  count(filter?: VectorFilter): number {
    const test = this.payloads.test(filter);
    if (!test) return this.size;
    let n = 0;
    for (let row = 0; row < this.size; row += 1) if (test(row)) n += 1;
    return n;
  }
}
