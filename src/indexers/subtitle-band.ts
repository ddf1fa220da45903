// The cheap half of burned-in subtitle reading: where the subtitle band is, whether its content
// changed since the last frame that went to OCR (frame difference on a coarse block signature,
// so near-duplicates never reach the heavy model), and how OCR readings of consecutive changes
// merge into timed cues.
import { distance } from 'fastest-levenshtein';
import type { Quad } from '../models/ocr/types.js';
import { normalizeText } from '../text/normalize.js';

/** Rows [top, bottom) of the frame that hold subtitles. */
export interface Band {
  top: number;
  bottom: number;
}

/** Where subtitles sit before any were seen: the bottom of the frame, with room for two lines. */
export const DEFAULT_BAND_SHARE = 0.3;
/** Subtitle boxes seen before the band narrows to where they actually are. */
const BOXES_TO_LOCATE_BAND = 5;

/**
 * Learns the subtitle band from detector hits: starts as the bottom DEFAULT_BAND_SHARE of the
 * frame, then narrows to the rows subtitle lines were found in, padded by a line height on each
 * side so a second line above still fits. A narrower band means background motion triggers OCR
 * less often.
 */
export class BandLocator {
  private readonly boxes: { top: number; bottom: number }[] = [];
  private located: Band | null = null;

  constructor(private readonly frameHeight: number) {}

  get band(): Band {
    return this.located ?? { top: Math.floor(this.frameHeight * (1 - DEFAULT_BAND_SHARE)), bottom: this.frameHeight };
  }

  /** True once the band comes from observed subtitles rather than the default. */
  get isLocated(): boolean {
    return this.located !== null;
  }

  observe(boxTop: number, boxBottom: number): void {
    if (this.located) return;
    this.boxes.push({ top: boxTop, bottom: boxBottom });
    if (this.boxes.length < BOXES_TO_LOCATE_BAND) return;
    const heights = this.boxes.map((b) => b.bottom - b.top).sort((a, b) => a - b);
    const lineHeight = heights[Math.floor(heights.length / 2)]!;
    const top = Math.min(...this.boxes.map((b) => b.top)) - lineHeight * 1.2;
    const bottom = Math.max(...this.boxes.map((b) => b.bottom)) + lineHeight * 0.5;
    const fallback = this.band;
    // Never wider than the default band: a stray hit high up must not make the band the whole frame.
    this.located = {
      top: Math.max(fallback.top, Math.floor(top)),
      bottom: Math.min(this.frameHeight, Math.ceil(bottom)),
    };
  }
}

/** A coarse picture of a region: per block, mean brightness and mean edge strength. */
export interface RegionSignature {
  blocks: Float32Array;
  /** Blocks per row. */
  cols: number;
}

const BLOCK = 8;

/**
 * Signature of rows [band.top, band.bottom) of a grey frame. Row by row, a block row at a time,
 * eight pixels per step into per-column integer sums: it runs on every band sample (10 per media
 * second, twice with the rows above), and this order reads each row once, left to right (about
 * half the CPU of summing one 8×8 block after the other; the sums, and so the blocks, are equal).
 */
export function regionSignature(grey: Uint8Array, width: number, band: Band): RegionSignature {
  const cols = Math.max(1, Math.floor(width / BLOCK));
  const rows = Math.max(1, Math.floor((band.bottom - band.top) / BLOCK));
  const blocks = new Float32Array(cols * rows * 2);
  const sums = new Int32Array(cols);
  const edges = new Int32Array(cols);
  for (let by = 0; by < rows; by++) {
    sums.fill(0);
    edges.fill(0);
    for (let y = 0; y < BLOCK; y++) {
      let p = (band.top + by * BLOCK + y) * width;
      for (let bx = 0; bx < cols; bx++, p += BLOCK) {
        const a0 = grey[p]!, a1 = grey[p + 1]!, a2 = grey[p + 2]!, a3 = grey[p + 3]!;
        const a4 = grey[p + 4]!, a5 = grey[p + 5]!, a6 = grey[p + 6]!, a7 = grey[p + 7]!;
        sums[bx] = sums[bx]! + a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
        // Horizontal gradient inside the block: glyph strokes are dense in it, smooth backgrounds are not.
        edges[bx] =
          edges[bx]! +
          Math.abs(a1 - a0) + Math.abs(a2 - a1) + Math.abs(a3 - a2) + Math.abs(a4 - a3) + Math.abs(a5 - a4) + Math.abs(a6 - a5) + Math.abs(a7 - a6);
      }
    }
    for (let bx = 0; bx < cols; bx++) {
      const i = (by * cols + bx) * 2;
      blocks[i] = sums[bx]! / (BLOCK * BLOCK);
      blocks[i + 1] = edges[bx]! / (BLOCK * (BLOCK - 1));
    }
  }
  return { blocks, cols };
}

