// Stage "segments": shots → segments (the unit search results point at). A shot longer than
// maxSegmentSec is split into equal windows no longer than that; each segment gets a keyframe.
// Stores shots and segments together in one atomic replace.
import type { SegmentRecord, ShotRecord } from '../domain.js';
import type { ShotsOutput } from './shots.js';
import type { Stage } from './stage.js';

export function segmentId(videoId: string, index: number): string {
  return `${videoId}:seg:${index}`;
}

/** The best-quality sample inside [from, to), or null when none. */
function bestSampleIn(quality: readonly [number, number][], from: number, to: number): number | null {
  let best: [number, number] | null = null;
  for (const sample of quality) if (sample[0] >= from && sample[0] < to && (!best || sample[1] > best[1])) best = sample;
  return best && best[1] > 0 ? best[0] : null;
}

export function splitIntoSegments(
  videoId: string,
  shots: readonly ShotRecord[],
  quality: readonly [number, number][],
  maxSegmentSec: number,
): SegmentRecord[] {
  const segments: SegmentRecord[] = [];
  for (const shot of shots) {
    const length = shot.end - shot.start;
    // Balanced windows: a 25 s shot with a 10 s limit is three 8.3 s segments, not 10+10+5.
    const count = Math.max(1, Math.ceil(length / maxSegmentSec - 1e-9));
    const step = length / count;
    for (let w = 0; w < count; w++) {
      const start = shot.start + w * step;
      const end = w === count - 1 ? shot.end : shot.start + (w + 1) * step;
      const keyframeTime =
        shot.keyframeTime >= start && shot.keyframeTime < end
          ? shot.keyframeTime
          : (bestSampleIn(quality, start + 0.1 * step, end - 0.1 * step) ?? (start + end) / 2);
      segments.push({ id: segmentId(videoId, segments.length), videoId, index: segments.length, shotIndex: shot.index, start, end, keyframeTime });
    }
  }
  return segments;
}

export const segmentsStage: Stage<{ shots: ShotsOutput }, SegmentRecord[]> & { name: 'segments' } = {
  name: 'segments',
  weight: 0.2,
  needs: ['shots'],
  async run(ctx, { shots }) {
    const segments = splitIntoSegments(ctx.video.id, shots.shots, shots.quality, ctx.config.indexing.maxSegmentSec);
    await ctx.store.catalog.replaceStructure(ctx.video.id, shots.shots, segments);
    return segments;
  },
};
