// Byte records a stage keeps from the frames going by until it knows which it needs (the faces
// stage's aligned face crops, the OCR stage's possible keyframes), appended to one file in a spool
// folder instead of memory: a long video's worth stays on disk, and only what is read back is in
// memory, for as long as the reader holds it.
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { createSpoolFolder } from './spool-folder.js';

/** Where one record lies in the file. */
export interface RecordRef {
  offset: number;
  length: number;
}

export class RecordFile {
  private readonly dir: string;
  private readonly fd: number;
  private bytes = 0;
  private closed = false;

  constructor(name: string) {
    this.dir = createSpoolFolder();
    this.fd = openSync(path.join(this.dir, `${name.replace(/[^\w.-]+/g, '_')}.records`), 'w+');
  }

  /** Bytes written so far. */
  get size(): number {
    return this.bytes;
  }

  append(data: Uint8Array): RecordRef {
    const ref = { offset: this.bytes, length: data.length };
    let written = 0;
    while (written < data.length) written += writeSync(this.fd, data, written, data.length - written, this.bytes + written);
    this.bytes += data.length;
    return ref;
  }

  read(ref: RecordRef): Buffer {
    const out = Buffer.allocUnsafe(ref.length);
    let done = 0;
    while (done < ref.length) {
      const n = readSync(this.fd, out, done, ref.length - done, ref.offset + done);
      if (n === 0) throw new Error(`record file ended at ${ref.offset + done} of ${ref.offset + ref.length}`);
      done += n;
    }
    return out;
  }

  /** Removes the file (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
