// Contextual ads (情景广告, seed 000): an inventory editors and the ad system maintain, and a
// matcher that ranks ads for a moment of a video from what is said (BM25 of the dialogue against
// ad keywords), who is on screen (presence spans), what is seen (objects, via the IAB table) and
// what kind of scene it is (HEURISTIC scene/mood tags). Every score comes with its reasons, and
// what brand safety left out is counted by reason. The stages: input.ts (upsert checks),
// inventory.ts (the indexed inventory), moment.ts (a moment's evidence), ranking.ts (scores,
// reasons, exclusions).
import { randomUUID } from 'node:crypto';
import type { CueRecord, SegmentRecord, ShotRecord } from '../../domain.js';
import { BadInputError, NotFoundError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { SegmentTagRecord } from '../../store/ads.js';
import type { Store } from '../../store/interfaces.js';
import { buildKeywordMatcher, type KeywordMatcher } from '../moderation.js';
import { pageFromStore } from '../pagination.js';
import { adRecordFromInput, cleanText } from './input.js';
import { buildInventory, type Inventory } from './inventory.js';
import { momentEvidence, momentWindow, presenceWindow, segmentContaining, type VideoEvidence } from './moment.js';
import { rankAds } from './ranking.js';
import type { AdMatching, AdsService, MatchQuery } from './types.js';

export * from './types.js';
export { buildInventory } from './inventory.js';
export { CONTEXT_SEC, momentEvidence, segmentContaining } from './moment.js';
export { rankAds, type MomentEvidence } from './ranking.js';

export const DEFAULT_MATCHES = 10;
export const MAX_MATCHES = 100;
/** A break needs this much quiet on each side of the cut. */
const BREAK_QUIET_SEC = 0.5;
/** No breaks this close to the start or end of the video. */
const BREAK_EDGE_SEC = 2;

export interface AdsDeps {
  store: Store;
  log: Logger;
  /** Today as YYYY-MM-DD (flight dates); injectable for tests. */
  today?: () => string;
}

/** Speech stretches the scenes stage stored (its artifact), used to find quiet cuts. */
export interface SpeechIntervals {
  speech: { start: number; end: number }[];
}

function matchCount(first: number | null | undefined, fallback = DEFAULT_MATCHES): number {
  if (first === null || first === undefined) return fallback;
  if (!Number.isInteger(first) || first < 1 || first > MAX_MATCHES) {
    throw new BadInputError(`first must be a whole number from 1 to ${MAX_MATCHES}`, { first, max: MAX_MATCHES });
  }
  return first;
}

export function createAdsService(deps: AdsDeps): AdsService {
  const { store, log } = deps;
  const today = deps.today ?? (() => new Date().toISOString().slice(0, 10));
  let inventory: Inventory | null = null;
  let building: Promise<Inventory> | null = null;
  let moderation: { version: number; matcher: KeywordMatcher } | null = null;

  async function currentInventory(): Promise<Inventory> {
    const version = await store.ads.inventoryVersion();
    if (inventory?.version === version) return inventory;
    building ??= (async () => {
      const started = performance.now();
      const built = buildInventory(await store.ads.allAds(), version);
      log.debug({ ads: built.ads.length, ms: Math.round(performance.now() - started) }, 'ad inventory indexed');
      return built;
    })().finally(() => {
      building = null;
    });
    inventory = await building;
    return inventory;
  }

  async function moderationMatcher(): Promise<KeywordMatcher> {
    const version = await store.moderation.keywordsVersion();
    if (moderation?.version !== version) moderation = { version, matcher: buildKeywordMatcher(await store.moderation.listKeywordLists()) };
    return moderation.matcher;
  }

  async function validateActors(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const found = await store.actors.getActors(ids);
    const missing = ids.filter((_, i) => !found[i]);
    if (missing.length) throw new BadInputError(`actors: unknown actor ids ${missing.join(', ')}`, { field: 'actors', missing });
  }

  /** The moment a query names: its segment, and the time when one was given. */
  async function locate(query: MatchQuery): Promise<{ segment: SegmentRecord; time: number | null }> {
    const hasTime = query.time !== null && query.time !== undefined;
    if (query.segmentId && (query.videoId || hasTime)) throw new BadInputError('give either segmentId, or videoId and time, not both');
    if (query.segmentId) {
      const segment = await store.catalog.getSegment(query.segmentId);
      if (!segment) throw new NotFoundError('segment', query.segmentId);
      return { segment, time: null };
    }
    if (!query.videoId || !hasTime) throw new BadInputError('give segmentId, or videoId and time');
    const time = query.time!;
    if (!Number.isFinite(time) || time < 0) throw new BadInputError('time must be a number of seconds ≥ 0', { time });
    const video = await store.catalog.getVideo(query.videoId);
    if (!video) throw new NotFoundError('video', query.videoId);
    if (time > video.durationSec + 1) throw new BadInputError(`time ${time} is past the end of the video (${video.durationSec} s)`, { time });
    const segment = await store.catalog.segmentAt(query.videoId, time);
    if (!segment) throw new NotFoundError('segment of video at time', `${query.videoId}@${time}`);
    return { segment, time };
  }

  /**
   * Read once per call, however many moments of the video are ranked (adBreaks ranks up to 100);
   * for one `moment`, only what it can use: its lines and who is present around it.
   */
  async function videoEvidence(videoId: string, moment?: { segment: SegmentRecord; time: number | null }): Promise<VideoEvidence> {
    const [cues, spans, risks] = await Promise.all([
      moment ? momentCues(moment.segment, moment.time) : store.catalog.getCues(videoId),
      store.appearances.getSpansOfVideo(videoId, moment && presenceWindow(moment.segment, moment.time)),
      store.technical.getVisualFlags(videoId),
    ]);
    const visualRisk = new Map<string, number>();
    for (const r of risks) visualRisk.set(r.segmentId, Math.max(visualRisk.get(r.segmentId) ?? 0, r.risk));
    return { cues, spans, visualRisk };
  }

  /**
   * The lines one moment can use: those touching its window, and with no `time` its segment's own
   * lines wherever they fall (a line is assigned to the segment it starts in, or the first or last
   * one), in time order.
   */
  async function momentCues(segment: SegmentRecord, time: number | null): Promise<CueRecord[]> {
    const { from, to } = momentWindow(segment, time);
    const [near, own] = await Promise.all([
      store.catalog.getCuesOverlapping(segment.videoId, from, to),
      time === null ? store.catalog.getCuesBySegments([segment.id]).then(([cues]) => cues ?? []) : [],
    ]);
    const nearIds = new Set(near.map((c) => c.id));
    const outside = own.filter((c) => !nearIds.has(c.id));
    return outside.length === 0 ? near : [...near, ...outside].sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Everything ranking needs besides the moment, read in parallel with it. */
  async function rankingInputs(): Promise<{ inv: Inventory; matcher: KeywordMatcher }> {
    const [inv, matcher] = await Promise.all([currentInventory(), moderationMatcher()]);
    return { inv, matcher };
  }

  function rankMoment(
    segment: SegmentRecord,
    time: number | null,
    video: VideoEvidence,
    tags: SegmentTagRecord[],
    ranking: { inv: Inventory; matcher: KeywordMatcher },
    count: number,
  ): AdMatching {
    return rankAds(ranking.inv, momentEvidence(segment, time, video, tags), {
      first: count,
      today: today(),
      flagsOf: (texts) => texts.flatMap((t) => ranking.matcher(t)),
    });
  }

  async function adMatching(query: MatchQuery, first?: number | null): Promise<AdMatching> {
    const count = matchCount(first);
    const { segment, time } = await locate(query);
    const [video, [tags], ranking] = await Promise.all([
      videoEvidence(segment.videoId, { segment, time }),
      store.tags.getTagsOfSegments([segment.id]),
      rankingInputs(),
    ]);
    return rankMoment(segment, time, video, tags ?? [], ranking, count);
  }

  return {
    async upsertAd(input) {
      const now = new Date().toISOString();
      const id = cleanText('id', input.id) ?? randomUUID();
      const existing = await store.ads.getAd(id);
      const ad = adRecordFromInput(input, id, existing?.createdAt ?? now, now);
      await validateActors(ad.actors);
      await store.ads.putAd(ad);
      return ad;
    },
    deleteAd: (id) => store.ads.deleteAd(id),
    ad: (id) => store.ads.getAd(id),
    ads: (first, after) => pageFromStore((page) => store.ads.listAds(page), first, after),
    adMatching,
    matchAds: async (query, first) => (await adMatching(query, first)).matches,
    tagsOfSegments: (segmentIds) => store.tags.getTagsOfSegments(segmentIds),
    async adBreaks(videoId, first, adsPerBreak) {
      const count = matchCount(first, 20);
      const perBreak = matchCount(adsPerBreak, 3);
      const video = await store.catalog.getVideo(videoId);
      if (!video) throw new NotFoundError('video', videoId);
      const [shots, speech, cues] = await Promise.all([
        store.catalog.getShots(videoId),
        store.catalog.getArtifact<SpeechIntervals>(videoId, 'scenes'),
        store.catalog.getCues(videoId, ['SUBTITLE']),
      ]);
      // Speech as the scenes stage heard it; a video without that stage falls back to its subtitles.
      const talking = speech?.speech ?? cues.map((c) => ({ start: c.start, end: c.end }));
      const quietCuts = shots
        .filter((s: ShotRecord) => s.index > 0 && s.start >= BREAK_EDGE_SEC && s.start <= video.durationSec - BREAK_EDGE_SEC)
        .filter((s) => !talking.some((t) => t.end > s.start - BREAK_QUIET_SEC && t.start < s.start + BREAK_QUIET_SEC))
        .slice(0, count);
      if (quietCuts.length === 0) return [];
      // One read of the video's segments, lines, spans, flags and the breaks' tags for all breaks
      // (not one round per break).
      const segments = await store.catalog.getSegmentsOfVideo(videoId);
      const placed = quietCuts
        .map((cut) => ({ cut, before: segmentContaining(segments, Math.max(0, cut.start - 0.05)) }))
        .filter((b): b is { cut: ShotRecord; before: SegmentRecord } => b.before !== null);
      const [evidenceOfVideo, tags, ranking] = await Promise.all([
        videoEvidence(videoId),
        store.tags.getTagsOfSegments(placed.map((b) => b.before.id)),
        rankingInputs(),
      ]);
      return placed.map(({ cut, before }, i) => ({
        videoId,
        time: cut.start,
        segmentId: before.id,
        ads: rankMoment(before, null, evidenceOfVideo, tags[i] ?? [], ranking, perBreak).matches,
      }));
    },
  };
}