/** Brightness or edge change of one block that counts as "this block changed". */
const BLOCK_CHANGE = 12;
/** Share of changed blocks that makes the region changed (a short line swapped for another still trips it). */
const CHANGED_SHARE = 0.02;

function blockChanged(a: RegionSignature, b: RegionSignature, block: number): boolean {
  const i = block * 2;
  return Math.abs(a.blocks[i]! - b.blocks[i]!) > BLOCK_CHANGE || Math.abs(a.blocks[i + 1]! - b.blocks[i + 1]!) > BLOCK_CHANGE;
}

/** Share of blocks whose brightness or edge strength changed (1 when the regions differ in size). */
export function regionChangeShare(a: RegionSignature, b: RegionSignature): number {
  if (a.blocks.length !== b.blocks.length) return 1;
  let changed = 0;
  const count = a.blocks.length / 2;
  for (let block = 0; block < count; block++) if (blockChanged(a, b, block)) changed++;
  return changed / count;
}

/** regionChangeShare(a, b) > CHANGED_SHARE, stopping at the first block past that share. */
export function regionChanged(a: RegionSignature, b: RegionSignature): boolean {
  if (a.blocks.length !== b.blocks.length) return true;
  const count = a.blocks.length / 2;
  const limit = CHANGED_SHARE * count;
  let changed = 0;
  for (let block = 0; block < count; block++) if (blockChanged(a, b, block) && ++changed > limit) return true;
  return false;
}

// The text-area change test. The whole-band test above needs 2 % of the band's blocks to change,
// which a one-word cue ("Yes?", "嗯": ~1 % of a default band) never reaches. So the band also
// counts as changed when enough of its text area changed: the text-like blocks (glyph-dense
// edges) of the columns every centred subtitle crosses, in either of the two signatures.

/**
 * The columns a centred subtitle line crosses, as a share of the width around the centre:
 * isSubtitleLike allows a line's centre 15 % off the middle, so ±20 % holds at least part of any
 * subtitle, and background motion at the sides does not count.
 */
const CENTRE_STRIP_SHARE = 0.4;
/**
 * Mean horizontal gradient of a block with glyph strokes in it. Fitted on the fit half of the
 * short-cue set (test/helpers/short-cues.ts): blocks of outlined cues over light footage gave
 * ≥ 11 strip blocks at this level in every frame, cue-free frames ≤ 3.
 */
export const TEXT_EDGE = 25;
/** Share of the text area that must change: a line replaced or gone, not a few blocks of motion. */
const TEXT_AREA_CHANGE = 0.25;
/** Fewest changed text-like blocks that count (about half a glyph of a small subtitle). */
const MIN_TEXT_CHANGE_BLOCKS = 4;

export interface TextAreaChange {
  /** Text-like blocks (in either signature) of the centre strip. */
  area: number;
  /** Those of them whose brightness or edge strength changed. */
  changed: number;
}

function centreColumns(cols: number): [number, number] {
  const half = (cols * CENTRE_STRIP_SHARE) / 2;
  return [Math.max(0, Math.floor(cols / 2 - half)), Math.min(cols, Math.ceil(cols / 2 + half))];
}

export function textAreaChange(a: RegionSignature, b: RegionSignature): TextAreaChange {
  if (a.blocks.length !== b.blocks.length || a.cols !== b.cols) return { area: Infinity, changed: Infinity };
  const [from, to] = centreColumns(a.cols);
  const rows = a.blocks.length / 2 / a.cols;
  let area = 0;
  let changed = 0;
  for (let row = 0; row < rows; row++) {
    for (let col = from; col < to; col++) {
      const block = row * a.cols + col;
      if (a.blocks[block * 2 + 1]! < TEXT_EDGE && b.blocks[block * 2 + 1]! < TEXT_EDGE) continue;
      area++;
      if (blockChanged(a, b, block)) changed++;
    }
  }
  return { area, changed };
}

/** Text-like blocks of the centre strip of one signature: is there anything that may be a subtitle. */
export function textLikeBlocks(signature: RegionSignature): number {
  return textAreaChange(signature, signature).area;
}

