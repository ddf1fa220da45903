// Image-to-drama search (以图搜剧): a screenshot in, the episode and timestamp out. Stages:
// 1. query.ts — the upload checked and decoded; the regions the CNN describes (upright; the whole
//    picture mirrored too); ORB keypoints taken at the scale of the frames the index stored.
// 2. candidates.ts — CNN (compact scan, exact re-rank) and ColorLayout ranks fused into candidates.
// 3. verification.ts — ORB + homography on stored frames, each video's best candidate first,
//    until one passes with a margin or the budget is spent. Upright variants first; the mirrored
//    ones (CNN passes, scans) only when the upright pass leaves the answer open.
//    A match counts only when its homography can be a screenshot's (screenshot-geometry.ts: not
//    folded, collapsed or turned); a mirrored upload is matched flipped back (query.ts).
// 4. locate.ts, localisation.ts — within the winning video's shot, the moment by pixels (aligned NCC).
// 5. calibration.ts — `similarity` (right video) and `timeConfidence` (right moment).
import type { VideoRecord } from '../../domain.js';
import { BadInputError } from '../../errors.js';
import { frameEvidenceModel } from '../../indexers/frames.js';
import { compactProjectionFor } from '../../models/image-descriptors/projection.js';
import type { RawImage } from '../../models/types.js';
import { DEFAULT_MAX_IMAGE_PIXELS } from '../../models/image.js';
import type { FrameEvidenceRepository, VectorFilter } from '../../store/interfaces.js';
import { rankedMatches } from './answer.js';
import { collapse, createCandidateSource, newCandidateState } from './candidates.js';
import { createFrameSource } from './frame-source.js';
import { createLocator } from './locate.js';
import { phaseClock, type PhaseClock } from './phases.js';
import { cropImage, loadQuery, mirrored, orientedQueries, queryVariants } from './query.js';
import type { Group, ImageMatch, ImageSearchDeps, ImageSearchFilter, ImageSearchLimits, ImageSearchService, QueryVariant } from './types.js';
import { MIN_INLIERS } from './calibration.js';
import { createVerifier, strongest, type CascadeSession } from './verification.js';

export { calibratedSimilarity, calibratedTimeConfidence } from './calibration.js';
export { ffmpegFrameSource } from './frame-source.js';
export { queryVariants, sniffContainer } from './query.js';
export * from './types.js';

const DEFAULT_LIMITS: ImageSearchLimits = { maxBytes: 20 * 1024 * 1024, maxPixels: DEFAULT_MAX_IMAGE_PIXELS, maxResults: 50 };
const DEFAULT_FIRST = 10;
/** Candidates kept from the first stage (the cascade verifies at most 30 of them). */
const CANDIDATE_GROUPS = 40;

/** The service in this process: it can load its models and matrices before the first query. */
export interface LocalImageSearchService extends ImageSearchService {
  /** Loads the CNN, ORB and the first stage's matrices now (the first query would otherwise wait for them). */
  warmUp(): Promise<void>;
}

