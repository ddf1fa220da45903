// The pictures a shot keyframe can be chosen from, at one width, kept from the job's first decode
// so that the stages reading shot keyframes need no decode of their own: JPEGs (ffmpeg's mjpeg at
// near-lossless quality) appended to one spool file, indexed by media time. At a width only grey
// readers ask for (quality) they carry the luma alone (flat chroma: decoded, R = G = B = luma).
// The shots stage picks each shot's keyframe among these same frames, so every stored keyframe
// time is here (save for a shot shorter than the candidates' spacing, which the caller decodes
// otherwise).
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { EncodedFrameSink } from './decode-session.js';
import { WAITING_SPOOL_LIMIT_BYTES } from './frame-channel.js';
import type { RawFrame } from './frames.js';

/** Times closer than this are the same frame (they come from the same showinfo line). */
const SAME_TIME_SEC = 1e-6;

interface Entry {
  time: number;
  offset: number;
  length: number;
}

export class KeyframeCandidates implements EncodedFrameSink {
  private readonly entries: Entry[] = [];
  private fd: number | null = null;
  private bytes = 0;
  private ended = false;
  private failed = false;
  /** Past the byte limit: later frames are not kept (a very long video must not fill the disk). */
  private truncated = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly spoolPath: string,
    private readonly limitBytes = WAITING_SPOOL_LIMIT_BYTES,
  ) {}

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

  /** True when the frame at `time` is kept (now; more may arrive while the decode runs). */
  has(time: number): boolean {
    return this.find(time) !== null;
  }

  /** The RGB pixels of the candidate frame at `time`, waiting for the decode to reach it; null when it is no candidate. */
  async frameAt(time: number): Promise<RawFrame | null> {
    for (;;) {
      const entry = this.find(time);
      if (entry) return this.decode(entry);
      const last = this.entries[this.entries.length - 1];
      if (this.ended || this.truncated || (last && last.time > time + SAME_TIME_SEC)) return null;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Removes the spool file. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.spoolPath, { force: true });
  }

  private find(time: number): Entry | null {
    let lo = 0;
    let hi = this.entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const entry = this.entries[mid]!;
      if (Math.abs(entry.time - time) < SAME_TIME_SEC) return entry;
      if (entry.time < time) lo = mid + 1;
      else hi = mid - 1;
    }
    return null;
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
