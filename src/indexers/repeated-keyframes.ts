// Shot keyframes whose picture nearly repeats one a picture stage already worked on take that
// stage's result instead of running its model again (issue 20: "frames too close to the last
// processed one reuse its results in every picture stage"). The test is the one that calls a
// subtitle band "unchanged" (subtitle-band.ts: at most 2 % of the 8×8 blocks changed in
// brightness or horizontal edge strength), applied to the whole frame; it was not fitted for
// reuse. Not only the previous keyframe: dialogue cuts back and forth between the same shots, and
// footage repeats (on the indexing-real footage 9 of 57 keyframes repeated an earlier one that was
// not the previous). Used by the OCR and objects stages; each counts its reuses in its artifact.
import type { RawFrame } from '../media/frames.js';
import { toGrey } from '../models/image.js';
import { regionChanged, regionSignature, type RegionSignature } from './subtitle-band.js';

/** The whole-frame block signature of a grey (1 byte a pixel) or RGB (3 bytes) frame. */
export function wholeFrameSignature(frame: Pick<RawFrame, 'data' | 'width' | 'height'>): RegionSignature {
  const channels = frame.data.length / (frame.width * frame.height);
  const grey = channels === 1 ? frame.data : toGrey({ data: frame.data, width: frame.width, height: frame.height, channels: 3 }).data;
  return regionSignature(grey, frame.width, { top: 0, bottom: frame.height });
}

/**
 * The results of the keyframes worked on so far, found again by picture. The most recent
 * `capacity` results are kept (a signature of a 960-px frame is 64 KB), looked at newest first.
 */
export class RepeatedKeyframes<T> {
  private readonly read: { signature: RegionSignature; reading: T }[] = [];

  constructor(private readonly capacity: number) {}

  /** The result of a kept keyframe this picture nearly repeats, or null. */
  find(signature: RegionSignature): T | null {
    for (let i = this.read.length - 1; i >= 0; i--) if (!regionChanged(this.read[i]!.signature, signature)) return this.read[i]!.reading;
    return null;
  }

  add(signature: RegionSignature, reading: T): void {
    this.read.push({ signature, reading });
    if (this.read.length > this.capacity) this.read.shift();
  }
}