/**
 * Fewest text-like blocks in the centre strip for a band to be worth reading at all: a band with
 * fewer holds no subtitle, and its reading is "no text" without OCR (most band reads of real
 * footage are motion behind an empty band, and an empty band is the dearest read: every retry view
 * of retries.ts runs on it). Fitted on the fit half of the short-cue set (test/helpers/short-cues.ts
 * v3: outlined 18-43 px cues over light, busy footage, the faintest class we have): every frame with
 * a cue on screen had >= 8 such blocks; the gate is a quarter of that. Reported on the held-out half
 * (lowest frame with a cue: 4 blocks) and on subtitles.json's burned-in clip (lowest: 51).
 */
export const MIN_TEXT_BLOCKS_TO_READ = 2;

/**
 * Fewest text-like blocks for a band read to get the retry views (retries.ts) when its first look
 * finds nothing confident: half the fewest any frame with a cue had on the fit half of the
 * short-cue set (8, above). Sparser bands are motion or texture, not a cue the detector missed:
 * on the indexing-real footage most band reads were such 2-3-block bands, each retried on the
 * enlarged view (4× the first look's pixels) without a line found. Reported on the held-out half.
 */
export const MIN_TEXT_BLOCKS_TO_RETRY = 4;

/** Pixel columns [left, right) of a region's text-like blocks, anywhere in it (null: none). */
export function textColumns(signature: RegionSignature): { left: number; right: number } | null {
  let first = Infinity;
  let last = -1;
  const blocks = signature.blocks.length / 2;
  for (let block = 0; block < blocks; block++) {
    if (signature.blocks[block * 2 + 1]! < TEXT_EDGE) continue;
    const col = block % signature.cols;
    first = Math.min(first, col);
    last = Math.max(last, col);
  }
  return last < 0 ? null : { left: first * BLOCK, right: (last + 1) * BLOCK };
}

/** The band changed: most of the band (any content), or its text area. */
export function bandChanged(a: RegionSignature, b: RegionSignature): boolean {
  if (regionChanged(a, b)) return true;
  const { area, changed } = textAreaChange(a, b);
  return changed >= Math.max(MIN_TEXT_CHANGE_BLOCKS, TEXT_AREA_CHANGE * area);
}

/** A subtitle line is centred (or spans much of the width); corner logos and captions are not. */
export function isSubtitleLike(quad: Quad, frameWidth: number): boolean {
  const xs = quad.map((p) => p[0]);
  const left = Math.min(...xs);
  const right = Math.max(...xs);
  const centre = (left + right) / 2;
  return Math.abs(centre - frameWidth / 2) < frameWidth * 0.15 || right - left > frameWidth * 0.5;
}

/** Normalised edit distance of two texts (0 same … 1 different), on search-normalised text. */
export function textDistance(a: string, b: string): number {
  const na = normalizeText(a);
  const nb = normalizeText(b);
  if (!na && !nb) return 0;
  return distance(na, nb) / Math.max(na.length, nb.length);
}

/** Two readings closer than this are the same line read twice (OCR jitter, background change). */
export const SAME_LINE_DISTANCE = 0.3;

/**
 * Same line: close in edit distance, or one reading is a large part of the other (a reading
 * during motion that lost the first characters).
 */
export function sameLine(a: string, b: string): boolean {
  if (textDistance(a, b) <= SAME_LINE_DISTANCE) return true;
  const na = normalizeText(a);
  const nb = normalizeText(b);
  const [short, long] = na.length <= nb.length ? [na, nb] : [nb, na];
  return short.length >= 2 && short.length >= long.length / 2 && long.includes(short);
}

export interface TimedText {
  start: number;
  end: number;
  text: string;
}

/**
 * Turns "from time t the band reads X" observations into cues: equal consecutive readings
 * merge, the most confident reading names the cue, and each cue ends where the next change began.
 */
export class CueAssembler {
  private current: { start: number; text: string; score: number } | null = null;
  readonly cues: TimedText[] = [];

  constructor(private readonly minDurationSec: number) {}

  /** The band content from `time` on; text '' means no subtitle. */
  observe(time: number, text: string, score: number): void {
    const current = this.current;
    if (current && text && sameLine(current.text, text)) {
      // The longer of two readings of one line lost fewer characters; confidence breaks ties.
      if (text.length > current.text.length || (text.length === current.text.length && score > current.score)) Object.assign(current, { text, score });
      return;
    }
    this.close(time);
    this.current = text ? { start: time, text, score } : null;
  }

  /** Ends the open cue at `time` (the end of the video, or the next change). */
  close(time: number): void {
    const current = this.current;
    this.current = null;
    if (current && time - current.start >= this.minDurationSec) this.cues.push({ start: current.start, end: time, text: current.text });
  }
}

