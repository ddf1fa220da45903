// Keyword moderation over subtitles and on-screen text (seed 003's OCR moderation flow). Matching
// runs on normalised text (see text/normalize.ts), so full-width letters, traditional characters
// and spaces or punctuation slipped between characters do not dodge a list. Flags come from the
// STORED cues: changing a list re-checks the whole library without reading any video again.
import type { CueRecord, VideoRecord } from '../domain.js';
import { BadInputError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Catalog } from '../store/interfaces.js';
import type { FlagRecord, KeywordListRecord, ModerationRepository } from '../store/moderation.js';
import { normalizeText } from '../text/normalize.js';
import { pageFromStore, type Connection } from './pagination.js';

export const MAX_KEYWORDS_PER_CALL = 1000;
export const MAX_KEYWORD_LENGTH = 100;
export const MAX_LIST_NAME_LENGTH = 100;
/** Videos read per catalog page while re-checking the library. */
const RECHECK_PAGE = 100;

export interface KeywordHit {
  list: string;
  keyword: string;
}

/** Finds every (list, keyword) whose normalised form occurs in a text's normalised form. */
export type KeywordMatcher = (text: string) => KeywordHit[];

export function buildKeywordMatcher(lists: readonly KeywordListRecord[]): KeywordMatcher {
  const entries = lists.flatMap((list) => list.keywords.map((keyword) => ({ list: list.name, keyword, needle: normalizeText(keyword) })));
  const usable = entries.filter((e) => e.needle.length > 0);
  return (text) => {
    if (usable.length === 0) return [];
    const haystack = normalizeText(text);
    return usable.filter((e) => haystack.includes(e.needle)).map(({ list, keyword }) => ({ list, keyword }));
  };
}

export function flagsOfCues(cues: readonly CueRecord[], matcher: KeywordMatcher): FlagRecord[] {
  return cues.flatMap((cue) =>
    matcher(cue.text).map((hit) => ({
      id: `${cue.id}:${hit.list}:${normalizeText(hit.keyword)}`,
      videoId: cue.videoId,
      segmentId: cue.segmentId,
      cueId: cue.id,
      list: hit.list,
      keyword: hit.keyword,
      text: cue.text,
      start: cue.start,
      end: cue.end,
      kind: cue.kind,
    })),
  );
}

export interface RecheckResult {
  videosChecked: number;
  flags: number;
}

export interface ModerationService {
  addKeywords(list: string, keywords: readonly string[]): Promise<KeywordListRecord>;
  /** Null when the list is now empty (and so deleted). */
  removeKeywords(list: string, keywords: readonly string[]): Promise<KeywordListRecord | null>;
  keywordLists(): Promise<KeywordListRecord[]>;
  /** Flags of the whole library, brought up to date with the lists and with newly indexed videos first. */
  flaggedSegments(first: number | null | undefined, after: string | null | undefined): Promise<Connection<FlagRecord>>;
  /** Re-checks every video whose lists or cues changed since its last check, from stored cues. */
  recheck(): Promise<RecheckResult>;
}

export interface ModerationDeps {
  catalog: Catalog;
  moderation: ModerationRepository;
  log: Logger;
}

function cleanListName(list: string): string {
  const name = list.trim();
  if (!name) throw new BadInputError('list must not be empty');
  if (name.length > MAX_LIST_NAME_LENGTH) throw new BadInputError(`list must be at most ${MAX_LIST_NAME_LENGTH} characters`, { list });
  return name;
}

function cleanKeywords(keywords: readonly string[]): string[] {
  if (keywords.length === 0) throw new BadInputError('keywords must not be empty');
  if (keywords.length > MAX_KEYWORDS_PER_CALL) {
    throw new BadInputError(`at most ${MAX_KEYWORDS_PER_CALL} keywords per call`, { count: keywords.length });
  }
  const cleaned = keywords.map((k) => k.trim());
  for (const keyword of cleaned) {
    if (keyword.length > MAX_KEYWORD_LENGTH) throw new BadInputError(`a keyword must be at most ${MAX_KEYWORD_LENGTH} characters`, { keyword });
    // A keyword of only spaces/punctuation would normalise to "" and match every line.
    if (!normalizeText(keyword)) throw new BadInputError('a keyword needs at least one letter or digit', { keyword });
  }
  return [...new Set(cleaned)];
}

/** Every video in the catalog, page by page. */
async function* allVideos(catalog: Catalog): AsyncGenerator<VideoRecord> {
  let after: string | null = null;
  for (;;) {
    const page = await catalog.listVideos({}, { first: RECHECK_PAGE, after });
    yield* page.items;
    if (!page.hasNextPage || !page.endCursor) return;
    after = page.endCursor;
  }
}

export function createModerationService(deps: ModerationDeps): ModerationService {
  const { catalog, moderation, log } = deps;
  // One re-check at a time: two overlapping ones would race on the same videos' flags.
  let running: Promise<RecheckResult> = Promise.resolve({ videosChecked: 0, flags: 0 });

  async function recheckNow(): Promise<RecheckResult> {
    const version = await moderation.keywordsVersion();
    const matcher = buildKeywordMatcher(await moderation.listKeywordLists());
    const checks = new Map((await moderation.listChecks()).map((c) => [c.videoId, c]));
    const result: RecheckResult = { videosChecked: 0, flags: 0 };
    const seen = new Set<string>();
    for await (const video of allVideos(catalog)) {
      seen.add(video.id);
      // Only finished videos have their final cues.
      if (video.status !== 'READY') continue;
      const check = checks.get(video.id);
      if (check && check.keywordsVersion === version && check.videoUpdatedAt === video.updatedAt) continue;
      const flags = flagsOfCues(await catalog.getCues(video.id), matcher);
      await moderation.replaceFlags({ videoId: video.id, keywordsVersion: version, videoUpdatedAt: video.updatedAt }, flags);
      result.videosChecked++;
      result.flags += flags.length;
    }
    for (const videoId of checks.keys()) if (!seen.has(videoId)) await moderation.deleteVideo(videoId);
    if (result.videosChecked > 0) log.info({ ...result, keywordsVersion: version }, 'moderation re-check');
    return result;
  }

  function recheck(): Promise<RecheckResult> {
    running = running.catch(() => undefined).then(recheckNow);
    return running;
  }

  return {
    async addKeywords(list, keywords) {
      const saved = await moderation.addKeywords(cleanListName(list), cleanKeywords(keywords));
      await recheck();
      return saved;
    },
    async removeKeywords(list, keywords) {
      const saved = await moderation.removeKeywords(cleanListName(list), cleanKeywords(keywords));
      await recheck();
      return saved;
    },
    keywordLists: () => moderation.listKeywordLists(),
    async flaggedSegments(first, after) {
      await recheck();
      return pageFromStore((page) => moderation.listFlags(page), first, after);
    },
    recheck,
  };
}
