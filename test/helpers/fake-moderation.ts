// In-memory ModerationRepository for unit tests (same contract as store/embedded/moderation.ts).
import type { Page, PageArgs } from '../../src/domain.js';
import { decodeCursor, encodeCursor } from '../../src/store/embedded/cursor.js';
import type { FlagRecord, KeywordListRecord, ModerationCheck, ModerationRepository } from '../../src/store/moderation.js';

type FlagKey = Pick<FlagRecord, 'videoId' | 'start' | 'id'>;
const flagOrder = (a: FlagKey, b: FlagKey): number =>
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
    // The stores' cursor: the sort key of the last flag returned.
    const after = page.after ? (decodeCursor(page.after, { videoId: 'string', start: 'number', id: 'string' }) as FlagKey) : null;
    const rest = after ? all.filter((f) => flagOrder(f, after) > 0) : all;
    const items = rest.slice(0, page.first);
    const last = items.at(-1);
    return {
      items,
      hasNextPage: rest.length > items.length,
      endCursor: last ? encodeCursor({ videoId: last.videoId, start: last.start, id: last.id }) : (page.after ?? null),
      totalCount: all.length,
    };
  }
}
