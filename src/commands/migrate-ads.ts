// `vidsearch migrate --to elastic`, the ads part: copies the embedded store's ad inventory, tags,
// highlight signals, feedback and learnt weights, keyword lists and moderation checks with their
// flags into the Elasticsearch repositories (store/elastic/ads.ts, moderation.ts).
//
// Safe to re-run, and a re-run after the switch never overwrites what the new backend has since
// written: an ad, a video's tags or signals, a keyword list, a video's check already in the target
// are left as they are (tags and checks are each written in one step, so a video cut off half-way
// is simply copied again). Feedback has ids (re-written as they are); the weights are copied only
// when the target has none.
//
// A copied check stays current only when the keyword lists it was made against are the ones the
// target now holds; otherwise it is marked stale (version -1) and the next moderation re-check
// recomputes its flags from the cues.
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../logger.js';
import type { HighlightFeedbackRecord, HighlightRepository } from '../store/ads.js';
import type { HighlightImport } from '../store/elastic/ads.js';
import { TAG_KINDS } from '../store/elastic/ads-schema.js';
import { DATABASE_FILE } from '../store/embedded/db.js';
import type { Store } from '../store/interfaces.js';
import type { FlagRecord, KeywordListRecord } from '../store/moderation.js';

export type AdsCopySource = Pick<Store, 'ads' | 'tags' | 'highlights' | 'moderation'>;
export type AdsCopyTarget = Pick<Store, 'ads' | 'tags' | 'moderation'> & { highlights: HighlightRepository & HighlightImport };

export interface AdsCopy {
  ads: number;
  /** Videos whose tags were copied, and the tags. */
  taggedVideos: number;
  tags: number;
  signalVideos: number;
  feedback: number;
  model: boolean;
  keywordLists: number;
  checks: number;
  flags: number;
  /** Ads, tagged videos, signal videos, keyword lists and checks already in the target: left as they are. */
  skipped: number;
}

const FEEDBACK_BATCH = 500;
const FLAG_PAGE = 500;
/** Never a keywords version: a check carrying it is re-checked. */
const STALE_VERSION = -1;

interface FeedbackRow {
  id: string;
  video_id: string;
  start: number;
  end: number;
  good: number;
  features: string;
  created_at: string;
}

const sameLists = (a: readonly KeywordListRecord[], b: readonly KeywordListRecord[]): boolean =>
  JSON.stringify(a.map((l) => [l.name, l.keywords])) === JSON.stringify(b.map((l) => [l.name, l.keywords]));

/** Copies what the embedded store at `dataDir` holds for these repositories into `target`. */
export async function copyAds(source: AdsCopySource, dataDir: string, target: AdsCopyTarget, log: Logger): Promise<AdsCopy> {
  // Videos with tags or signals, and feedback, straight from the embedded file: the repositories
  // read them per video or only count them.
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  const copied: AdsCopy = { ads: 0, taggedVideos: 0, tags: 0, signalVideos: 0, feedback: 0, model: false, keywordLists: 0, checks: 0, flags: 0, skipped: 0 };
  try {
    await copyInventory(source, target, copied);
    await copyTags(db, source, target, copied);
    await copySignals(db, source, target, copied);
    await copyFeedback(db, source, target, copied);
    await copyModeration(source, target, copied);
  } finally {
    db.close();
  }
  log.info({ ...copied }, 'ads, tags, highlights and moderation copied');
  return copied;
}

/** The ads not in the target yet. */
async function copyInventory(source: AdsCopySource, target: AdsCopyTarget, copied: AdsCopy): Promise<void> {
  for (const ad of await source.ads.allAds()) {
    if (await target.ads.getAd(ad.id)) copied.skipped += 1;
    else {
      await target.ads.putAd(ad);
      copied.ads += 1;
    }
  }
}

