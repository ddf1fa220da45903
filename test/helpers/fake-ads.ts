// In-memory tag and highlight repositories for service tests that run on the fake store.
import type { Page, PageArgs } from '../../src/domain.js';
import type {
  AdRecord,
  AdRepository,
  HighlightFeedbackRecord,
  HighlightModelRecord,
  HighlightRepository,
  HighlightSignalsRecord,
  SegmentTagRecord,
  TagKind,
  TagRepository,
} from '../../src/store/ads.js';
import type { HighlightImport } from '../../src/store/elastic/ads.js';

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** The embedded order: segment, kind, score (highest first), label. */
const tagOrder = (a: SegmentTagRecord, b: SegmentTagRecord): number =>
  byText(a.segmentId, b.segmentId) || byText(a.kind, b.kind) || b.score - a.score || byText(a.label, b.label);

export class FakeAdRepository implements AdRepository {
  readonly ads = new Map<string, AdRecord>();
  private version = 0;

  async putAd(ad: AdRecord): Promise<void> {
    this.ads.set(ad.id, structuredClone(ad));
    this.version += 1;
  }

  async getAd(id: string): Promise<AdRecord | null> {
    return this.ads.get(id) ?? null;
  }

  async deleteAd(id: string): Promise<boolean> {
    const removed = this.ads.delete(id);
    if (removed) this.version += 1;
    return removed;
  }

  async listAds(page: PageArgs): Promise<Page<AdRecord>> {
    const all = await this.allAds();
    const rest = page.after ? all.filter((ad) => ad.id > page.after!) : all;
    const items = rest.slice(0, page.first);
    return { items, hasNextPage: rest.length > items.length, endCursor: items.at(-1)?.id ?? page.after ?? null, totalCount: all.length };
  }

  async allAds(): Promise<AdRecord[]> {
    return [...this.ads.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async inventoryVersion(): Promise<number> {
    return this.version;
  }
}

export class FakeTagRepository implements TagRepository {
  readonly tags: SegmentTagRecord[] = [];

  async replaceVideoTags(videoId: string, kinds: readonly TagKind[], tags: readonly SegmentTagRecord[]): Promise<void> {
    const kept = this.tags.filter((t) => t.videoId !== videoId || !kinds.includes(t.kind));
    this.tags.splice(0, this.tags.length, ...kept, ...tags.filter((t) => kinds.includes(t.kind)));
  }

  async getTagsOfSegments(segmentIds: readonly string[]): Promise<SegmentTagRecord[][]> {
    return segmentIds.map((id) => this.tags.filter((t) => t.segmentId === id).sort(tagOrder));
  }

  async getTagsOfVideo(videoId: string): Promise<SegmentTagRecord[]> {
    return this.tags.filter((t) => t.videoId === videoId).sort(tagOrder);
  }

  async deleteVideo(videoId: string): Promise<void> {
    await this.replaceVideoTags(videoId, ['OBJECT', 'SCENE', 'MOOD'], []);
  }
}

export class FakeHighlightRepository implements HighlightRepository, HighlightImport {
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
    await this.importFeedback([feedback]);
    this.model = model;
  }

  async importFeedback(feedback: readonly HighlightFeedbackRecord[]): Promise<void> {
    // By id, as the stores do: a retried request records the feedback once.
    const ids = new Set(feedback.map((f) => f.id));
    this.feedback.splice(0, this.feedback.length, ...this.feedback.filter((f) => !ids.has(f.id)), ...feedback);
  }

  async putModel(model: HighlightModelRecord): Promise<void> {
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
