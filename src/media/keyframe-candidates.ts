// The pictures a shot keyframe can be chosen from, at one width, kept from the job's first decode
// so that the stages reading shot keyframes need no decode of their own: JPEGs (ffmpeg's mjpeg at
// near-lossless quality) appended to one spool file, indexed by media time. At a width only grey
// readers ask for (quality) they carry the luma alone (flat chroma: decoded, R = G = B = luma).
// The shots stage picks each shot's keyframe among these same frames, so every stored keyframe
// time is here (save for a shot shorter than the candidates' spacing, which the caller decodes
// otherwise). A reader whose measure the JPEG's coding would change (quality's block grid: the
// JPEG's own 8-px grid reads as coding blocks) declares it: it is taken on each candidate's luma
// as decoded, during the same decode, and only the number is kept with the candidate.
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { EncodedFrameSink, LumaSink } from './decode-session.js';
import { WAITING_SPOOL_LIMIT_BYTES } from './frame-channel.js';
import type { RawFrame } from './frames.js';

/** Times closer than this are the same frame (they come from the same showinfo line). */
const SAME_TIME_SEC = 1e-6;

/** A number measured on a grey frame (one byte a pixel): a candidate's luma as decoded. */
export type LumaMeasure = (luma: RawFrame) => number;

/** A kept candidate: its pixels (from the JPEG) and, by reader, the measures of its luma as decoded. */
export interface KeptCandidate {
  frame: RawFrame;
  lumaMeasures: ReadonlyMap<string, number>;
}

interface Entry {
  time: number;
  offset: number;
  length: number;
}

interface Measured {
  time: number;
  values: Map<string, number>;
}

/** The item at `time` of a list in time order, or null. */
function findAt<T extends { time: number }>(list: readonly T[], time: number): T | null {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const item = list[mid]!;
    if (Math.abs(item.time - time) < SAME_TIME_SEC) return item;
    if (item.time < time) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

/** True when a list in time order has gone past `time`. */
function isPast(list: readonly { time: number }[], time: number): boolean {
  const last = list[list.length - 1];
  return last !== undefined && last.time > time + SAME_TIME_SEC;
}

export class KeyframeCandidates implements EncodedFrameSink, LumaSink {
  private readonly entries: Entry[] = [];
  private readonly measured: Measured[] = [];
  private fd: number | null = null;
  private bytes = 0;
  private ended = false;
  private failed = false;
  /** Past the byte limit: later frames are not kept (a very long video must not fill the disk). */
  private truncated = false;
  /** No more luma measures come (none declared, or their output ended). */
  private measuresEnded: boolean;
  private waiters: (() => void)[] = [];

  /** `measures`: by reader, what to measure on each candidate's luma (see addLuma). */
  constructor(
    private readonly spoolPath: string,
    private readonly measures: ReadonlyMap<string, LumaMeasure> = new Map(),
    private readonly limitBytes = WAITING_SPOOL_LIMIT_BYTES,
  ) {
    this.measuresEnded = measures.size === 0;
  }

  static spoolFile(dir: string, width: number): string {
    return path.join(dir, `keyframe-candidates-${width}.jpg-spool`);
  }

  /** The decode ended and every candidate frame is here: a time not here is no candidate. */
  get complete(): boolean {
    return this.ended && !this.failed && !this.truncated;
  }

  get storedBytes(): number {
    return this.bytes;
  }

  add(time: number, jpeg: Buffer): void {
    if (this.ended || this.truncated) return;
    if (this.bytes + jpeg.length > this.limitBytes) {
      this.truncated = true;
      return;
    }
    this.fd ??= openSync(this.spoolPath, 'w+');
    writeSync(this.fd, jpeg, 0, jpeg.length, this.bytes);
    this.entries.push({ time, offset: this.bytes, length: jpeg.length });
    this.bytes += jpeg.length;
    this.wake();
  }

  end(failure: Error | null): void {
    this.ended = true;
    this.failed = failure !== null;
    this.wake();
  }

  /** The luma of the candidate at `frame.time` as decoded (the same frame the JPEG encodes): measured, not kept. */
  addLuma(frame: RawFrame): void {
    if (this.measuresEnded || this.truncated) return;
    const values = new Map<string, number>();
    for (const [reader, measure] of this.measures) values.set(reader, measure(frame));
    this.measured.push({ time: frame.time, values });
    this.wake();
  }

  /** No more luma comes: a candidate without its measures is served without them (its reader measures the JPEG). */
  lumaEnded(): void {
    this.measuresEnded = true;
    this.wake();
  }

  /** True when the frame at `time` is kept (now; more may arrive while the decode runs). */
  has(time: number): boolean {
    return findAt(this.entries, time) !== null;
  }

  /**
   * The candidate frame at `time` (RGB pixels) with its luma measures, waiting for the decode to
   * reach it; null when it is no candidate.
   */
  async frameAt(time: number): Promise<KeptCandidate | null> {
    for (;;) {
      const entry = findAt(this.entries, time);
      const measured = findAt(this.measured, time);
      if (entry && (measured || this.measuresEnded || isPast(this.measured, time))) {
        return { frame: await this.decode(entry), lumaMeasures: measured?.values ?? new Map<string, number>() };
      }
      if (!entry && (this.ended || this.truncated || isPast(this.entries, time))) return null;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Removes the spool file. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.spoolPath, { force: true });
  }

  private async decode(entry: Entry): Promise<RawFrame> {
    const jpeg = Buffer.alloc(entry.length);
    readSync(this.fd!, jpeg, 0, entry.length, entry.offset);
    const { data, info } = await sharp(jpeg).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { time: entry.time, data, width: info.width, height: info.height };
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
