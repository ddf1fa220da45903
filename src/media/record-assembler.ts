// Cuts a byte stream (an ffmpeg pipe) into fixed-size records (raw frames) with at most one copy
// per record: a record that lies whole inside one chunk is a view of it (pipe chunks are fresh
// buffers, never reused, so the view stays valid however long the consumer keeps it); one that
// spans chunks is copied straight into its own buffer as the chunks arrive. Joining the chunks
// first and then copying each record out, as before, allocated and copied every frame twice,
// which at 8+ MB of frames per media second was most of the indexing job's garbage collection.
export class RecordAssembler {
  private partial: Buffer | null = null;
  private filled = 0;

  constructor(private readonly recordBytes: number) {
    if (recordBytes <= 0) throw new Error('record size must be positive');
  }

  /** Bytes of a record begun but not complete. */
  get pendingBytes(): number {
    return this.filled;
  }

  /** The records this chunk completes, in order. */
  push(chunk: Buffer): Buffer[] {
    const records: Buffer[] = [];
    const size = this.recordBytes;
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.partial && chunk.length - offset >= size) {
        records.push(chunk.subarray(offset, offset + size));
        offset += size;
        continue;
      }
      this.partial ??= Buffer.allocUnsafe(size);
      const n = Math.min(size - this.filled, chunk.length - offset);
      chunk.copy(this.partial, this.filled, offset, offset + n);
      this.filled += n;
      offset += n;
      if (this.filled === size) {
        records.push(this.partial);
        this.partial = null;
        this.filled = 0;
      }
    }
    return records;
  }

  /** The incomplete tail, if any (a copy of exactly its bytes). */
  tail(): Buffer | null {
    return this.partial && this.filled ? Buffer.from(this.partial.subarray(0, this.filled)) : null;
  }
}
