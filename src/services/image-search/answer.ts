// The answer list: verified candidates with their calibrated confidences, then the unverified
// ones in first-stage order; one answer per (video, moment).
import type { VideoRecord } from '../../domain.js';
import { calibratedSimilarity, calibratedTimeConfidence } from './calibration.js';
import { SAME_MOMENT_SEC } from './candidates.js';
import type { Localisation } from './localisation.js';
import type { Group, ImageMatch } from './types.js';
import { MIN_INLIERS } from './calibration.js';
import { rivalInliers, type Verification } from './verification.js';

export interface AnswerInput {
  groups: readonly Group[];
  verified: readonly Verification[];
  /**
   * The localised answer: the strongest verification's, or, when nothing verified, the first
   * stage's leading candidate's (unverified-moment.ts).
   */
  localised: { verification: Verification; localisation: Localisation } | { group: Group; localisation: Localisation } | null;
  videos: ReadonlyMap<string, VideoRecord>;
}

/** Matches before segment lookup and merging, best first. */
export function rankedMatches(input: AnswerInput): Omit<ImageMatch, 'segmentId'>[] {
  const { groups, verified, localised, videos } = input;
  const byKey = new Map<string, Verification>();
  for (const v of verified) if (v.inliers >= MIN_INLIERS) byKey.set(`${v.group.videoId}:${v.group.time}`, v);
  const candidates = new Map<string, Group>(groups.map((g) => [`${g.videoId}:${g.time}`, g]));
  for (const [key, v] of byKey) if (!candidates.has(key)) candidates.set(key, v.group);
  const matches: (Omit<ImageMatch, 'segmentId'> & { fused: number; chosen: boolean })[] = [];
  for (const [key, group] of candidates) {
    const video = videos.get(group.videoId);
    if (!video) continue;
    const check = byKey.get(key);
    const inliers = check?.inliers ?? 0;
    const rival = rivalInliers(verified, group.videoId);
    const similarity = calibratedSimilarity(inliers, rival);
    const located = localisationOf(localised, key, check);
    const at = located?.at ?? check?.frameTime ?? group.time;
    matches.push({
      video,
      at,
      from: located?.from ?? Math.min(group.from, at),
      to: located?.to ?? Math.max(group.to, at),
      similarity,
      timeConfidence: calibratedTimeConfidence(similarity, located),
      frameTime: check?.stored ? (located?.bestTime ?? check.frameTime) : null,
      descriptorScore: group.score,
      inliers,
      rivalInliers: rival,
      momentMargin: located?.margin ?? null,
      fused: group.fused,
      chosen: located !== null && !check,
    });
  }
  // Nothing verified: the candidate the pixels chose (unverified-moment.ts) leads the equally unproven others.
  const lead = (m: { chosen: boolean }) => Number(m.chosen);
  return mergeSameMoments(matches.sort((a, b) => b.similarity - a.similarity || lead(b) - lead(a) || b.fused - a.fused)).map(({ fused: _fused, chosen: _chosen, ...match }) => match);
}

/** The localisation that belongs to the candidate at `key` (verified by `check`), if any. */
function localisationOf(localised: AnswerInput['localised'], key: string, check: Verification | undefined): Localisation | null {
  if (!localised) return null;
  if ('verification' in localised) return check === localised.verification ? localised.localisation : null;
  return !check && key === `${localised.group.videoId}:${localised.group.time}` ? localised.localisation : null;
}

/**
 * Two answers of one video whose stretches overlap are one moment found twice (a long shot split
 * by the shortlist): the better one stays, spanning both when the other is about as strong.
 */
export function mergeSameMoments<T extends Omit<ImageMatch, 'segmentId'>>(ranked: readonly T[]): T[] {
  const kept: T[] = [];
  for (const match of ranked) {
    const twin = kept.find((k) => k.video.id === match.video.id && match.from <= k.to + SAME_MOMENT_SEC / 2 && match.to >= k.from - SAME_MOMENT_SEC / 2);
    if (!twin) {
      kept.push({ ...match });
      continue;
    }
    if (twin.inliers > 0 && match.inliers >= 0.9 * twin.inliers && twin.timeConfidence <= match.timeConfidence) {
      twin.from = Math.min(twin.from, match.from);
      twin.to = Math.max(twin.to, match.to);
    }
  }
  return kept;
}
