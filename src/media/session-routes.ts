// Where a shared decode's output goes: each output's bytes (its pipe) paired with its frame times
// (its showinfo lines on stderr), which may arrive in either order. Raw frame outputs go to the
// channel their stage reads; encoded pictures and the luma measured beside them go to a sink.
import type { FrameChannel, TimedRecord } from './frame-channel.js';
import { RecordAssembler } from './record-assembler.js';

/** Pairs frames (stdout records) with their showinfo times, which may arrive in either order. */
export class OutputRoute {
  private readonly frames: Buffer[] = [];
  private readonly times: number[] = [];
  private readonly records: RecordAssembler;
  lastTime = 0;
  count = 0;

  constructor(
    readonly channel: FrameChannel,
    recordBytes: number,
    private readonly stepSec: number,
  ) {
    this.records = new RecordAssembler(recordBytes);
  }

  addBytes(chunk: Buffer): void {
    const complete = this.records.push(chunk);
    if (complete.length === 0) return;
    this.frames.push(...complete);
    this.flush(false);
  }

  addTime(time: number): void {
    this.times.push(time);
    this.flush(false);
  }

  /** Hands on every frame whose time is known (at the end: all, guessing missing times). */
  flush(final: boolean): void {
    while (this.frames.length && (this.times.length || final)) {
      const time = this.times.shift() ?? this.lastTime + this.stepSec;
      this.lastTime = time;
      this.count++;
      this.channel.push({ time, data: this.frames.shift()! } satisfies TimedRecord);
    }
  }
}

/** Cuts an output's byte stream into pictures (JPEGs, or raw records of a fixed size). */
export interface PictureCutter {
  push(chunk: Buffer): Buffer[];
  readonly pendingBytes: number;
}

/** Where a sink route's pictures go: each with its time, then the end (with what went wrong). */
export interface PictureReceiver {
  add(time: number, picture: Buffer): void;
  end(failure: Error | null): void;
}

/** Pairs an output's pictures with their showinfo times and hands them on as they pair. */
export class SinkRoute {
  private readonly pictures: Buffer[] = [];
  private readonly times: number[] = [];
  lastTime = 0;

  constructor(
    private readonly cutter: PictureCutter,
    private readonly receiver: PictureReceiver,
  ) {}

  addBytes(chunk: Buffer): void {
    this.pictures.push(...this.cutter.push(chunk));
    this.flush();
  }

  addTime(time: number): void {
    this.times.push(time);
    this.flush();
  }

  finish(failure: Error | null): void {
    this.flush();
    const unpaired = this.pictures.length || this.cutter.pendingBytes ? new Error('frames without their times (or cut short)') : null;
    this.receiver.end(failure ?? unpaired);
  }

  private flush(): void {
    while (this.pictures.length && this.times.length) {
      this.lastTime = this.times.shift()!;
      this.receiver.add(this.lastTime, this.pictures.shift()!);
    }
  }
}
