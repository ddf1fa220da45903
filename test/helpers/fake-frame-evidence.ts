// In-memory FrameEvidenceRepository for unit tests (same contract as the embedded one; the shared
// suite test/store/conformance-media.ts runs against it too).
import type { FrameEvidence, FrameEvidenceRepository } from '../../src/store/interfaces.js';

interface StoredFrame {
  model: string;
  frame: FrameEvidence;
}

export class FakeFrameEvidenceRepository implements FrameEvidenceRepository {
  /** Per video, per millisecond (one frame per time, whichever model made it). */
  readonly rows = new Map<string, Map<number, StoredFrame>>();

  async add(videoId: string, model: string, frames: readonly FrameEvidence[]): Promise<void> {
    const byTime = this.rows.get(videoId) ?? new Map<number, StoredFrame>();
    for (const frame of frames) {
      const ms = Math.round(frame.time * 1000);
      byTime.set(ms, { model, frame: { ...frame, time: ms / 1000 } });
    }
    this.rows.set(videoId, byTime);
  }

  async window(videoId: string, model: string, from: number, to: number): Promise<FrameEvidence[]> {
    const fromMs = Math.ceil(from * 1000);
    const toMs = Math.floor(to * 1000);
    const all = [...(this.rows.get(videoId) ?? new Map<number, StoredFrame>())]
      .filter(([, stored]) => stored.model === model)
      .sort(([a], [b]) => a - b);
    const inRange = all.filter(([ms]) => ms >= fromMs && ms <= toMs).map(([, stored]) => stored.frame);
    const lead = inRange[0]?.repeat ? all.filter(([ms, stored]) => ms < fromMs && !stored.frame.repeat).pop()?.[1].frame : undefined;
    return lead ? [lead, ...inRange] : inRange;
  }

  async deleteVideo(videoId: string): Promise<void> {
    this.rows.delete(videoId);
  }
}
