// Cuts a stream of concatenated JPEG pictures (ffmpeg's image2pipe with mjpeg) into pictures.
// The header segments carry their lengths; the entropy-coded data after the start of scan never
// holds an 0xFF 0xD9 pair (a data byte 0xFF is always followed by 0x00), so the first such pair
// after it is the picture's end.
const EOI = Buffer.from([0xff, 0xd9]);
const SOI = 0xd8;
const SOS = 0xda;

export class JpegSplitter {
  private buffer: Buffer = Buffer.alloc(0);
  /** Where the current picture's entropy-coded data starts, once its headers were read. */
  private entropyStart = -1;
  private scanFrom = 0;

  /** The pictures completed by this chunk, in order. */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const pictures: Buffer[] = [];
    for (let end = this.pictureEnd(); end > 0; end = this.pictureEnd()) {
      pictures.push(Buffer.from(this.buffer.subarray(0, end)));
      this.buffer = this.buffer.subarray(end);
      this.entropyStart = -1;
    }
    return pictures;
  }

  /** Bytes of a picture not completed yet. */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  /** The length of the first picture in the buffer, or -1 while it is incomplete. */
  private pictureEnd(): number {
    if (this.entropyStart < 0 && !this.readHeaders()) return -1;
    const end = this.buffer.indexOf(EOI, this.scanFrom);
    if (end < 0) {
      this.scanFrom = Math.max(this.entropyStart, this.buffer.length - 1);
      return -1;
    }
    return end + EOI.length;
  }

  /** Walks the header segments up to the start of scan; false while they are incomplete. */
  private readHeaders(): boolean {
    const b = this.buffer;
    if (b.length < 2) return false;
    if (b[0] !== 0xff || b[1] !== SOI) throw new Error('not a JPEG picture stream');
    for (let pos = 2; pos + 4 <= b.length; ) {
      if (b[pos] !== 0xff) throw new Error(`JPEG marker expected at byte ${pos}`);
      if (b[pos + 1] === 0xff) {
        pos++; // fill byte
        continue;
      }
      const next = pos + 2 + b.readUInt16BE(pos + 2);
      if (b[pos + 1] === SOS) {
        this.entropyStart = this.scanFrom = next;
        return true;
      }
      pos = next;
    }
    return false;
  }
}
