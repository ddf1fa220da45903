// Which sampled faces the faces stage embeds. Embedding is most of the stage's cost (one network
// run per face, against one detector run per frame), and a face that sits still through a shot is
// sampled twice a second. Detections are linked into CHAINS, frame to frame, where the link is
// beyond doubt: the box stays in place (IoU ≥ CHAIN_MIN_IOU) and no other detection or chain is
// near enough for the tracker to weigh an alternative. Of each chain only these are embedded:
//   - its first and last face: the tracker links across gaps and motion from a track's last face
//     to a new detection, and both sides of such a link are chain ends;
//   - its `keepBest` best faces by quality: a track is a run of chains, so a track's `keepBest`
//     best faces (its fused embedding and thumbnails) are among its chains' best, and they are
//     embedded exactly as if every face had been.
// The other faces borrow the embedding of the nearest embedded face of their chain (for the
// tracker only; their own vector is never stored). Pure: no I/O, unit-tested on synthetic boxes.
import type { Box } from '../models/types.js';
import { iou } from '../models/box.js';

/**
 * Box overlap at which the next sampled frame's face is the same face in place. Not fitted: it is
 * set well above the tracker's own "same place" IoU (0.2, DEFAULT_TRACKER_OPTIONS.minIou) so that a
 * chain link is always one the tracker makes too; checked by the dev evals (faces, presence) and
 * both halves of the harder presence set staying within 0.01 of every-face embedding.
 */
export const CHAIN_MIN_IOU = 0.5;
/** Another box this close (the tracker's minIou) makes a link ambiguous: the tracker must judge it on embeddings. */
export const CHAIN_RIVAL_IOU = 0.2;

export interface PlannedFace {
  box: Box;
  quality: number;
}

interface Chain<T extends PlannedFace> {
  faces: T[];
  /** Faces that will be embedded so far: the first, the `keepBest` best, the latest. */
  kept: Set<T>;
  lastFrame: number;
}

export interface ClosedChain<T extends PlannedFace> {
  /** All faces of the chain, in time order. */
  faces: T[];
  /** The faces to embed; every other face of the chain borrows from its nearest one. */
  embed: T[];
}

export interface FrameOutcome<T extends PlannedFace> {
  /** Faces that will not be embedded: whatever was held to embed them may be let go. */
  released: T[];
  /** Chains that ended (no continuation in this frame): embed them now. */
  closed: ClosedChain<T>[];
}

export class FaceEmbeddingPlanner<T extends PlannedFace> {
  private open: Chain<T>[] = [];

  constructor(private readonly keepBest: number) {
    if (keepBest < 1) throw new Error('keepBest must be at least 1');
  }

  /** Faces detected in one sampled frame (`frameIndex` increases by one per sampled frame of the shot). */
  addFrame(frameIndex: number, faces: readonly T[]): FrameOutcome<T> {
    const outcome: FrameOutcome<T> = { released: [], closed: [] };
    const continued = new Set<Chain<T>>();
    const startNew: T[] = [];
    for (const face of faces) {
      const chain = this.continuationOf(face, faces, frameIndex);
      if (chain && !continued.has(chain)) {
        continued.add(chain);
        this.extend(chain, face, frameIndex, outcome.released);
      } else startNew.push(face);
    }
    const stillOpen: Chain<T>[] = [];
    for (const chain of this.open) {
      if (continued.has(chain)) stillOpen.push(chain);
      else outcome.closed.push(close(chain));
    }
    for (const face of startNew) stillOpen.push({ faces: [face], kept: new Set([face]), lastFrame: frameIndex });
    this.open = stillOpen;
    return outcome;
  }

  /** Ends every open chain (the shot is over). */
  closeAll(): ClosedChain<T>[] {
    const closed = this.open.map(close);
    this.open = [];
    return closed;
  }

  /** The open chain `face` continues without doubt, if any. */
  private continuationOf(face: T, frame: readonly T[], frameIndex: number): Chain<T> | null {
    const near = this.open.filter((c) => c.lastFrame === frameIndex - 1 && iou(c.faces.at(-1)!.box, face.box) >= CHAIN_RIVAL_IOU);
    if (near.length !== 1) return null;
    const chain = near[0]!;
    const last = chain.faces.at(-1)!;
    if (iou(last.box, face.box) < CHAIN_MIN_IOU) return null;
    // Another detection of this frame near the chain's last box is a rival for it.
    const rivals = frame.filter((other) => other !== face && iou(last.box, other.box) >= CHAIN_RIVAL_IOU);
    return rivals.length === 0 ? chain : null;
  }

  private extend(chain: Chain<T>, face: T, frameIndex: number, released: T[]): void {
    chain.faces.push(face);
    chain.lastFrame = frameIndex;
    chain.kept.add(face);
    // A face once out of the best can never come back in (the best only get better), so anything
    // but the first, the latest and the best so far is let go at once: memory stays bounded.
    const first = chain.faces[0]!;
    const best = new Set([...chain.kept].filter((f) => f !== first).sort((a, b) => b.quality - a.quality).slice(0, this.keepBest));
    for (const candidate of [...chain.kept]) {
      if (candidate === first || candidate === face || best.has(candidate)) continue;
      chain.kept.delete(candidate);
      released.push(candidate);
    }
  }
}

function close<T extends PlannedFace>(chain: Chain<T>): ClosedChain<T> {
  return { faces: chain.faces, embed: chain.faces.filter((f) => chain.kept.has(f)) };
}

/** For each face of a chain, the embedded face it takes its embedding from (itself when embedded): the nearest in time, earlier on a tie. */
export function embeddingSources<T>(faces: readonly T[], embedded: ReadonlySet<T>): T[] {
  const positions = faces.flatMap((f, i) => (embedded.has(f) ? [i] : []));
  if (positions.length === 0) throw new Error('a chain has at least one embedded face');
  let next = 0;
  return faces.map((_face, i) => {
    while (next + 1 < positions.length && Math.abs(positions[next + 1]! - i) < Math.abs(positions[next]! - i)) next++;
    return faces[positions[next]!]!;
  });
}
