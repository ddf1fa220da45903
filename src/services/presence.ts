// Only-watch-TA (只看TA): when are these actors on screen (or heard) in a video, as spans and a
// playlist; every actor's timeline in a video; an actor's appearances across the library.
//
// Fusion rule (per actor): time is cut at every span boundary; in each piece f and v are the
// highest confidences of the actor's FACE and VOICE spans covering it (0 when none), and the actor
// is present when  FUSION.faceWeight·f + FUSION.voiceWeight·v ≥ FUSION.threshold.  The pieces are
// the bins: exact on the boundaries, so no bin width to tune. A reported span says FACE, VOICE or
// BOTH by which kinds of evidence carried it. Weights and threshold were chosen on the dev set
// (src/models/voice/README.md, "Fusion").
import type { VideoRecord } from '../domain.js';
import { BadInputError, NotFoundError } from '../errors.js';
import type { AppearanceRepository, AppearanceSpanRecord, SpanEvidence } from '../store/appearances.js';
import type { ActorRepository } from '../store/actors.js';
import type { Catalog } from '../store/interfaces.js';
import { pageFromStore, type Connection } from './pagination.js';

export type WatchMode = 'ANY' | 'ALL';
export type WatchEvidence = 'FACE' | 'VOICE' | 'BOTH';

/** Gaps this short between two appearances are bridged: a blink-long cutaway should not split a scene. */
export const DEFAULT_MERGE_GAP_SEC = 1.0;
/** Appearances shorter than this are dropped: a half-second glimpse is not worth a playlist entry. */
export const DEFAULT_MIN_SPAN_SEC = 0.5;
/** Every stored span passed its detector's acceptance threshold; callers may ask for more. */
export const DEFAULT_MIN_CONFIDENCE = 0;
export const MAX_WATCH_ACTORS = 50;
const MAX_SECONDS = 3600;

export interface OnlyWatchArgs {
  videoId: string;
  actorIds: readonly string[];
  mode?: WatchMode | null;
  minConfidence?: number | null;
  padSec?: number | null;
  mergeGapSec?: number | null;
  minSpanSec?: number | null;
}

export interface WatchSpan {
  start: number;
  end: number;
  /** The asked-for actors present somewhere in the span. */
  actors: string[];
  confidence: number;
  evidence: WatchEvidence;
  /** Best face shown in the span (for a thumbnail), when a face was seen. */
  bestFaceId: string | null;
}

export interface OnlyWatchResult {
  spans: WatchSpan[];
  totalSec: number;
  /** totalSec / video duration (0 for a zero-length video). */
  share: number;
  /** [start, end] pairs, the shape players take. */
  playlist: [number, number][];
}

export interface ActorTimeline {
  actorId: string;
  spans: WatchSpan[];
  totalSec: number;
}

/** score = faceWeight·faceConfidence + voiceWeight·voiceConfidence; present when score ≥ threshold. */
export interface FusionRule {
  faceWeight: number;
  voiceWeight: number;
  threshold: number;
}

/**
 * Calibrated on presence.json + test/fixtures/presence-hard.json (test/integration/voice-fusion-eval):
 * every rule with voiceWeight ≥ threshold scored the same there (voice matches sat near 1), so the
 * pick keeps the faces' own acceptance (0.5) and asks a voice heard alone for 0.625. Voice
 * confidence is logistic(normalised score − threshold) (models/voice/README.md), so 0.625 means
 * the same margin (0.51 normalised units) over the duration's threshold for every enrolled voice.
 */
export const FUSION: FusionRule = { faceWeight: 1, voiceWeight: 0.8, threshold: 0.5 };

export interface WatchOptions {
  mode: WatchMode;
  /** Defaults to FUSION. */
  fusion?: FusionRule;
  padSec: number;
  mergeGapSec: number;
  minSpanSec: number;
  /** The video's length: spans are clipped to [0, durationSec]. */
  durationSec: number;
}

interface Piece {
  start: number;
  end: number;
  actors: Set<string>;
  evidence: Set<SpanEvidence>;
  confidence: number;
  bestFaceId: string | null;
  bestFaceConfidence: number;
}

function absorb(into: Piece, other: Piece, confidence: (a: number, b: number) => number): void {
  into.end = Math.max(into.end, other.end);
  for (const actor of other.actors) into.actors.add(actor);
  for (const kind of other.evidence) into.evidence.add(kind);
  into.confidence = confidence(into.confidence, other.confidence);
  if (other.bestFaceConfidence > into.bestFaceConfidence) {
    into.bestFaceId = other.bestFaceId;
    into.bestFaceConfidence = other.bestFaceConfidence;
  }
}

