// Runs the indexing stages of one job in order. Each stage's output is checkpointed as a catalog
// artifact before the job records the stage as done, so a job resumed after a crash (or a
// graceful hand-back) skips finished stages and reloads their outputs instead of decoding again.
// To add a stage: write it in its own file and put it in INDEX_STAGES after the stages whose
// stored results it reads.
import type { Config } from '../config.js';
import type { JobRecord, VideoRecord } from '../domain.js';
import { AppError, errorMessage, UnsupportedMediaError } from '../errors.js';
import type { Logger } from '../logger.js';
import { MediaDecodeError } from '../media/frames.js';
import type { MediaTools } from '../media/tools.js';
import { stageDuration } from '../observability/metrics.js';
import type { Store } from '../store/interfaces.js';
import { facesStage } from './faces.js';
import { fingerprintsStage } from './fingerprints.js';
import { framesStage } from './frames.js';
import { highlightsStage } from './highlights.js';
import { nsfwStage } from './nsfw.js';
import { objectsStage } from './objects.js';
import { scenesStage } from './scenes.js';
import { ocrStage } from './ocr.js';
import { probeStage } from './probe.js';
import { qualityStage } from './quality.js';
import { segmentsStage } from './segments.js';
import { shotsStage } from './shots.js';
import type { Stage, StageContext } from './stage.js';
import { technicalCuesStage } from './technical-cues.js';
import { subtitlesStage } from './subtitles.js';
import { textStage } from './text.js';
import { voicesStage } from './voices.js';

/** Outputs of the stages run so far in this job, by stage name (a stage's input). */
export type StageOutputs = Readonly<Record<string, unknown>>;

export type PipelineStage = Stage<StageOutputs, unknown>;

export const INDEX_STAGES: readonly PipelineStage[] = [
  probeStage, // duration, fps, size, rotation → the video record
  shotsStage, // shot boundaries + keyframes
  segmentsStage, // search units (shots split into bounded windows)
  framesStage, // image-search descriptors of sampled frames (CNN + ColorLayout)
  fingerprintsStage, // one 4 fps/128 px + 8 kHz pass: head/tail fingerprints → series intro/outro; picture/sound signals
  technicalCuesStage, // black, bars, slates, borders, freezes, silence from the fingerprints signals (no decode)
  subtitlesStage, // sidecar and embedded subtitle cues
  ocrStage, // burned-in subtitles and on-screen text (needs shots)
  facesStage, // face tracks, identities, FACE spans (needs shots)
  voicesStage, // speech turns, identities, VOICE spans (links to face tracks)
  objectsStage, // COCO objects on shot keyframes → OBJECT tags
  qualityStage, // per-shot sharpness (faces too), blockiness, brightness, contrast on grey I-frames → clean posters
  nsfwStage, // nsfwjs on I-frames (+ keyframes of shots without one) → visual moderation flags per segment
  scenesStage, // HEURISTIC scene/mood tags + per-segment signals (needs faces, objects)
  highlightsStage, // per-segment highlight features, normalised per video
  textStage, // every cue and the video's metadata into the text index (needs all cues)
];

export interface PipelineDeps {
  store: Store;
  media: MediaTools;
  config: Config;
  log: Logger;
}

export interface PipelineProgress {
  stage: string;
  progress: number;
  stagesDone: string[];
}

export interface PipelineHooks {
  signal: AbortSignal;
  onProgress(progress: PipelineProgress): Promise<void>;
}

/** Throws when a stage is listed before a stage it `needs` (or needs one that is not listed). */
export function checkStageOrder(stages: readonly PipelineStage[]): void {
  const seen = new Set<string>();
  for (const stage of stages) {
    for (const need of stage.needs ?? []) {
      if (!seen.has(need)) throw new AppError('INTERNAL_SERVER_ERROR', `stage ${stage.name} needs ${need}, which does not run before it`);
    }
    seen.add(stage.name);
  }
}

/** Intra-stage progress is reported at most this often (stages may report per frame). */
const PROGRESS_INTERVAL_MS = 500;

/** How long a stage may run before it is abandoned as hung: a floor, plus time per media second. */
export function stageTimeoutMs(config: Config, durationSec: number): number {
  const { stageTimeoutMinSec, stageTimeoutPerMediaSec } = config.indexing;
  return 1000 * Math.max(stageTimeoutMinSec, stageTimeoutPerMediaSec * Math.max(0, durationSec || 0));
}

export class StageTimeoutError extends Error {
  override name = 'StageTimeoutError';
  constructor(stage: string, timeoutMs: number) {
    super(`stage ${stage} timed out after ${Math.round(timeoutMs / 1000)} s`);
  }
}

/** Rejects with the signal's reason once it aborts (never resolves). */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

/**
 * Stages without which a video cannot be found at all: their failure fails the job. Any other
 * stage (faces, OCR, voices, objects, …) that fails or times out is checkpointed as failed and the
 * job goes on, so one weak model never costs the whole video.
 */
export const ESSENTIAL_STAGES: ReadonlySet<string> = new Set(['probe', 'shots', 'segments', 'subtitles', 'text']);

/** The checkpoint of an enrichment stage that failed. */
export interface FailedStageOutput {
  failed: true;
  reason: string;
}

