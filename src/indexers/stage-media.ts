// How a stage reads the video: through the job's shared source when it runs in the pipeline,
// else (a stage run on its own, as tests do) with a decode of its own. Same frames either way.
import { abortError } from '../media/process.js';
import { extractAudioPcm, extractFrame, streamAudioPcm, streamFrames, type RawFrame } from '../media/frames.js';
import type { FrameRequest, ShotKeyframe } from '../media/source.js';
import type { StageContext } from './stage.js';

export async function* stageFrames(ctx: StageContext, request: FrameRequest, signal: AbortSignal = ctx.signal): AsyncGenerator<RawFrame> {
  if (!ctx.source) {
    yield* streamFrames(ctx.media, ctx.video.path, { ...request, signal });
    return;
  }
  for await (const frame of ctx.source.frames({ ...request, signal })) {
    // The shared decode goes on for the other stages; this stage stops at its own deadline.
    if (signal.aborted) throw abortError(signal);
    yield frame;
  }
}

/** The frame at a time (an accurate seek), `width` wide, RGB; with the stage's luma measure when a kept candidate served it. */
export function stageFrameAt(ctx: StageContext, time: number, width: number): Promise<ShotKeyframe> {
  if (ctx.source) return ctx.source.frameAt(time, width);
  return extractFrame(ctx.media, ctx.video.path, time, { width, format: 'rgb24', signal: ctx.signal });
}

/** The whole sound track, mono, at `sampleRate`. */
export function stageAudio(ctx: StageContext, sampleRate: number): Promise<Float32Array> {
  if (ctx.source) return ctx.source.audio(sampleRate);
  return extractAudioPcm(ctx.media, ctx.video.path, { sampleRate, channels: 1, signal: ctx.signal });
}

/** The sound track in chunks of `chunkSamples` (the last one shorter). */
export async function* stageAudioChunks(ctx: StageContext, sampleRate: number, chunkSamples: number): AsyncGenerator<Float32Array> {
  if (!ctx.source) {
    yield* streamAudioPcm(ctx.media, ctx.video.path, { sampleRate, channels: 1, signal: ctx.signal, chunkSamples });
    return;
  }
  const pcm = await ctx.source.audio(sampleRate);
  for (let offset = 0; offset < pcm.length; offset += chunkSamples) yield pcm.slice(offset, offset + chunkSamples);
}