/** Sorts and joins pieces that overlap or lie within `gap` of each other. */
function mergePieces(pieces: readonly Piece[], gap: number): Piece[] {
  const sorted = [...pieces].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Piece[] = [];
  for (const piece of sorted) {
    const last = out.at(-1);
    if (last && piece.start <= last.end + gap) absorb(last, piece, Math.max);
    else out.push({ ...piece, actors: new Set(piece.actors), evidence: new Set(piece.evidence) });
  }
  return out;
}

/** Where both lists cover time (two sorted, non-overlapping lists); confidence is the weaker side's. */
function intersect(a: readonly Piece[], b: readonly Piece[]): Piece[] {
  const out: Piece[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const start = Math.max(x.start, y.start);
    const end = Math.min(x.end, y.end);
    if (end > start) {
      const piece: Piece = { ...x, start, end, actors: new Set(x.actors), evidence: new Set(x.evidence) };
      absorb(piece, y, Math.min);
      piece.end = end;
      out.push(piece);
    }
    if (x.end < y.end) i++;
    else j++;
  }
  return out;
}

/** One actor's FACE and VOICE spans fused into the pieces of time where the rule says present. */
export function fusePresence(spans: readonly AppearanceSpanRecord[], rule: FusionRule): Piece[] {
  const cuts = [...new Set(spans.flatMap((s) => [s.start, s.end]))].sort((a, b) => a - b);
  const out: Piece[] = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    const [start, end] = [cuts[k]!, cuts[k + 1]!];
    const covering = spans.filter((s) => s.start < end && s.end > start);
    if (covering.length === 0) continue;
    const best = (kind: SpanEvidence) => covering.filter((s) => s.evidence === kind).reduce<AppearanceSpanRecord | null>((b, s) => (!b || s.confidence > b.confidence ? s : b), null);
    const face = best('FACE');
    const voice = best('VOICE');
    const faceScore = rule.faceWeight * (face?.confidence ?? 0);
    const voiceScore = rule.voiceWeight * (voice?.confidence ?? 0);
    if (faceScore + voiceScore < rule.threshold) continue;
    // Evidence is what carried the decision: a kind that adds nothing (weight 0) is not claimed.
    const evidence = new Set<SpanEvidence>([...(faceScore > 0 ? ['FACE' as const] : []), ...(voiceScore > 0 ? ['VOICE' as const] : [])]);
    out.push({
      start,
      end,
      actors: new Set([covering[0]!.actorId]),
      evidence,
      // The recognisers' own scale (0.5 at acceptance), as the API documents; the rule only decides presence.
      confidence: Math.max(faceScore > 0 ? face!.confidence : 0, voiceScore > 0 ? voice!.confidence : 0),
      bestFaceId: face?.bestFaceId ?? null,
      bestFaceConfidence: face?.bestFaceId ? face.confidence : -1,
    });
  }
  return out;
}

function toWatchSpan(piece: Piece): WatchSpan {
  const evidence: WatchEvidence = piece.evidence.has('FACE') ? (piece.evidence.has('VOICE') ? 'BOTH' : 'FACE') : 'VOICE';
  return {
    start: piece.start,
    end: piece.end,
    actors: [...piece.actors].sort(),
    confidence: piece.confidence,
    evidence,
    bestFaceId: piece.bestFaceId,
  };
}

const longEnough = (minSec: number) => (p: Piece) => p.end - p.start >= minSec - 1e-9;

/**
 * The only-watch answer from stored spans (pure; the service reads the spans). Per actor, FACE
 * and VOICE spans are fused (fusePresence) and gaps ≤ mergeGapSec bridged, then appearances shorter than
 * minSpanSec dropped. ANY unites the actors' spans; ALL keeps the times where every actor is
 * present. Finally spans are padded by padSec, clipped to the video and re-joined where padding
 * made them overlap.
 */
export function computeOnlyWatch(spans: readonly AppearanceSpanRecord[], actorIds: readonly string[], options: WatchOptions): OnlyWatchResult {
  const rule = options.fusion ?? FUSION;
  const perActor = actorIds.map((actorId) =>
    mergePieces(fusePresence(spans.filter((s) => s.actorId === actorId), rule), options.mergeGapSec).filter(longEnough(options.minSpanSec)),
  );
  let combined: Piece[];
  if (options.mode === 'ALL') {
    combined = perActor.length ? perActor.reduce((acc, next) => intersect(acc, next)) : [];
    combined = mergePieces(combined, options.mergeGapSec).filter(longEnough(options.minSpanSec));
  } else {
    combined = mergePieces(perActor.flat(), options.mergeGapSec);
  }
  const padded = mergePieces(
    combined.map((p) => ({ ...p, start: Math.max(0, p.start - options.padSec), end: Math.min(options.durationSec, p.end + options.padSec) })),
    0,
  ).filter((p) => p.end > p.start);
  const result = padded.map(toWatchSpan);
  const totalSec = result.reduce((sum, s) => sum + (s.end - s.start), 0);
  return {
    spans: result,
    totalSec,
    share: options.durationSec > 0 ? Math.min(1, totalSec / options.durationSec) : 0,
    playlist: result.map((s) => [s.start, s.end]),
  };
}

