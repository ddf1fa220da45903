// Stage "probe": the full ffprobe of the file, written onto the video record (duration, rate,
// displayed size, rotation, start time, audio) so later stages and the API see the real values.
import { probeMedia, type MediaProbe } from '../media/probe.js';
import type { Stage } from './stage.js';

export const probeStage: Stage<Record<string, never>, MediaProbe> & { name: 'probe' } = {
  name: 'probe',
  weight: 0.1,
  async run(ctx) {
    const probe = await probeMedia(ctx.media, ctx.video.path, { timeoutMs: ctx.config.indexing.probeTimeoutMs, signal: ctx.signal });
    const { durationSec, fps, width, height, rotation, startTime, hasAudio } = probe;
    await ctx.store.catalog.putVideo({ ...ctx.video, durationSec, fps, width, height, rotation, startTime, hasAudio, updatedAt: new Date().toISOString() });
    return probe;
  },
};