/** A grey frame (one byte per pixel). */
export interface GreyFrame {
  time: number;
  data: Uint8Array;
  width: number;
  height: number;
}

/** A band crop that should go to OCR, and when its content most likely began. */
export interface BandReading {
  band: Band;
  onset: number;
  /** Text-like blocks of the band's centre strip: below MIN_TEXT_BLOCKS_TO_READ it holds no subtitle. */
  textBlocks: number;
  /** Columns of the band's text-like blocks: text, if any, lies there. */
  textColumns: { left: number; right: number } | null;
}

/**
 * One band sample, and the signature of as many rows just above the band (what a cut or camera
 * motion changes too), taken only when a changed band asks for the onset test: most samples
 * match the last read band and never need it. The frame is kept for that (its pixels stay valid:
 * record-assembler.ts hands out fresh buffers, never reused).
 */
interface Sample {
  band: RegionSignature;
  frame: GreyFrame;
  rows: Band;
  above: RegionSignature | null;
}

function aboveOf(sample: Sample): RegionSignature {
  const { frame, rows } = sample;
  const height = rows.bottom - rows.top;
  sample.above ??= regionSignature(frame.data, frame.width, { top: Math.max(0, rows.top - height), bottom: rows.top });
  return sample.above;
}

/**
 * Decides which sampled frames' bands reach OCR. A band that differs from the last OCR'd one is
 * read once it has settled (equal to the previous sample), or after `maxSettleSec` when motion
 * behind the text never lets it settle. While text-like edges stay in the band and some of them
 * changed, it is read again at least every `forceReadSec` (a cue swapped for one of about the same
 * shape, or a short cue over a busy background, changes too little to trip the tests). The
 * reading's onset is the sample whose band changed most beyond what the picture just above it
 * changed: motion and cuts change both, a subtitle switch changes the band alone.
 */
export class BandWatcher {
  private active: Band | null = null;
  private lastRead: { signature: RegionSignature; time: number } | null = null;
  private previous: Sample | null = null;
  private onset: number | null = null;
  private sharpest: { time: number; share: number } | null = null;
  /** Samples whose band matched the last read one (its reading stands for them) or was still settling. */
  readonly counts = { unchanged: 0, settling: 0 };

  constructor(
    private readonly maxSettleSec: number,
    private readonly forceReadSec = Infinity,
  ) {}

  /** Where subtitles were found, once known. */
  get band(): Band | null {
    return this.active;
  }

  next(frame: GreyFrame, locator: BandLocator): BandReading | null {
    const band = (this.active ??= locator.band);
    const signature = regionSignature(frame.data, frame.width, band);
    const previous = this.previous;
    const current: Sample = { band: signature, frame, rows: band, above: null };
    this.previous = current;
    if (this.lastRead && !bandChanged(this.lastRead.signature, signature) && !this.readDue(frame.time, signature)) {
      this.onset = null;
      this.sharpest = null;
      this.counts.unchanged++;
      return null;
    }
    const jump = !this.lastRead ? Infinity : previous ? regionChangeShare(previous.band, signature) - regionChangeShare(aboveOf(previous), aboveOf(current)) : 0;
    this.onset ??= frame.time;
    if (!this.sharpest || jump > this.sharpest.share) this.sharpest = { time: frame.time, share: jump };
    const settled = previous !== null && !bandChanged(previous.band, signature);
    if (!settled && frame.time - this.onset < this.maxSettleSec) {
      this.counts.settling++;
      return null;
    }

    const reading = { band, onset: this.sharpest.time, textBlocks: textLikeBlocks(signature), textColumns: textColumns(signature) };
    this.lastRead = { signature, time: frame.time };
    this.onset = null;
    this.sharpest = null;
    // Move to a newly located band only here, where the baseline is re-taken anyway: moving
    // between readings would hide a change that happens in the same frame.
    const located = locator.band;
    if (located.top !== band.top || located.bottom !== band.bottom) {
      this.active = located;
      this.lastRead = { signature: regionSignature(frame.data, frame.width, located), time: frame.time };
      this.previous = { band: this.lastRead.signature, frame, rows: located, above: null };
    }
    return reading;
  }

  /** A forced re-read: text-like edges are there, some of them changed, the last read is old. */
  private readDue(time: number, signature: RegionSignature): boolean {
    const last = this.lastRead;
    if (!last || time - last.time < this.forceReadSec) return false;
    const { area, changed } = textAreaChange(last.signature, signature);
    return changed > 0 && area >= MIN_TEXT_CHANGE_BLOCKS && textLikeBlocks(signature) >= MIN_TEXT_CHANGE_BLOCKS;
  }
}
