// First stage: which (video, moment) candidates the verification cascade looks at, in order.
// Two signals, fused by rank: the CNN (each query variant's compact descriptor shortlists frames,
// re-ranked by the exact cosine of the full descriptors) and MPEG-7 ColorLayout of the trimmed
// picture. ColorLayout survives half size + JPEG, where the CNN ranks a look-alike clip (same
// studio and framing, another person in other clothes) above the true one: clothing colour is
// what tells such clips apart at low resolution. Frames only ColorLayout found get their exact
// cosine too, so every candidate carries both ranks.
import { FRAME_COLLECTION, FRAME_COLORLAYOUT_COLLECTION, FRAME_COMPACT_COLLECTION, type FramePayload } from '../../indexers/frames.js';
import { colorLayout, colorLayoutDistance, colorLayoutFromVector, colorLayoutVector } from '../../models/image-descriptors/color-layout.js';
import type { CompactProjection } from '../../models/image-descriptors/projection.js';
import type { RawImage } from '../../models/types.js';
import type { Store, VectorFilter, VectorHit } from '../../store/interfaces.js';
import type { PhaseClock } from './phases.js';
import type { Group } from './types.js';

/** Candidates per query variant: from the compact first stage, and kept after exact re-ranking. */
const FIRST_STAGE_SHORTLIST = 200;
const SHORTLIST = 40;
/** ColorLayout frames per layout (re-ordered by LIRE's exact distance). */
const COLOR_LAYOUT_SHORTLIST = 40;
/**
 * Reciprocal-rank fusion: score = 1/(K + cnnRank) + COLOR_LAYOUT_WEIGHT/(K + colorLayoutRank).
 * Set by hand (ColorLayout a little below the CNN), not swept: the cascade verifies 30
 * candidates, so the fusion mainly has to bring the true clip into that reach.
 */
const RRF_K = 10;
const COLOR_LAYOUT_WEIGHT = 0.7;
/** Hits of one video closer than this are one candidate. */
export const SAME_MOMENT_SEC = 2;

export interface RankedFrame {
  hit: VectorHit;
  /** Exact cosine against the best variant (0 when the frame has no full descriptor). */
  score: number;
  fused: number;
  variant: number;
}

/** Cosine of two L2-normalised descriptors. */
function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** RRF of two rankings (1-based ranks; a missing rank adds nothing). */
export function fusedScore(cnnRank: number | null, colorLayoutRank: number | null): number {
  return (cnnRank === null ? 0 : 1 / (RRF_K + cnnRank)) + (colorLayoutRank === null ? 0 : COLOR_LAYOUT_WEIGHT / (RRF_K + colorLayoutRank));
}

export interface CandidateState {
  /** Frames found so far (CNN and ColorLayout), by id. */
  hits: Map<string, VectorHit>;
  /** Best (1-based) ColorLayout rank per frame id. */
  colorLayoutRank: Map<string, number>;
  /**
   * Full descriptors read so far (null: the frame has none), and the exact cosines computed so far
   * per query variant (NaN: no descriptor), by frame id. The mirrored pass re-ranks every frame the
   * upright pass found: their descriptors (5 KB each, from the store) are not read twice, nor the
   * upright variants' cosines computed twice.
   */
  descriptors: Map<string, Float32Array | null>;
  cosines: Map<string, number>[];
}

export function newCandidateState(): CandidateState {
  return { hits: new Map(), colorLayoutRank: new Map(), descriptors: new Map(), cosines: [] };
}