/** The essential stages plus the chosen enrichment stages (VIDSEARCH_STAGES), in pipeline order. */
export function selectStages(all: readonly PipelineStage[], enrichment: readonly string[] | null): PipelineStage[] {
  if (enrichment === null) return [...all];
  const unknown = enrichment.filter((name) => !all.some((s) => s.name === name));
  if (unknown.length) throw new AppError('BAD_USER_INPUT', `VIDSEARCH_STAGES names unknown stages: ${unknown.join(', ')}`);
  // A chosen stage brings the stages it reads from (scenes needs faces and objects, …).
  const chosen = new Set([...ESSENTIAL_STAGES, ...enrichment]);
  for (const stage of [...all].reverse()) {
    if (chosen.has(stage.name)) for (const need of stage.needs ?? []) chosen.add(need);
  }
  return all.filter((s) => chosen.has(s.name));
}

function essentialStageError(stage: string, videoPath: string, failure: unknown): unknown {
  if (failure instanceof AppError || failure instanceof StageTimeoutError) return failure;
  // Probed fine but broke part-way: the file, not the system, is at fault.
  if (failure instanceof MediaDecodeError) return new UnsupportedMediaError(`${videoPath} cannot be decoded: ${failure.message}`);
  return new Error(`stage ${stage}: ${errorMessage(failure)}`, { cause: failure });
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(`aborted: ${String(signal.reason)}`);
}

export async function runIndexPipeline(
  deps: PipelineDeps,
  job: JobRecord,
  hooks: PipelineHooks,
  stages: readonly PipelineStage[] = selectStages(INDEX_STAGES, deps.config.indexing.enrichmentStages),
): Promise<void> {
  const { store, log } = deps;
  checkStageOrder(stages);
  if (!job.videoId) throw new AppError('BAD_USER_INPUT', `job ${job.id} names no video`);
  const videoId = job.videoId;
  const initial = await store.catalog.getVideo(videoId);
  if (!initial) throw new AppError('NOT_FOUND', `video ${videoId} of job ${job.id} no longer exists`);
  const wasReady = initial.status === 'READY';
  await store.catalog.updateVideo(videoId, { status: wasReady ? 'READY' : 'INDEXING', error: null });

  const totalWeight = stages.reduce((sum, s) => sum + s.weight, 0);
  const stagesDone = job.stagesDone.filter((name) => stages.some((s) => s.name === name));
  const outputs: Record<string, unknown> = {};
  let weightDone = 0;

  try {
    for (const stage of stages) {
      throwIfAborted(hooks.signal);
      if (stagesDone.includes(stage.name)) {
        const saved = await store.catalog.getArtifact<unknown>(videoId, stage.name);
        if (saved !== null) {
          outputs[stage.name] = saved;
          weightDone += stage.weight;
          continue;
        }
        // Marked done but its checkpoint is gone: run it again.
        stagesDone.splice(stagesDone.indexOf(stage.name), 1);
      }

      const video = (await store.catalog.getVideo(videoId)) as VideoRecord;
      let lastReport = 0;
      let reporting: Promise<void> = Promise.resolve();
      const report = (fraction: number): void => {
        const now = Date.now();
        if (now - lastReport < PROGRESS_INTERVAL_MS) return;
        lastReport = now;
        const progress = (weightDone + stage.weight * Math.min(1, Math.max(0, fraction))) / totalWeight;
        reporting = reporting.then(() => hooks.onProgress({ stage: stage.name, progress, stagesDone: [...stagesDone] }));
      };
      // The stage sees the deadline through its signal (ffmpeg children are killed, loops stop).
      const timeoutMs = stageTimeoutMs(deps.config, video.durationSec);
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(new StageTimeoutError(stage.name, timeoutMs)), timeoutMs);
      const signal = AbortSignal.any([hooks.signal, deadline.signal]);
      const ctx: StageContext = { ...deps, video, signal, log: log.child({ stage: stage.name }), reportProgress: report };

      await hooks.onProgress({ stage: stage.name, progress: weightDone / totalWeight, stagesDone: [...stagesDone] });
      const started = performance.now();
      const elapsedSec = (): number => (performance.now() - started) / 1000;
      let output: unknown;
      try {
        // The race fails the job at the deadline even when a model call cannot be interrupted.
        output = await Promise.race([stage.run(ctx, outputs), rejectOnAbort(deadline.signal)]);
        stageDuration.observe({ stage: stage.name, outcome: 'done' }, elapsedSec());
      } catch (err) {
        const outcome = hooks.signal.aborted ? 'aborted' : deadline.signal.aborted ? 'timeout' : 'failed';
        stageDuration.observe({ stage: stage.name, outcome }, elapsedSec());
        throwIfAborted(hooks.signal);
        const failure: unknown = deadline.signal.aborted ? deadline.signal.reason : err;
        if (ESSENTIAL_STAGES.has(stage.name)) throw essentialStageError(stage.name, video.path, failure);
        // An enrichment stage that fails is recorded in its checkpoint; the video stays searchable.
        ctx.log.warn({ err: errorMessage(failure) }, 'stage failed; the job goes on without it');
        output = { failed: true, reason: errorMessage(failure) } satisfies FailedStageOutput;
      } finally {
        clearTimeout(timer);
      }
      await reporting;
      await store.catalog.putArtifact(videoId, stage.name, output ?? null);
      outputs[stage.name] = output;
      stagesDone.push(stage.name);
      weightDone += stage.weight;
      ctx.log.debug({ ms: Math.round(performance.now() - started) }, 'stage finished');
      await hooks.onProgress({ stage: stage.name, progress: weightDone / totalWeight, stagesDone: [...stagesDone] });
    }
    await store.catalog.updateVideo(videoId, { status: 'READY', error: null });
  } catch (err) {
    if (!hooks.signal.aborted) {
      // A failed re-index keeps the previous results searchable; a first index is marked FAILED.
      await store.catalog.updateVideo(videoId, { status: wasReady ? 'READY' : 'FAILED', error: errorMessage(err) });
    }
    throw err;
  }
}
