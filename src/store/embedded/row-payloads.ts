// A vector matrix's row payloads held as columns: per payload key one tag byte and one float64
// per row (the number itself, or the code of a string in a dictionary shared by the columns),
// and per row the code of its key list (which keys, in which order, so each payload comes back
// as it was set). At 1M frames ({videoId, time, from, to}: 10k distinct videos) this is ~40 MB of
// typed arrays outside the JS heap, where 1M payload objects held ~120 MB of heap. Filters test
// the columns directly (a video filter compares string codes). Rows are dense 0..size-1;
// removing one moves the last row into its place, as the matrix does.
import type { VectorFilter, VectorPayload } from '../interfaces.js';

type Value = VectorPayload[string];

/** What a column holds for a row. ABSENT: the key is missing or its value undefined. */
const ABSENT = 0;
const NUMBER = 1;
const STRING = 2;
const TRUE = 3;
const FALSE = 4;
const NULL = 5;

class Column {
  tags: Uint8Array;
  values: Float64Array;

  constructor(capacity: number) {
    this.tags = new Uint8Array(capacity);
    this.values = new Float64Array(capacity);
  }

  reserve(capacity: number): void {
    if (capacity <= this.tags.length) return;
    const tags = new Uint8Array(capacity);
    tags.set(this.tags);
    const values = new Float64Array(capacity);
    values.set(this.values);
    this.tags = tags;
    this.values = values;
  }
}

/** Strings by code, counted by the rows holding them: a code no row holds is freed for reuse. */
class StringDictionary {
  private readonly codeOf = new Map<string, number>();
  private readonly strings: string[] = [];
  private readonly holders: number[] = [];
  private readonly free: number[] = [];

  /** The string's code, counting one more holder. */
  hold(value: string): number {
    let code = this.codeOf.get(value);
    if (code === undefined) {
      code = this.free.pop() ?? this.strings.length;
      this.codeOf.set(value, code);
      this.strings[code] = value;
      this.holders[code] = 0;
    }
    this.holders[code] += 1;
    return code;
  }

  release(code: number): void {
    this.holders[code] -= 1;
    if (this.holders[code] === 0) {
      this.codeOf.delete(this.strings[code]!);
      this.strings[code] = '';
      this.free.push(code);
    }
  }

  get(code: number): string {
    return this.strings[code]!;
  }

  /** The code of a string some row holds, or undefined. */
  find(value: string): number | undefined {
    return this.codeOf.get(value);
  }
}

export type RowTest = (row: number) => boolean;

export class RowPayloads {
  private readonly columns = new Map<string, Column>();
  private readonly strings = new StringDictionary();
  /** Key lists by code, and each list's code by its keys joined with NUL. */
  private readonly shapes: (readonly string[])[] = [];
  private readonly shapeCodes = new Map<string, number>();
  private shapeOfRow: Uint32Array;
  private lastShape = -1;
  private rows = 0;

  constructor(initialCapacity = 1024) {
    this.shapeOfRow = new Uint32Array(Math.max(1, initialCapacity));
  }

  get size(): number {
    return this.rows;
  }

  /** Sets row `row`'s payload: an existing row (< size) is overwritten, row `size` is appended. */
  set(row: number, payload: VectorPayload): void {
    if (row === this.rows) this.append();
    else this.clear(row);
    const keys = Object.keys(payload);
    this.shapeOfRow[row] = this.shapeCode(keys);
    for (const key of keys) this.write(this.column(key), row, payload[key]);
  }

  /** A fresh object equal to the payload set for `row` (callers may edit it). */
  get(row: number): VectorPayload {
    const payload: VectorPayload = {};
    for (const key of this.shapes[this.shapeOfRow[row]!]!) payload[key] = this.read(this.columns.get(key)!, row);
    return payload;
  }

  /** Removes `row`'s payload; the last row's moves into `row`. */
  remove(row: number): void {
    const last = this.rows - 1;
    this.clear(row);
    if (row !== last) {
      this.shapeOfRow[row] = this.shapeOfRow[last]!;
      for (const column of this.columns.values()) {
        column.tags[row] = column.tags[last]!;
        column.values[row] = column.values[last]!;
        column.tags[last] = ABSENT;
      }
    }
    this.rows -= 1;
  }