/** Each video's segment tags, for the videos the target has none of. */
async function copyTags(db: Database.Database, source: AdsCopySource, target: AdsCopyTarget, copied: AdsCopy): Promise<void> {
  for (const videoId of db.prepare('SELECT DISTINCT video_id FROM segment_tags ORDER BY video_id').pluck().all() as string[]) {
    if ((await target.tags.getTagsOfVideo(videoId)).length > 0) {
      copied.skipped += 1;
      continue;
    }
    const tags = await source.tags.getTagsOfVideo(videoId);
    await target.tags.replaceVideoTags(videoId, TAG_KINDS, tags);
    copied.taggedVideos += 1;
    copied.tags += tags.length;
  }
}

/** Each video's highlight signals, for the videos the target has none of. */
async function copySignals(db: Database.Database, source: AdsCopySource, target: AdsCopyTarget, copied: AdsCopy): Promise<void> {
  for (const videoId of db.prepare('SELECT DISTINCT video_id FROM highlight_signals ORDER BY video_id').pluck().all() as string[]) {
    if ((await target.highlights.getSignalsOfVideo(videoId)).length > 0) {
      copied.skipped += 1;
      continue;
    }
    await target.highlights.replaceVideoSignals(videoId, await source.highlights.getSignalsOfVideo(videoId));
    copied.signalVideos += 1;
  }
}

/** Highlight feedback (re-written by id), and the learnt weights when the target has none. */
async function copyFeedback(db: Database.Database, source: AdsCopySource, target: AdsCopyTarget, copied: AdsCopy): Promise<void> {
  const feedbackRows = db.prepare('SELECT id, video_id, start, "end", good, features, created_at FROM highlight_feedback ORDER BY id').all() as FeedbackRow[];
  const feedback = feedbackRows.map(
    (r): HighlightFeedbackRecord => ({ id: r.id, videoId: r.video_id, start: r.start, end: r.end, good: r.good === 1, features: JSON.parse(r.features) as number[], createdAt: r.created_at }),
  );
  for (let i = 0; i < feedback.length; i += FEEDBACK_BATCH) await target.highlights.importFeedback(feedback.slice(i, i + FEEDBACK_BATCH));
  copied.feedback = feedback.length;
  const model = await source.highlights.getModel();
  if (model && !(await target.highlights.getModel())) {
    await target.highlights.putModel(model);
    copied.model = true;
  }
}

/** Keyword lists the target lacks, then each video's check with its flags (stale unless the lists carried over). */
async function copyModeration(source: AdsCopySource, target: AdsCopyTarget, copied: AdsCopy): Promise<void> {
  const sourceLists = await source.moderation.listKeywordLists();
  const targetNames = new Set((await target.moderation.listKeywordLists()).map((l) => l.name));
  for (const list of sourceLists) {
    if (targetNames.has(list.name)) copied.skipped += 1;
    else {
      await target.moderation.addKeywords(list.name, list.keywords);
      copied.keywordLists += 1;
    }
  }
  const listsCarried = sameLists(sourceLists, await target.moderation.listKeywordLists());
  const [sourceVersion, targetVersion] = [await source.moderation.keywordsVersion(), await target.moderation.keywordsVersion()];

  const flagsByVideo = new Map<string, FlagRecord[]>();
  for (let after: string | null = null; ; ) {
    const page = await source.moderation.listFlags({ first: FLAG_PAGE, after });
    for (const flag of page.items) flagsByVideo.set(flag.videoId, [...(flagsByVideo.get(flag.videoId) ?? []), flag]);
    if (!page.hasNextPage || !page.endCursor) break;
    after = page.endCursor;
  }
  const checked = new Set((await target.moderation.listChecks()).map((c) => c.videoId));
  for (const check of await source.moderation.listChecks()) {
    if (checked.has(check.videoId)) {
      copied.skipped += 1;
      continue;
    }
    const current = listsCarried && check.keywordsVersion === sourceVersion;
    const flags = flagsByVideo.get(check.videoId) ?? [];
    await target.moderation.replaceFlags({ ...check, keywordsVersion: current ? targetVersion : STALE_VERSION }, flags);
    copied.checks += 1;
    copied.flags += flags.length;
  }
}
