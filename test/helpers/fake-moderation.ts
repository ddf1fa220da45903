// In-memory ModerationRepository for unit tests (same contract as store/embedded/moderation.ts).
import type { Page, PageArgs } from '../../src/domain.js';
import type { FlagRecord, KeywordListRecord, ModerationCheck, ModerationRepository } from '../../src/store/moderation.js';

const flagOrder = (a: FlagRecord, b: FlagRecord): number =>
  a.videoId < b.videoId ? -1 : a.videoId > b.videoId ? 1 : a.start - b.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class FakeModerationRepository implements ModerationRepository {
  readonly lists = new Map<string, KeywordListRecord>();
  readonly checks = new Map<string, ModerationCheck>();
  readonly flags = new Map<string, FlagRecord[]>();
  version = 0;

  async addKeywords(list: string, keywords: readonly string[]): Promise<KeywordListRecord> {
    const current = this.lists.get(list)?.keywords ?? [];
    const saved = { name: list, keywords: [...new Set([...current, ...keywords])], updatedAt: new Date().toISOString() };
    this.lists.set(list, saved);
    this.version++;
    return saved;
  }

  async removeKeywords(list: string, keywords: readonly string[]): Promise<KeywordListRecord | null> {
    this.version++;
    const current = this.lists.get(list);
    if (!current) return null;
    const left = current.keywords.filter((k) => !keywords.includes(k));
    if (left.length === 0) {
      this.lists.delete(list);
      return null;
    }
    const saved = { ...current, keywords: left, updatedAt: new Date().toISOString() };
    this.lists.set(list, saved);
    return saved;
  }

  async listKeywordLists(): Promise<KeywordListRecord[]> {
    return [...this.lists.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async keywordsVersion(): Promise<number> {
    return this.version;
  }

  async replaceFlags(check: ModerationCheck, flags: readonly FlagRecord[]): Promise<void> {
    this.flags.set(check.videoId, [...flags]);
    this.checks.set(check.videoId, { ...check });
  }

  async listChecks(): Promise<ModerationCheck[]> {
    return [...this.checks.values()];
  }

  async deleteVideo(videoId: string): Promise<void> {
    this.flags.delete(videoId);
    this.checks.delete(videoId);
  }

  async listFlags(page: PageArgs): Promise<Page<FlagRecord>> {
    const all = [...this.flags.values()].flat().sort(flagOrder);
    const start = page.after ? all.findIndex((f) => f.id === page.after) + 1 : 0;
    const items = all.slice(start, start + page.first);
    return { items, hasNextPage: start + items.length < all.length, endCursor: items.at(-1)?.id ?? page.after ?? null, totalCount: all.length };
  }
}
