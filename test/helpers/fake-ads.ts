// In-memory tag and highlight repositories for service tests that run on the fake store.
import type {
  HighlightFeedbackRecord,
  HighlightModelRecord,
  HighlightRepository,
  HighlightSignalsRecord,
  SegmentTagRecord,
  TagKind,
  TagRepository,
} from '../../src/store/ads.js';

export class FakeTagRepository implements TagRepository {
  readonly tags: SegmentTagRecord[] = [];

  async replaceVideoTags(videoId: string, kinds: readonly TagKind[], tags: readonly SegmentTagRecord[]): Promise<void> {
    const kept = this.tags.filter((t) => t.videoId !== videoId || !kinds.includes(t.kind));
    this.tags.splice(0, this.tags.length, ...kept, ...tags.filter((t) => kinds.includes(t.kind)));
  }

  async getTagsOfSegments(segmentIds: readonly string[]): Promise<SegmentTagRecord[][]> {
    return segmentIds.map((id) => this.tags.filter((t) => t.segmentId === id));
  }

  async getTagsOfVideo(videoId: string): Promise<SegmentTagRecord[]> {
    return this.tags.filter((t) => t.videoId === videoId);
  }

  async deleteVideo(videoId: string): Promise<void> {
    await this.replaceVideoTags(videoId, ['OBJECT', 'SCENE', 'MOOD'], []);
  }
}

export class FakeHighlightRepository implements HighlightRepository {
  readonly signals: HighlightSignalsRecord[] = [];
  readonly feedback: HighlightFeedbackRecord[] = [];
  private model: HighlightModelRecord | null = null;

  async replaceVideoSignals(videoId: string, rows: readonly HighlightSignalsRecord[]): Promise<void> {
    this.signals.splice(0, this.signals.length, ...this.signals.filter((s) => s.videoId !== videoId), ...rows);
  }

  async getSignalsOfVideo(videoId: string): Promise<HighlightSignalsRecord[]> {
    return this.signals.filter((s) => s.videoId === videoId).sort((a, b) => a.start - b.start);
  }

  async addFeedback(feedback: HighlightFeedbackRecord, model: HighlightModelRecord): Promise<void> {
    this.feedback.push(feedback);
    this.model = model;
  }

  async getModel(): Promise<HighlightModelRecord | null> {
    return this.model;
  }

  async countFeedback(): Promise<number> {
    return this.feedback.length;
  }

  async deleteVideo(videoId: string): Promise<void> {
    await this.replaceVideoSignals(videoId, []);
    this.feedback.splice(0, this.feedback.length, ...this.feedback.filter((f) => f.videoId !== videoId));
  }
}
