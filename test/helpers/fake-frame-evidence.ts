// In-memory FrameEvidenceRepository for unit tests (same contract as the embedded one).
import type { FrameEvidence, FrameEvidenceRepository } from '../../src/store/interfaces.js';

export class FakeFrameEvidenceRepository implements FrameEvidenceRepository {
  readonly rows = new Map<string, { model: string; frames: Map<number, FrameEvidence> }>();

  async add(videoId: string, model: string, frames: readonly FrameEvidence[]): Promise<void> {
    const entry = this.rows.get(videoId) ?? { model, frames: new Map<number, FrameEvidence>() };
    entry.model = model;
    for (const frame of frames) entry.frames.set(Math.round(frame.time * 1000), { ...frame });
    this.rows.set(videoId, entry);
  }

  async window(videoId: string, model: string, from: number, to: number): Promise<FrameEvidence[]> {
    const entry = this.rows.get(videoId);
    if (!entry || entry.model !== model) return [];
    const all = [...entry.frames.values()].sort((a, b) => a.time - b.time);
    const inRange = all.filter((f) => f.time >= from && f.time <= to);
    const lead = inRange[0]?.repeat ? all.filter((f) => f.time < from && !f.repeat).pop() : undefined;
    return lead ? [lead, ...inRange] : inRange;
  }

  async deleteVideo(videoId: string): Promise<void> {
    this.rows.delete(videoId);
  }
}
