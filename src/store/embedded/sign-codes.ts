// One bit per dimension and row: the sign of each component (SimHash of a vector that is itself
// a random projection). The Hamming distance of two rows' bits estimates the angle between them
// (expected distance = dim × angle / π), at a sixteenth of the bytes an int8 scan reads (128-d:
// 16 bytes a row). A large int8-only matrix scans these first and runs its int8 scan on the
// nearest few thousand rows only (vector-matrix.ts): the first stage of image search at 1M frames
// scanned 128 MB of int8 codes per query variant, four variants a no-match query.

/** Bits set in a 32-bit word (SWAR popcount). */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

export class SignCodes {
  /** 32-bit words per row. */
  readonly words: number;
  private bits: Uint32Array;
  /** Distances of the last scan, reused between scans (one byte a row: dim ≤ 255). */
  private distances = new Uint8Array(0);

  /** Whether rows of `dim` dimensions can be coded (whole words, distances in a byte). */
  static supports(dim: number): boolean {
    return dim % 32 === 0 && dim <= 224;
  }

  constructor(readonly dim: number, capacity: number) {
    if (!SignCodes.supports(dim)) throw new RangeError(`sign codes need a multiple of 32 dimensions up to 224, not ${dim}`);
    this.words = dim / 32;
    this.bits = new Uint32Array(this.words * capacity);
  }

  /** Room for `rows` rows (the matrix decides how much to grow). */
  grow(rows: number): void {
    if (rows * this.words <= this.bits.length) return;
    const grown = new Uint32Array(rows * this.words);
    grown.set(this.bits);
    this.bits = grown;
  }

  set(row: number, vector: Float32Array): void {
    this.encode(vector, this.bits, row * this.words);
  }

  /** Row `from`'s bits into row `to` (a removal moves the last row into the hole). */
  move(from: number, to: number): void {
    this.bits.copyWithin(to * this.words, from * this.words, (from + 1) * this.words);
  }

  private encode(vector: Float32Array, out: Uint32Array, offset: number): void {
    for (let w = 0; w < this.words; w += 1) {
      let word = 0;
      for (let b = 0; b < 32; b += 1) if (vector[w * 32 + b]! > 0) word |= 1 << b;
      out[offset + w] = word >>> 0;
    }
  }

  /**
   * The `count` rows among the first `rows` nearest `query` in Hamming distance (all of them when
   * there are no more), in row order. Rows tied at the cut-off distance are taken in row order.
   */
  nearest(query: Float32Array, rows: number, count: number): number[] {
    if (count >= rows) return Array.from({ length: rows }, (_, row) => row);
    const q = new Uint32Array(this.words);
    this.encode(query, q, 0);
    if (this.distances.length < rows) this.distances = new Uint8Array(this.bits.length / this.words);
    const histogram = this.scan(q, rows);
    // The smallest cut-off that keeps `count` rows: every row below it, then ties in row order.
    let cut = 0;
    let below = 0;
    while (below + histogram[cut]! < count) below += histogram[cut++]!;
    let ties = count - below;
    const out: number[] = [];
    const { distances } = this;
    for (let row = 0; row < rows; row += 1) {
      const d = distances[row]!;
      if (d < cut) out.push(row);
      else if (d === cut && ties > 0) {
        out.push(row);
        ties -= 1;
      }
    }
    return out;
  }

  /** Writes every row's distance to `q` into `distances`; their histogram. */
  private scan(q: Uint32Array, rows: number): Uint32Array {
    const { bits, distances, words } = this;
    const histogram = new Uint32Array(this.dim + 1);
    if (words === 4) {
      // The 128-d compact frame descriptor (the matrices this is for), unrolled.
      const [q0, q1, q2, q3] = [q[0]!, q[1]!, q[2]!, q[3]!];
      for (let row = 0, at = 0; row < rows; row += 1, at += 4) {
        const d = popcount(bits[at]! ^ q0) + popcount(bits[at + 1]! ^ q1) + popcount(bits[at + 2]! ^ q2) + popcount(bits[at + 3]! ^ q3);
        distances[row] = d;
        histogram[d]! += 1;
      }
      return histogram;
    }
    for (let row = 0; row < rows; row += 1) {
      let d = 0;
      for (let w = 0; w < words; w += 1) d += popcount(bits[row * words + w]! ^ q[w]!);
      distances[row] = d;
      histogram[d]! += 1;
    }
    return histogram;
  }
}