function numberArg(name: string, value: number | null | undefined, fallback: number, max: number): number {
  if (value === null || value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || value > max) throw new BadInputError(`${name} must be between 0 and ${max}`, { field: name, value });
  return value;
}

export interface PresenceService {
  onlyWatch(args: OnlyWatchArgs): Promise<OnlyWatchResult>;
  /** Every actor seen or heard in the video, each with its spans (service defaults), by name order of id. */
  actorTimeline(videoId: string): Promise<ActorTimeline[]>;
  /** An actor's stored spans across the library, by video then time. */
  appearances(actorId: string, first?: number | null, after?: string | null): Promise<Connection<AppearanceSpanRecord>>;
}

export interface PresenceServiceDeps {
  catalog: Pick<Catalog, 'getVideo'>;
  appearances: Pick<AppearanceRepository, 'getSpans' | 'getSpansOfVideo' | 'listSpansOfActor'>;
  actors: Pick<ActorRepository, 'getActor' | 'getActors'>;
}

export function createPresenceService(deps: PresenceServiceDeps): PresenceService {
  async function requireVideo(videoId: string): Promise<VideoRecord> {
    const video = await deps.catalog.getVideo(videoId);
    if (!video) throw new NotFoundError('video', videoId);
    return video;
  }

  const defaults = (video: VideoRecord, mode: WatchMode): WatchOptions => ({
    mode,
    padSec: 0,
    mergeGapSec: DEFAULT_MERGE_GAP_SEC,
    minSpanSec: DEFAULT_MIN_SPAN_SEC,
    durationSec: video.durationSec,
  });

  return {
    async onlyWatch(args) {
      const actorIds = [...new Set(args.actorIds)];
      if (actorIds.length === 0) throw new BadInputError('actorIds must name at least one actor', { field: 'actorIds' });
      if (actorIds.length > MAX_WATCH_ACTORS) throw new BadInputError(`at most ${MAX_WATCH_ACTORS} actors`, { field: 'actorIds' });
      const mode = args.mode ?? 'ANY';
      if (mode !== 'ANY' && mode !== 'ALL') throw new BadInputError('mode must be ANY or ALL', { field: 'mode' });
      const minConfidence = numberArg('minConfidence', args.minConfidence, DEFAULT_MIN_CONFIDENCE, 1);
      const video = await requireVideo(args.videoId);
      const options: WatchOptions = {
        ...defaults(video, mode),
        padSec: numberArg('padSec', args.padSec, 0, MAX_SECONDS),
        mergeGapSec: numberArg('mergeGapSec', args.mergeGapSec, DEFAULT_MERGE_GAP_SEC, MAX_SECONDS),
        minSpanSec: numberArg('minSpanSec', args.minSpanSec, DEFAULT_MIN_SPAN_SEC, MAX_SECONDS),
      };
      const found = await deps.actors.getActors(actorIds);
      const missing = actorIds.find((_, i) => found[i] === null);
      if (missing) throw new NotFoundError('actor', missing);
      const spans = await deps.appearances.getSpans(video.id, actorIds, minConfidence);
      return computeOnlyWatch(spans, actorIds, options);
    },

    async actorTimeline(videoId) {
      const video = await requireVideo(videoId);
      const spans = await deps.appearances.getSpansOfVideo(videoId);
      const mentioned = [...new Set(spans.map((s) => s.actorId))].sort();
      // A deleted actor's leftover spans are not a timeline.
      const existing = await deps.actors.getActors(mentioned);
      const actorIds = mentioned.filter((_, i) => existing[i] !== null);
      return actorIds
        .map((actorId) => {
          const result = computeOnlyWatch(spans.filter((s) => s.actorId === actorId), [actorId], defaults(video, 'ANY'));
          return { actorId, spans: result.spans, totalSec: result.totalSec };
        })
        .filter((timeline) => timeline.spans.length > 0);
    },

    async appearances(actorId, first, after) {
      if (!(await deps.actors.getActor(actorId))) throw new NotFoundError('actor', actorId);
      return pageFromStore((page) => deps.appearances.listSpansOfActor(actorId, page), first, after);
    },
  };
}
