// The grey frames of the OCR stream that may stand for a shot's keyframe, kept while the job's one
// decode goes by, before the shots are known. A shot's keyframe is chosen among the shots stage's
// candidate frames, one every `periodSec` from its first frame (shots.ts: KEYFRAME_CANDIDATE_FPS),
// and the OCR stream samples the same timeline, so the first OCR frame at or after each candidate
// time is kept (deflated, in a record file: a long
// video's worth stays on disk); the first stream frame at or after a keyframe time is then found
// exactly as a walk of the stream would find it. A keyframe time that falls between kept frames
// (a shot too short to hold a candidate) is decoded on its own by the caller.
import { promisify } from 'node:util';
import { constants, deflateRaw, inflateRawSync } from 'node:zlib';
import type { RawFrame } from '../media/frames.js';
import { RecordFile, type RecordRef } from '../media/record-file.js';
import { toGrey } from '../models/image.js';

const deflate = promisify(deflateRaw);
/**
 * Run-length deflate: on the 57 keyframes of the indexing-real footage (960-px grey) it took
 * 5.3-5.7 ms a frame against 8.2-10.8 ms for the fastest default deflate (level 1), for 47 % of the
 * size instead of 39 %: one in five frames of the OCR stream is kept, so this was the stage's
 * largest main-process cost after the models (~1.4 CPU-s per media minute). Lossless either way.
 */
const DEFLATE = { level: 1, strategy: constants.Z_RLE };

export class OcrKeyframeKeeper {
  private readonly times: number[] = [];
  private readonly kept = new Map<number, { ref: RecordRef; width: number; height: number; length: number }>();
  private readonly file = new RecordFile('ocr-keyframes');
  private cursor = 0;

  /**
   * @param periodSec spacing of the shots stage's keyframe candidates
   * @param halfStepSec half the stream's frame spacing: a frame this close before a time stands for it
   */
  constructor(
    private readonly periodSec: number,
    private readonly halfStepSec: number,
  ) {}

  /** Index of the last candidate time this stream time stands for (times from the first frame). */
  private candidateIndex(time: number): number {
    return Math.floor((time + this.halfStepSec - this.times[0]!) / this.periodSec + 1e-6);
  }

  /** The next frame of the stream, in order. */
  async add(frame: RawFrame): Promise<void> {
    const index = this.times.length;
    this.times.push(frame.time);
    // Kept when some candidate time falls after the previous frame's reach and within this one's.
    if (index > 0 && this.candidateIndex(frame.time) === this.candidateIndex(this.times[index - 1]!)) return;
    const packed = await deflate(frame.data, DEFLATE);
    this.kept.set(index, { ref: this.file.append(packed), width: frame.width, height: frame.height, length: frame.data.length });
  }

  /**
   * The first stream frame at or after `time` (within half a step): its pixels when kept, only its
   * time when not (`data` null), null when the stream ended before it. Call with increasing times.
   */
  frameAt(time: number): { time: number; frame: RawFrame | null } | null {
    while (this.cursor < this.times.length && this.times[this.cursor]! + this.halfStepSec < time) this.cursor++;
    if (this.cursor >= this.times.length) return null;
    const frameTime = this.times[this.cursor]!;
    const entry = this.kept.get(this.cursor);
    if (!entry) return { time: frameTime, frame: null };
    const data = inflateRawSync(this.file.read(entry.ref));
    if (data.length !== entry.length) throw new Error(`kept OCR frame at ${frameTime} s is ${data.length} bytes, expected ${entry.length}`);
    return { time: frameTime, frame: { time: frameTime, data, width: entry.width, height: entry.height } };
  }

  close(): void {
    this.file.close();
  }
}

/** A decoded RGB frame as the grey stream has it (BT.601 luma, full range: the models' toGrey). */
export function greyOf(frame: RawFrame): RawFrame {
  const grey = toGrey({ data: frame.data, width: frame.width, height: frame.height, channels: 3 });
  return { ...frame, data: Buffer.from(grey.data.buffer, grey.data.byteOffset, grey.data.byteLength) };
}
