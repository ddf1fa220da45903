// One output of a shared decode, on its way to the stage that asked for it: a FIFO of frames that
// keeps a few in memory and lets the rest overflow to a spool file in the temp folder. A stage that
// starts after the decode did reads its frames from the spool; a stage slower than the decoder
// lets the others (the shots stage above all) run ahead instead of pacing them. Only a stage that
// is reading holds the decoder back, once its unread spool passes a budget; a stage that has not
// started never does (it could be waiting for a slot that the held decode keeps busy). A PACED
// channel (large frames for a stage that is running: faces, OCR) never spools: past a few frames
// in memory it holds the decoder until its stage has read them, so memory stays bounded and the
// slowest such stage sets the pace of the decode.
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface TimedRecord {
  time: number;
  data: Buffer;
}

/** Frames a reading stage keeps in memory before later ones go to the spool. */
const MEMORY_FRAMES = 4;
/** Frames a paced channel holds before the decoder waits (it goes on below half of it). */
export const PACED_FRAMES = 8;
/** Unread spool of a reading stage above which the decoder waits for it. */
export const SPOOL_BUDGET_BYTES = 256 * 1024 * 1024;
/**
 * Spool of a stage that has not started reading, past which its output is given up (the stage
 * then decodes on its own): a long video must not fill the temp folder for a stage kept waiting.
 */
export const WAITING_SPOOL_LIMIT_BYTES = 2 * 1024 * 1024 * 1024;
const TIME_BYTES = 8;

export class FrameChannel {
  private attached = false;
  private dropped = false;
  private readonly queue: TimedRecord[] = [];
  private spoolFd: number | null = null;
  private written = 0;
  private read = 0;
  private ended = false;
  private failure: Error | null = null;
  private waiter: (() => void) | null = null;
  private holding = false;

  constructor(
    private readonly spoolPath: string,
    private readonly recordBytes: number,
    private readonly events: {
      /** Spool bytes past which an output nobody reads yet is given up. */
      waitingLimitBytes?: number;
      /** Called with true to hold the decoder back, false to let it go on. */
      hold(held: boolean): void;
      dropped(): void;
    },
    private readonly paced = false,
  ) {}

  static spoolFile(dir: string, key: string): string {
    return path.join(dir, `${key.replace(/[^\w.-]+/g, '_')}.spool`);
  }

  get isDropped(): boolean {
    return this.dropped;
  }

  push(record: TimedRecord): void {
    if (this.dropped) return;
    if (this.paced) {
      this.queue.push(record);
      if (this.queue.length >= PACED_FRAMES) this.setHolding(true);
      this.wake();
      return;
    }
    // Memory only while nothing older waits in the spool, so the order is kept.
    if (this.attached && this.written === this.read && this.queue.length < MEMORY_FRAMES) this.queue.push(record);
    else this.spool(record);
    if (!this.attached && this.unreadSpoolBytes() > (this.events.waitingLimitBytes ?? WAITING_SPOOL_LIMIT_BYTES)) return this.drop();
    this.holdIfBehind();
    this.wake();
  }

  end(failure: Error | null = null): void {
    this.ended = true;
    this.failure = failure;
    this.wake();
  }

  /** The stage no longer wants this output: nothing more is kept. */
  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.queue.length = 0;
    this.closeSpool();
    this.setHolding(false);
    this.events.dropped();
  }

  /** Every frame in order until the decode ends; leaving early drops the channel. */
  async *consume(): AsyncGenerator<TimedRecord> {
    this.attached = true;
    try {
      for (;;) {
        const next = this.queue.shift() ?? (this.read < this.written ? this.readSpooled() : undefined);
        if (next) {
          if (this.paced && this.queue.length <= PACED_FRAMES / 2) this.setHolding(false);
          this.holdIfBehind();
          yield next;
          continue;
        }
        if (this.ended) break;
        await new Promise<void>((resolve) => (this.waiter = resolve));
      }
      if (this.failure) throw this.failure;
    } finally {
      this.drop();
    }
  }

  private unreadSpoolBytes(): number {
    return (this.written - this.read) * (TIME_BYTES + this.recordBytes);
  }

  private holdIfBehind(): void {
    if (!this.attached || this.dropped || this.paced) return;
    const unread = this.unreadSpoolBytes();
    if (unread > SPOOL_BUDGET_BYTES) this.setHolding(true);
    else if (unread < SPOOL_BUDGET_BYTES / 2) this.setHolding(false);
  }

  private setHolding(held: boolean): void {
    if (held === this.holding) return;
    this.holding = held;
    this.events.hold(held);
  }

  private spool(record: TimedRecord): void {
    this.spoolFd ??= openSync(this.spoolPath, 'w+');
    const position = this.written * (TIME_BYTES + this.recordBytes);
    const header = Buffer.alloc(TIME_BYTES);
    header.writeDoubleLE(record.time);
    writeSync(this.spoolFd, header, 0, TIME_BYTES, position);
    writeSync(this.spoolFd, record.data, 0, this.recordBytes, position + TIME_BYTES);
    this.written++;
  }

  private readSpooled(): TimedRecord {
    const buffer = Buffer.alloc(TIME_BYTES + this.recordBytes);
    readSync(this.spoolFd!, buffer, 0, buffer.length, this.read * buffer.length);
    this.read++;
    // All caught up: the file starts over, so it only ever holds the current lag.
    if (this.read === this.written) this.written = this.read = 0;
    return { time: buffer.readDoubleLE(0), data: buffer.subarray(TIME_BYTES) };
  }

  private closeSpool(): void {
    if (this.spoolFd === null) return;
    closeSync(this.spoolFd);
    this.spoolFd = null;
    rmSync(this.spoolPath, { force: true });
  }

  private wake(): void {
    const resolve = this.waiter;
    this.waiter = null;
    resolve?.();
  }
}