export function createCandidateSource(store: Store, compact: CompactProjection) {
  /** Frames nearest the layouts, ordered by LIRE's exact distance (the index ranks by one weighted L2). */
  async function colorLayoutRanked(pictures: readonly RawImage[], limit: number, filter: VectorFilter | undefined): Promise<{ hit: VectorHit; distance: number }[]> {
    const out: { hit: VectorHit; distance: number }[] = [];
    for (const picture of pictures) {
      const layout = colorLayout(picture);
      const hits = await store.vectors.search(FRAME_COLORLAYOUT_COLLECTION, colorLayoutVector(layout), limit, filter);
      const points = await store.vectors.get(FRAME_COLORLAYOUT_COLLECTION, hits.map((h) => h.id));
      hits.forEach((hit, i) => out.push({ hit, distance: points[i] ? colorLayoutDistance(layout, colorLayoutFromVector(points[i]!.vector)) : Infinity }));
    }
    return out.sort((a, b) => a.distance - b.distance);
  }

  /** Fills `state.cosines` for every (variant, frame) pair not scored yet, reading only the full descriptors not read yet. */
  async function scoreNewPairs(vectors: readonly Float32Array[], ids: readonly string[], state: CandidateState): Promise<void> {
    const unread = ids.filter((id) => !state.descriptors.has(id));
    const points = await store.vectors.get(FRAME_COLLECTION, unread);
    unread.forEach((id, i) => state.descriptors.set(id, points[i]?.vector ?? null));
    vectors.forEach((vector, variant) => {
      const cosines = (state.cosines[variant] ??= new Map());
      for (const id of ids) {
        if (cosines.has(id)) continue;
        const descriptor = state.descriptors.get(id);
        cosines.set(id, descriptor ? dot(vector, descriptor) : NaN);
      }
    });
  }

  return {
    colorLayoutRanked,

    /** Loads the matrices the first stage scans (at 1M frames ~40–70 s of reading SQLite) before the first query needs them. */
    async warmUp(): Promise<void> {
      await store.vectors.search(FRAME_COMPACT_COLLECTION, new Float32Array(compact.dim).fill(1), 1);
      await store.vectors.search(FRAME_COLORLAYOUT_COLLECTION, colorLayoutVector(colorLayout({ data: new Uint8Array(8 * 8 * 3), width: 8, height: 8, channels: 3 })), 1);
    },

    /**
     * Adds the new variants' CNN shortlists and the new pictures' ColorLayout hits to `state`, then
     * ranks every frame found so far by fused rank. Variants before `scanFrom` were scanned earlier.
     */
    async rank(
      vectors: readonly Float32Array[],
      scanFrom: number,
      layoutPictures: readonly RawImage[],
      state: CandidateState,
      filter: VectorFilter | undefined,
      clock: PhaseClock,
    ): Promise<RankedFrame[]> {
      for (const vector of vectors.slice(scanFrom)) {
        const hits = await clock.time('firstStage', () => store.vectors.search(FRAME_COMPACT_COLLECTION, compact.project(vector), FIRST_STAGE_SHORTLIST, filter));
        for (const hit of hits) state.hits.set(hit.id, hit);
      }
      if (layoutPictures.length > 0) {
        const layoutHits = await clock.time('colorLayout', () => colorLayoutRanked(layoutPictures, COLOR_LAYOUT_SHORTLIST, filter));
        layoutHits.forEach(({ hit }, i) => {
          if (!state.hits.has(hit.id)) state.hits.set(hit.id, hit);
          if (!state.colorLayoutRank.has(hit.id)) state.colorLayoutRank.set(hit.id, i + 1);
        });
      }
      const ids = [...state.hits.keys()];
      await clock.time('rerank', () => scoreNewPairs(vectors, ids, state));
      // Best cosine per frame over the variants, and the CNN rank: its place in its best variant's list.
      const best = new Map<string, { score: number; variant: number; cnnRank: number | null }>();
      vectors.forEach((_, variant) => {
        const cosines = state.cosines[variant]!;
        const scored = ids.flatMap((id) => {
          const score = cosines.get(id)!;
          return Number.isNaN(score) ? [] : [{ id, score }];
        });
        scored.sort((a, b) => b.score - a.score);
        scored.forEach(({ id, score }, i) => {
          const seen = best.get(id);
          const cnnRank = i < SHORTLIST ? i + 1 : null;
          if (!seen || score > seen.score) best.set(id, { score, variant, cnnRank: cnnRank ?? seen?.cnnRank ?? null });
          else if (cnnRank !== null && (seen.cnnRank === null || cnnRank < seen.cnnRank)) seen.cnnRank = cnnRank;
        });
      });
      const ranked: RankedFrame[] = [];
      for (const id of ids) {
        const cnn = best.get(id);
        const fused = fusedScore(cnn?.cnnRank ?? null, state.colorLayoutRank.get(id) ?? null);
        if (fused > 0) ranked.push({ hit: state.hits.get(id)!, score: cnn?.score ?? 0, fused, variant: cnn?.variant ?? 0 });
      }
      return ranked.sort((a, b) => b.fused - a.fused || b.score - a.score);
    },
  };
}

/** One candidate per (video, moment): the best-ranked frame of each cluster of nearby hits. */
export function collapse(ranked: readonly RankedFrame[], limit: number): Group[] {
  const groups: Group[] = [];
  for (const { hit, score, fused, variant } of ranked) {
    const payload = hit.payload as Partial<FramePayload>;
    if (typeof payload.videoId !== 'string' || typeof payload.time !== 'number') continue;
    const time = payload.time;
    const same = groups.find((g) => g.videoId === payload.videoId && Math.abs(g.time - time) < SAME_MOMENT_SEC);
    if (same) {
      same.shortlisted.push(time);
      same.score = Math.max(same.score, score);
    } else if (groups.length < limit) {
      groups.push({ videoId: payload.videoId, time, from: payload.from ?? time, to: payload.to ?? time, score, fused, variant, shortlisted: [time] });
    }
  }
  return groups;
}

/**
 * The order the cascade verifies candidates in: each video's best candidate first (in fused
 * order), then the other candidates. A look-alike corpus fills the top of the list with one
 * wrong video's neighbouring moments otherwise.
 */
export function cascadeOrder(groups: readonly Group[]): Group[] {
  const seen = new Set<string>();
  const firsts: Group[] = [];
  const rest: Group[] = [];
  for (const group of groups) {
    if (seen.has(group.videoId)) rest.push(group);
    else {
      seen.add(group.videoId);
      firsts.push(group);
    }
  }
  return [...firsts, ...rest];
}
