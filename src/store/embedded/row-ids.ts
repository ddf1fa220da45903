// A vector matrix's row ids held compactly: every id's UTF-8 bytes in one growing byte array
// (row → start and length) and an open-addressing hash table (linear probing) from id to row in an
// Int32Array. At 1M frames this is ~40 MB of typed arrays outside the JS heap, where one JS
// string per id and a Map<string, number> over them held ~120 MB of heap (and the garbage
// collector walked them on every major collection).
// Rows are dense 0..size-1; removing one moves the last row into its place, as the matrix does.

/** Hash-table slots per row at most (load factor ≤ 1/2 keeps linear probes short). */
const SLOTS_PER_ROW = 2;
/** Id bytes of removed rows are reclaimed (the live ids copied) once they are this share of the bytes held. */
const GARBAGE_SHARE = 0.5;

/** FNV-1a over bytes[start, end). */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i += 1) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(2, n)));
}

export class RowIds {
  private bytes: Buffer;
  /** Bytes written so far (live ids and the garbage of removed ones). */
  private used = 0;
  private garbage = 0;
  private starts: Uint32Array;
  private lengths: Uint32Array;
  private hashes: Uint32Array;
  /** row + 1 per slot; 0 is an empty slot. */
  private slots: Int32Array;
  private rows = 0;

  constructor(initialCapacity = 1024) {
    const capacity = Math.max(1, initialCapacity);
    this.bytes = Buffer.allocUnsafe(capacity * 24);
    this.starts = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    this.hashes = new Uint32Array(capacity);
    this.slots = new Int32Array(nextPowerOfTwo(capacity * SLOTS_PER_ROW));
  }

  get size(): number {
    return this.rows;
  }

  /** The row holding `id`, or undefined. */
  rowOf(id: string): number | undefined {
    const length = this.stage(id);
    const slot = this.find(this.used, length, hashBytes(this.bytes, this.used, this.used + length));
    return slot.row < 0 ? undefined : slot.row;
  }

  /** The row holding `id`; an id no row holds is appended as row `size` (the size before the call). */
  add(id: string): number {
    const length = this.stage(id);
    const start = this.used;
    const hash = hashBytes(this.bytes, start, start + length);
    const found = this.find(start, length, hash);
    if (found.row >= 0) return found.row;
    const row = this.rows;
    this.reserveRows(row + 1);
    this.starts[row] = start;
    this.lengths[row] = length;
    this.hashes[row] = hash;
    this.used += length;
    this.rows += 1;
    if (this.rows * SLOTS_PER_ROW > this.slots.length) this.rehash(nextPowerOfTwo(this.rows * SLOTS_PER_ROW));
    else this.slots[found.slot] = row + 1;
    return row;
  }

  idOf(row: number): string {
    return this.bytes.toString('utf8', this.starts[row], this.starts[row]! + this.lengths[row]!);
  }

  /** Removes `row`'s id; the last row's id moves into `row`. */
  remove(row: number): void {
    const last = this.rows - 1;
    this.unslot(this.slotOfRow(row));
    this.garbage += this.lengths[row]!;
    if (row !== last) {
      this.slots[this.slotOfRow(last)] = row + 1;
      this.starts[row] = this.starts[last]!;
      this.lengths[row] = this.lengths[last]!;
      this.hashes[row] = this.hashes[last]!;
    }
    this.rows -= 1;
    if (this.garbage > GARBAGE_SHARE * this.used) this.reclaim();
  }

  /** Writes `id`'s bytes after the used ones (where `push` keeps them); returns their length. */
  private stage(id: string): number {
    const most = id.length * 3;
    if (this.used + most > this.bytes.length) {
      // By a quarter: the bytes are sized for the rows expected, so doubling for the last few would waste most of the rest.
      const grown = Buffer.allocUnsafe(Math.max(Math.ceil(this.bytes.length * 1.25), this.used + most));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    return this.bytes.write(id, this.used, 'utf8');
  }

  /** The slot holding the id at bytes[start, start + length) (row ≥ 0), or the empty slot where it would go (row -1). */
  private find(start: number, length: number, hash: number): { slot: number; row: number } {
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const held = this.slots[slot]! - 1;
      if (held < 0) return { slot, row: -1 };
      if (this.hashes[held] === hash && this.lengths[held] === length && this.sameBytes(this.starts[held]!, start, length)) return { slot, row: held };
    }
  }

  private sameBytes(a: number, b: number, length: number): boolean {
    const { bytes } = this;
    for (let i = 0; i < length; i += 1) if (bytes[a + i] !== bytes[b + i]) return false;
    return true;
  }

  private slotOfRow(row: number): number {
    const mask = this.slots.length - 1;
    for (let slot = this.hashes[row]! & mask; ; slot = (slot + 1) & mask) if (this.slots[slot] === row + 1) return slot;
  }

  /** Empties `slot`, shifting later entries of its probe run back so every lookup still finds them. */
  private unslot(slot: number): void {
    const mask = this.slots.length - 1;
    let hole = slot;
    for (let next = (hole + 1) & mask; this.slots[next] !== 0; next = (next + 1) & mask) {
      const home = this.hashes[this.slots[next]! - 1]! & mask;
      // The entry may move back into the hole unless its home lies cyclically in (hole, next].
      const homeAfterHole = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (!homeAfterHole) {
        this.slots[hole] = this.slots[next]!;
        hole = next;
      }
    }
    this.slots[hole] = 0;
  }

  private reserveRows(rows: number): void {
    if (rows <= this.starts.length) return;
    const capacity = Math.max(this.starts.length * 2, rows);
    const widen = (from: Uint32Array): Uint32Array => {
      const grown = new Uint32Array(capacity);
      grown.set(from);
      return grown;
    };
    this.starts = widen(this.starts);
    this.lengths = widen(this.lengths);
    this.hashes = widen(this.hashes);
  }

  private rehash(slotCount: number): void {
    this.slots = new Int32Array(slotCount);
    const mask = slotCount - 1;
    for (let row = 0; row < this.rows; row += 1) {
      let slot = this.hashes[row]! & mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
      this.slots[slot] = row + 1;
    }
  }

  /** Copies the live ids into a new byte array, dropping the bytes of removed rows. */
  private reclaim(): void {
    const live = this.used - this.garbage;
    const bytes = Buffer.allocUnsafe(Math.max(1024, Math.ceil(live * 1.5)));
    let at = 0;
    for (let row = 0; row < this.rows; row += 1) {
      this.bytes.copy(bytes, at, this.starts[row], this.starts[row]! + this.lengths[row]!);
      this.starts[row] = at;
      at += this.lengths[row]!;
    }
    this.bytes = bytes;
    this.used = at;
    this.garbage = 0;
  }
}