  /** The filter as a test of rows (as `payloadTest` tests payloads); null when it passes every row. */
  test(filter: VectorFilter | undefined): RowTest | null {
    if (!filter) return null;
    const tests: RowTest[] = [];
    if (filter.videoIds) tests.push(this.oneOf('videoId', filter.videoIds));
    if (filter.actorIds) tests.push(this.oneOf('actorId', filter.actorIds));
    for (const [key, value] of Object.entries(filter.equals ?? {})) tests.push(this.equalTo(key, value));
    if (tests.length <= 1) return tests[0] ?? null;
    return (row) => tests.every((test) => test(row));
  }

  /** Rows whose `key` holds one of `wanted` (strings). */
  private oneOf(key: string, wanted: readonly string[]): RowTest {
    const column = this.columns.get(key);
    const codes = new Set(wanted.flatMap((value) => this.strings.find(value) ?? []));
    if (!column || codes.size === 0) return () => false;
    return (row) => column.tags[row] === STRING && codes.has(column.values[row]!);
  }

  /** Rows whose `key` holds `value` (===). */
  private equalTo(key: string, value: string | number | boolean): RowTest {
    const column = this.columns.get(key);
    if (!column) return () => false;
    if (typeof value === 'boolean') {
      const tag = value ? TRUE : FALSE;
      return (row) => column.tags[row] === tag;
    }
    if (typeof value === 'number') return (row) => column.tags[row] === NUMBER && column.values[row] === value;
    const code = this.strings.find(value);
    if (code === undefined) return () => false;
    return (row) => column.tags[row] === STRING && column.values[row] === code;
  }

  private append(): void {
    const row = this.rows;
    if (row >= this.shapeOfRow.length) {
      const capacity = this.shapeOfRow.length * 2;
      const grown = new Uint32Array(capacity);
      grown.set(this.shapeOfRow);
      this.shapeOfRow = grown;
      for (const column of this.columns.values()) column.reserve(capacity);
    }
    this.rows += 1;
  }

  /** Marks every column absent for `row`, releasing its strings. */
  private clear(row: number): void {
    for (const column of this.columns.values()) {
      if (column.tags[row] === STRING) this.strings.release(column.values[row]!);
      column.tags[row] = ABSENT;
    }
  }

  private column(key: string): Column {
    let column = this.columns.get(key);
    if (!column) {
      column = new Column(this.shapeOfRow.length);
      this.columns.set(key, column);
    }
    return column;
  }

  private shapeCode(keys: readonly string[]): number {
    // Rows mostly share one key list: compare with the last one before joining.
    const lastShape = this.shapes[this.lastShape];
    if (lastShape && lastShape.length === keys.length && lastShape.every((key, i) => key === keys[i])) return this.lastShape;
    const joined = keys.join('\0');
    let code = this.shapeCodes.get(joined);
    if (code === undefined) {
      code = this.shapes.length;
      this.shapes.push(keys);
      this.shapeCodes.set(joined, code);
    }
    this.lastShape = code;
    return code;
  }

  private write(column: Column, row: number, value: Value): void {
    if (typeof value === 'number') {
      column.tags[row] = NUMBER;
      column.values[row] = value;
    } else if (typeof value === 'string') {
      column.tags[row] = STRING;
      column.values[row] = this.strings.hold(value);
    } else if (typeof value === 'boolean') column.tags[row] = value ? TRUE : FALSE;
    else column.tags[row] = value === null ? NULL : ABSENT;
  }

  private read(column: Column, row: number): Value {
    switch (column.tags[row]) {
      case NUMBER:
        return column.values[row];
      case STRING:
        return this.strings.get(column.values[row]!);
      case TRUE:
        return true;
      case FALSE:
        return false;
      case NULL:
        return null;
      default:
        return undefined;
    }
  }
}
