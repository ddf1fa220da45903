// The answer list: verified candidates with their calibrated confidences, then the unverified
// ones in first-stage order; one answer per (video, moment).
// When nothing verifies (ORB finds < MIN_INLIERS on recoloured, blurred or low-texture frames),
// the first stage's frame stays the moment: searching by pixels instead (the screenshot's content
// region as the whole frame or a crop of it, both orientations, localisation's score) was tried
// three ways (branch acc23: the leader's ±20 s; with crops; among the first 5 candidates only).
// Each fixed the motion set's fit-half miss (Tears of Steel, 70 % crop, 8 s off) but lost on
// held-out Sintel, whose first-stage frames were already right for 12 of 17 unverified screenshots:
// report half 0.875 → 0.85 / 0.80 / 0.80, hard set 0.938 unchanged (2 fixed, 2 broken).
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
  /** The strongest verification's localisation, when it ran. */
  localised: { verification: Verification; localisation: Localisation } | null;
  videos: ReadonlyMap<string, VideoRecord>;
}

/** Matches before segment lookup and merging, best first. */
export function rankedMatches(input: AnswerInput): Omit<ImageMatch, 'segmentId'>[] {
  const { groups, verified, localised, videos } = input;
  const byKey = new Map<string, Verification>();
  for (const v of verified) if (v.inliers >= MIN_INLIERS) byKey.set(`${v.group.videoId}:${v.group.time}`, v);
  const candidates = new Map<string, Group>(groups.map((g) => [`${g.videoId}:${g.time}`, g]));
  for (const [key, v] of byKey) if (!candidates.has(key)) candidates.set(key, v.group);
  const matches: (Omit<ImageMatch, 'segmentId'> & { fused: number })[] = [];
  for (const [key, group] of candidates) {
    const video = videos.get(group.videoId);
    if (!video) continue;
    const check = byKey.get(key);
    const inliers = check?.inliers ?? 0;
    const rival = rivalInliers(verified, group.videoId);
    const similarity = calibratedSimilarity(inliers, rival);
    const located = localised && check === localised.verification ? localised.localisation : null;
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
    });
  }
  return mergeSameMoments(matches.sort((a, b) => b.similarity - a.similarity || b.fused - a.fused)).map(({ fused: _fused, ...match }) => match);
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
