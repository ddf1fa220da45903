// From nsfwjs's per-frame probabilities to a graded visual risk per segment and label.
//
// Why not "one frame over the threshold flags the segment" (the first rule): on footage it was
// never tuned on, single benign frames (an audience shot at Porn 0.71, a talking-head close-up at
// 0.78) vetoed every ad of their segment. The rule now:
//   1. Frame evidence. Porn and Sexy fire on faces filling the frame and on crowds of faces, while
//      nudity shows skin beyond the faces: their probability is weighed by a gate on the share of
//      the frame that is skin outside every face's head region (src/models/nsfw/skin.ts). Hentai
//      (drawings) keeps its probability.
//   2. Segment score. Two frames must agree (the second-best evidence), unless one frame alone is
//      far above the line (SINGLE_FRAME). A lone strong frame still raises the graded risk, up to
//      the flag line, but never over it.
//   3. Risk. The score on a 0..1 scale where each label's flag line sits at 0.5 (piecewise linear),
//      so one tolerance (`maxVisualRisk` on an ad) means the same for every label. A segment is
//      flagged when its risk is above 0.5.
//
// Provenance (bench/nsfw-calibration.ts prints all of it): LABEL_LINE is nsfwjs's usual decision
// level (0.6; Sexy higher because it covers swimwear and kisses), not fitted. SKIN_GATE and
// SINGLE_FRAME were fitted on the "fit" half (by a hash of the file path) of the benign dev media
// (the ../shared/data videos at 1 fps, the face photos and their close-up crops, blurs and
// crowd montages) so that no benign frame of that half passes the line, and are reported on the
// other half. The dev media hold no explicit positives, so recall is not measured: the gate only
// takes away evidence where skin outside faces is scarce.
import type { SegmentRecord } from '../domain.js';
import type { NsfwScores } from '../models/nsfw/index.js';
import type { VisualFlagRecord, VisualModerationLabel } from '../store/technical.js';

export const VISUAL_LABELS: readonly VisualModerationLabel[] = ['PORN', 'HENTAI', 'SEXY'];
export const LABEL_CLASS: Record<VisualModerationLabel, keyof NsfwScores> = { PORN: 'Porn', HENTAI: 'Hentai', SEXY: 'Sexy' };

/** The frame probability each label's flag line stands for (nsfwjs's usual decision levels). */
export const LABEL_LINE: Record<VisualModerationLabel, number> = { PORN: 0.6, HENTAI: 0.6, SEXY: 0.8 };
/** Labels whose evidence needs skin outside faces. */
export const SKIN_GATED: ReadonlySet<VisualModerationLabel> = new Set(['PORN', 'SEXY']);
/**
 * Skin outside faces (share of the frame) below `from` gives no evidence, above `to` full
 * evidence, linear between. Fitted on the fit half of the benign dev media (bench/nsfw-calibration).
 */
export const SKIN_GATE: SkinGate = { from: 0.13, to: 0.31 };

export interface SkinGate {
  from: number;
  to: number;
}
/** Evidence at which one frame alone flags its segment. Fitted like SKIN_GATE. */
export const SINGLE_FRAME: Record<VisualModerationLabel, number> = { PORN: 0.9, HENTAI: 0.9, SEXY: 0.95 };
/** Risk at and below which nothing is flagged. */
export const FLAG_RISK = 0.5;
/** Segment records below this risk are not stored (noise of neutral frames). */
export const RISK_FLOOR = 0.1;
const MAX_EVIDENCE = 3;

/** One classified frame, with the skin share outside faces when it was measured (null: not needed). */
export interface ScoredFrame {
  time: number;
  scores: NsfwScores;
  skinOutsideFaces: number | null;
}

/** The frame probability below which a label's risk stays under RISK_FLOOR (no gate needed). */
export function floorProbability(label: VisualModerationLabel): number {
  return (RISK_FLOOR / FLAG_RISK) * LABEL_LINE[label];
}

/** Whether the frame's skin share must be measured before its evidence can be known. */
export function needsSkinShare(scores: NsfwScores): boolean {
  return VISUAL_LABELS.some((label) => SKIN_GATED.has(label) && scores[LABEL_CLASS[label]] >= floorProbability(label));
}

function skinWeight(skinShare: number | null, gate: SkinGate): number {
  if (skinShare === null) return 0;
  return Math.min(1, Math.max(0, (skinShare - gate.from) / (gate.to - gate.from)));
}

/** A frame's evidence for a label (0..1); the gate is a parameter for the calibration bench. */
export function frameEvidence(frame: ScoredFrame, label: VisualModerationLabel, gate: SkinGate = SKIN_GATE): number {
  const probability = frame.scores[LABEL_CLASS[label]];
  if (!SKIN_GATED.has(label) || probability < floorProbability(label)) return probability;
  return probability * skinWeight(frame.skinOutsideFaces, gate);
}

/** A label's segment score from its frames' evidence, best first. */
export function segmentScore(label: VisualModerationLabel, evidence: readonly number[]): number {
  const [best = 0, second = 0] = evidence;
  if (best >= SINGLE_FRAME[label]) return best;
  // One frame alone may reach the line but not cross it.
  return Math.max(second, Math.min(best, LABEL_LINE[label]));
}

/** The score on the common risk scale: the label's line maps to FLAG_RISK, 0 → 0 and 1 → 1. */
export function riskOf(label: VisualModerationLabel, score: number): number {
  const line = LABEL_LINE[label];
  const risk = score <= line ? (FLAG_RISK * score) / line : FLAG_RISK + ((1 - FLAG_RISK) * (score - line)) / (1 - line);
  return Math.round(risk * 1000) / 1000;
}

/** Graded risk per segment and label (records under RISK_FLOOR left out), in segment order. */
export function visualRisks(videoId: string, segments: readonly SegmentRecord[], frames: readonly ScoredFrame[], modelId: string): VisualFlagRecord[] {
  const records: VisualFlagRecord[] = [];
  for (const segment of segments) {
    const inside = frames.filter((f) => f.time >= segment.start && f.time < segment.end);
    for (const label of VISUAL_LABELS) {
      const ranked = inside.map((frame) => ({ time: frame.time, evidence: frameEvidence(frame, label) })).sort((a, b) => b.evidence - a.evidence);
      const score = segmentScore(label, ranked.map((r) => r.evidence));
      const risk = riskOf(label, score);
      if (risk < RISK_FLOOR) continue;
      records.push({
        id: `${segment.id}:nsfw:${label}`,
        videoId,
        segmentId: segment.id,
        label,
        start: segment.start,
        end: segment.end,
        score: Math.round(score * 1000) / 1000,
        risk,
        flagged: risk > FLAG_RISK,
        evidenceTimes: ranked.filter((r) => r.evidence > 0).slice(0, MAX_EVIDENCE).map((r) => r.time),
        modelId,
      });
    }
  }
  return records;
}