export function createImageSearchService(deps: ImageSearchDeps): LocalImageSearchService {
  const { store, log, descriptor, matcher } = deps;
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const evidenceModel = frameEvidenceModel(matcher);
  const frames = createFrameSource(store, evidenceModel, matcher, deps);
  const candidates = createCandidateSource(store, compactProjectionFor(descriptor));
  const verifier = createVerifier({ catalog: store.catalog, matcher, frames, log });
  const locator = createLocator({ catalog: store.catalog, frames, matcher, log, refineMoment: deps.refineMoment });

  async function videoIdsFor(filter: ImageSearchFilter | null | undefined): Promise<string[] | null> {
    let ids = filter?.videoIds ? [...filter.videoIds] : null;
    if (filter?.series) {
      const inSeries: string[] = [];
      let after: string | null = null;
      do {
        const page = await store.catalog.listVideos({ series: filter.series }, { first: 500, after });
        inSeries.push(...page.items.map((v) => v.id));
        after = page.hasNextPage ? page.endCursor : null;
      } while (after);
      ids = ids ? ids.filter((id) => inSeries.includes(id)) : inSeries;
    }
    return ids;
  }

  /** The trace.moe-style baseline: ColorLayout of the whole picture, LIRE distance (eval only). */
  async function colorLayoutGroups(image: RawImage, filter: VectorFilter | undefined, first: number): Promise<Group[]> {
    const ranked = await candidates.colorLayoutRanked([image], 80, filter);
    // Not calibrated: a plain monotone map of LIRE's distance, as trace.moe shows it.
    return collapse(
      ranked.map(({ hit, distance }) => ({ hit, score: Math.max(0, 1 - distance / 100), fused: 0, variant: 0 })),
      first,
    );
  }

  async function fullSearch(image: RawImage, filter: VectorFilter | undefined, clock: PhaseClock) {
    const found = clock.timeSync('variants', () => queryVariants(image));
    const variants: QueryVariant[] = [...found.filter((v) => !v.mirror), ...found.filter((v) => v.mirror)];
    const upright = variants.filter((v) => !v.mirror).length;
    const describe = (vs: QueryVariant[]) => clock.time('cnn', () => descriptor.describe(vs.map((v) => ({ image, region: v.region, mirror: v.mirror }))));
    // ORB sees the narrowest upright region at the stored frames' scale: a player page's inner picture, else the trimmed one.
    const contentWidth = Math.min(...variants.slice(0, upright).map((v) => v.region.width));
    const session: CascadeSession = { clock, orientedQuery: orientedQueries(image, contentWidth, matcher, clock), candidates: 0, matches: 0, checked: new Map(), tried: new Map(), mirrorFirst: null };
    const state = newCandidateState();
    const content = cropImage(image, variants[0]!.region);
    // The CNN runs on its own thread: the screenshot's ORB features are extracted meanwhile.
    let [vectors] = await Promise.all([describe(variants.slice(0, upright)), session.orientedQuery(false)]);
    let groups = collapse(await candidates.rank(vectors, 0, [content], state, filter, clock), CANDIDATE_GROUPS);
    let verified = await verifier.cascade(groups, variants, session);
    if (!strongest(verified, false).certain) {
      // The upright pass left the answer open: the mirrored hypothesis first, also on candidates already checked upright.
      session.mirrorFirst ??= true;
      const [mirroredVectors, mirroredContent] = await Promise.all([describe(variants.slice(upright)), mirrored(content), session.orientedQuery(true)]);
      vectors = [...vectors, ...mirroredVectors];
      groups = collapse(await candidates.rank(vectors, upright, [mirroredContent], state, filter, clock), CANDIDATE_GROUPS);
      verified = await verifier.cascade(groups, variants, session);
    }
    const best = strongest(verified, false).best;
    const localisation = best && best.inliers >= MIN_INLIERS ? await locator.locate(best, session) : null;
    return { groups, verified, localised: best && localisation ? { verification: best, localisation } : null };
  }

  return {
    async warmUp() {
      const probe: RawImage = { data: new Uint8Array(64 * 64 * 3), width: 64, height: 64, channels: 3 };
      await Promise.all([descriptor.describe([{ image: probe }]), matcher.extract(probe), candidates.warmUp()]);
    },

    matchFrame: storedMatchFrame(store.frameEvidence, evidenceModel),

    async searchByImage(request, options = {}) {
      const first = request.first ?? DEFAULT_FIRST;
      if (!Number.isInteger(first) || first < 1 || first > limits.maxResults) {
        throw new BadInputError(`first must be a whole number from 1 to ${limits.maxResults}`);
      }
      const clock = phaseClock(options.phases);
      const image = await clock.time('decode', () => loadQuery(request, limits, deps.firstFrame));
      const videoIds = await videoIdsFor(request.filter);
      if (videoIds && videoIds.length === 0) return [];
      const filter: VectorFilter | undefined = videoIds ? { videoIds } : undefined;
      const outcome = options.method === 'colorlayout' ? null : await fullSearch(image, filter, clock);
      const groups = outcome?.groups ?? (await colorLayoutGroups(image, filter, first));
      return clock.time('answer', async () => {
        const ids = new Set([...groups.map((g) => g.videoId), ...(outcome?.verified ?? []).map((v) => v.video.id)]);
        const videos = new Map((await store.catalog.getVideos([...ids])).filter((v): v is VideoRecord => v !== null).map((v) => [v.id, v]));
        const ranked = outcome
          ? rankedMatches({ groups, verified: outcome.verified, localised: outcome.localised, videos })
          : baselineMatches(groups, videos);
        const matches: ImageMatch[] = [];
        for (const match of ranked.slice(0, first)) matches.push({ ...match, segmentId: (await store.catalog.segmentAt(match.video.id, match.at))?.id ?? null });
        return matches;
      });
    },
  };
}

/** The stored JPEG of the frame a match was verified on (`evidenceModel`'s rows), or null: one store read, no model. */
export function storedMatchFrame(frameEvidence: FrameEvidenceRepository, evidenceModel: string): ImageSearchService['matchFrame'] {
  return async (videoId, time) => {
    // The window may lead with the frame a repeat repeats: only the exact time answers.
    const rows = await frameEvidence.window(videoId, evidenceModel, time, time);
    return rows.find((f) => Math.abs(f.time - time) < 0.0005)?.picture ?? null;
  };
}

/** ColorLayout baseline answers: its score as similarity, nothing verified or localised. */
function baselineMatches(groups: readonly Group[], videos: ReadonlyMap<string, VideoRecord>): Omit<ImageMatch, 'segmentId'>[] {
  return groups.flatMap((group) => {
    const video = videos.get(group.videoId);
    if (!video) return [];
    return [{ video, at: group.time, from: group.from, to: group.to, similarity: group.score, timeConfidence: 0, frameTime: null, descriptorScore: group.score, inliers: 0, rivalInliers: 0, momentMargin: null }];
  });
}


