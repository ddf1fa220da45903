// Runs the indexing stages of one job: a stage starts as soon as the stages it needs (`needs`, and
// `after` when those were chosen) are done, up to `indexing.stageConcurrency` at once, so stages
// that do not depend on each other run side by side. They read the video through one shared
// source (src/media/source.ts): one decode feeds every stage that is running or ready. Each
// stage's output is checkpointed as a catalog artifact before the job records the stage as done,
// so a job resumed after a crash (or a graceful hand-back) skips finished stages and reloads their
// outputs instead of decoding again. A stage that `awaits` stages starts once its `needs` are done
// and waits for those inside its run (faces and OCR read their frames during the job's one decode,
// before the shots are known), outside the stage slots; one that `awaitsAfter` stages does the same
// for stages it reads only when they run (stage-order.ts: what waits for what, and which stage a
// free slot goes to). To add a stage: write it in its own file, declare what it needs, and put it
// in INDEX_STAGES after those stages.
import type { Config } from '../config.js';
import type { JobRecord, VideoRecord } from '../domain.js';
import { AppError, errorMessage, UnsupportedMediaError } from '../errors.js';
import type { Logger } from '../logger.js';
import { MediaDecodeError } from '../media/frames.js';
import { MediaSource } from '../media/source.js';
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
import { allNeeds, checkStageOrder, criticalPathWeights, stagePrerequisites, takesSlot } from './stage-order.js';
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
  ocrStage, // burned-in subtitles and on-screen text (reads frames from the start, awaits shots and segments)
  facesStage, // face tracks, identities, FACE spans (reads frames from the start, awaits shots)
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
    if (chosen.has(stage.name)) for (const need of allNeeds(stage)) chosen.add(need);
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


/** What the running job shares between its stages. */
interface JobRun {
  deps: PipelineDeps;
  hooks: PipelineHooks;
  videoId: string;
  stages: readonly PipelineStage[];
  outputs: Record<string, unknown>;
  done: Set<string>;
  /** Progress inside each running stage, 0..1. */
  running: Map<string, number>;
  totalWeight: number;
  source: MediaSource;
  /** Aborted when an essential stage fails: the other stages stop. */
  failed: AbortController;
  /** Resolved when that stage is done (checkpointed), for stages that await it. */
  finished: Map<string, { promise: Promise<void>; resolve(): void }>;
  report(stage: string): void;
}

/** Completed stages in pipeline order (what a resumed job skips). */
function doneInOrder(run: JobRun): string[] {
  return run.stages.filter((s) => run.done.has(s.name)).map((s) => s.name);
}

function progressOf(run: JobRun): number {
  let weight = 0;
  for (const stage of run.stages) {
    if (run.done.has(stage.name)) weight += stage.weight;
    else weight += stage.weight * (run.running.get(stage.name) ?? 0);
  }
  return weight / run.totalWeight;
}

/** The catalog artifact with the job's decode counts (SourceStats); no stage has this name. */
export const DECODES_ARTIFACT = 'decodes';

/** Reloads the checkpoints of stages a resumed job already finished. */
async function reloadCheckpoints(run: JobRun, stagesDone: readonly string[]): Promise<void> {
  for (const stage of run.stages) {
    if (!stagesDone.includes(stage.name)) continue;
    const saved = await run.deps.store.catalog.getArtifact<unknown>(run.videoId, stage.name);
    // Marked done but its checkpoint is gone: it runs again.
    if (saved === null) continue;
    run.outputs[stage.name] = saved;
    markDone(run, stage.name);
  }
}

function markDone(run: JobRun, stage: string): void {
  run.done.add(stage);
  run.finished.get(stage)?.resolve();
}

/** What a stage waits for inside its run: its `awaits` and the chosen ones of its `awaitsAfter`. */
function inRunPrerequisites(run: JobRun, stage: PipelineStage): string[] {
  return [...(stage.awaits ?? []), ...(stage.awaitsAfter ?? []).filter((name) => run.finished.has(name))];
}

/** Resolves once every stage of `names` that this job runs is done; rejects when `signal` aborts. */
async function whenDone(run: JobRun, names: readonly string[], signal: AbortSignal): Promise<void> {
  const pending = names.flatMap((name) => (run.done.has(name) ? [] : [run.finished.get(name)?.promise ?? Promise.resolve()]));
  if (pending.length === 0) return;
  signal.throwIfAborted();
  await Promise.race([Promise.all(pending), rejectOnAbort(signal)]);
}

/** Runs one stage to its checkpoint; an essential stage's failure is thrown. */
async function runStage(run: JobRun, stage: PipelineStage): Promise<void> {
  const { deps, hooks, videoId } = run;
  // Running from the first instant: a decode the other stages start now serves this stage too.
  run.running.set(stage.name, 0);
  const video = (await deps.store.catalog.getVideo(videoId)) as VideoRecord;
  let lastReport = 0;
  const report = (fraction: number): void => {
    const now = Date.now();
    if (now - lastReport < PROGRESS_INTERVAL_MS) return;
    lastReport = now;
    run.running.set(stage.name, Math.min(1, Math.max(0, fraction)));
    run.report(stage.name);
  };
  // The stage sees the deadline through its signal (ffmpeg children are killed, loops stop).
  const timeoutMs = stageTimeoutMs(deps.config, video.durationSec);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new StageTimeoutError(stage.name, timeoutMs)), timeoutMs);
  const signal = AbortSignal.any([hooks.signal, run.failed.signal, deadline.signal]);
  const log = deps.log.child({ stage: stage.name });
  const ctx: StageContext = {
    ...deps, video, signal, log, source: run.source.forStage(stage.name), reportProgress: report,
    awaitPrerequisites: () => whenDone(run, inRunPrerequisites(run, stage), signal),
  };

  run.report(stage.name);
  const started = performance.now();
  const elapsedSec = (): number => (performance.now() - started) / 1000;
  let output: unknown;
  try {
    // The race fails the job at the deadline even when a model call cannot be interrupted.
    output = await Promise.race([stage.run(ctx, run.outputs), rejectOnAbort(deadline.signal)]);
    stageDuration.observe({ stage: stage.name, outcome: 'done' }, elapsedSec());
  } catch (err) {
    const outcome = hooks.signal.aborted || run.failed.signal.aborted ? 'aborted' : deadline.signal.aborted ? 'timeout' : 'failed';
    stageDuration.observe({ stage: stage.name, outcome }, elapsedSec());
    throwIfAborted(hooks.signal);
    // Stopped because another stage failed the job: not this stage's result to record.
    throwIfAborted(run.failed.signal);
    const failure: unknown = deadline.signal.aborted ? deadline.signal.reason : err;
    if (ESSENTIAL_STAGES.has(stage.name)) throw essentialStageError(stage.name, video.path, failure);
    // An enrichment stage that fails is recorded in its checkpoint; the video stays searchable.
    log.warn({ err: errorMessage(failure) }, 'stage failed; the job goes on without it');
    output = { failed: true, reason: errorMessage(failure) } satisfies FailedStageOutput;
  } finally {
    clearTimeout(timer);
    run.source.stageFinished(stage.name);
  }
  await deps.store.catalog.putArtifact(videoId, stage.name, output ?? null);
  run.outputs[stage.name] = output;
  run.running.delete(stage.name);
  markDone(run, stage.name);
  log.debug({ ms: Math.round(performance.now() - started) }, 'stage finished');
  run.report(stage.name);
}

/**
 * Starts every stage whose prerequisites are done, heaviest chain first and at most `limit` at
 * once (stages that wait inside their run take no slot: they read the shared decode, which the
 * slotted stages drive, or do early what needs no other stage), until all are done.
 */
async function schedule(run: JobRun, limit: number): Promise<void> {
  const prerequisites = stagePrerequisites(run.stages);
  const pathWeights = criticalPathWeights(run.stages);
  // Stable: equal chains keep the listed order.
  const byClaim = [...run.stages].sort((a, b) => pathWeights.get(b.name)! - pathWeights.get(a.name)!);
  const inFlight = new Map<string, Promise<void>>();
  const slots = new Set<string>();
  let failure: { error: unknown } | null = null;
  const isReady = (stage: PipelineStage): boolean =>
    !run.done.has(stage.name) && !inFlight.has(stage.name) && prerequisites.get(stage.name)!.every((name) => run.done.has(name));
  for (;;) {
    for (const stage of byClaim) {
      if (failure || run.hooks.signal.aborted) break;
      if (!isReady(stage)) continue;
      const slotted = takesSlot(stage);
      if (slotted && slots.size >= limit) continue;
      if (slotted) slots.add(stage.name);
      const running = runStage(run, stage).catch((error: unknown) => {
        failure ??= { error };
        run.failed.abort(error);
      });
      inFlight.set(
        stage.name,
        running.finally(() => {
          inFlight.delete(stage.name);
          slots.delete(stage.name);
        }),
      );
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight.values());
  }
  throwIfAborted(run.hooks.signal);
  if (failure) throw (failure as { error: unknown }).error;
}

export async function runIndexPipeline(
  deps: PipelineDeps,
  job: JobRecord,
  hooks: PipelineHooks,
  stages: readonly PipelineStage[] = selectStages(INDEX_STAGES, deps.config.indexing.enrichmentStages),
): Promise<void> {
  const { store } = deps;
  checkStageOrder(stages);
  if (!job.videoId) throw new AppError('BAD_USER_INPUT', `job ${job.id} names no video`);
  const videoId = job.videoId;
  const initial = await store.catalog.getVideo(videoId);
  if (!initial) throw new AppError('NOT_FOUND', `video ${videoId} of job ${job.id} no longer exists`);
  const wasReady = initial.status === 'READY';
  await store.catalog.updateVideo(videoId, { status: wasReady ? 'READY' : 'INDEXING', error: null });

  let reporting: Promise<void> = Promise.resolve();
  let reported = 0;
  const run: JobRun = {
    deps, hooks, videoId, stages, outputs: {}, done: new Set(), running: new Map(), failed: new AbortController(),
    finished: new Map(stages.map((s) => [s.name, deferred()])),
    totalWeight: stages.reduce((sum, s) => sum + s.weight, 0),
    source: null as unknown as MediaSource,
    // Reports go out one at a time, and progress never goes back while stages overlap.
    report: (stage) => {
      reported = Math.max(reported, progressOf(run));
      const progress: PipelineProgress = { stage, progress: reported, stagesDone: doneInOrder(run) };
      reporting = reporting.then(() => hooks.onProgress(progress));
    },
  };
  run.source = jobSource(run, initial.path);
  try {
    await reloadCheckpoints(run, job.stagesDone);
    await schedule(run, deps.config.indexing.stageConcurrency);
    // What this run decoded (a resumed run counts only its own decodes), beside the checkpoints.
    await store.catalog.putArtifact(videoId, DECODES_ARTIFACT, run.source.stats);
    await reporting;
    await store.catalog.updateVideo(videoId, { status: 'READY', error: null });
  } catch (err) {
    await reporting.catch(() => undefined);
    if (!hooks.signal.aborted) {
      // A failed re-index keeps the previous results searchable; a first index is marked FAILED.
      await store.catalog.updateVideo(videoId, { status: wasReady ? 'READY' : 'FAILED', error: errorMessage(err) });
    }
    throw err;
  } finally {
    run.source.close();
    deps.log.debug({ videoId, ...run.source.stats }, 'decodes of the job');
  }
}

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The job's shared decodes, told which stages can start and what each will read. */
function jobSource(run: JobRun, filePath: string): MediaSource {
  const prerequisites = stagePrerequisites(run.stages);
  return new MediaSource({
    tools: run.deps.media,
    filePath,
    signal: AbortSignal.any([run.hooks.signal, run.failed.signal]),
    stageState: (name) => {
      if (run.done.has(name)) return 'done';
      if (run.running.has(name)) return 'running';
      return prerequisites.get(name)?.every((n) => run.done.has(n)) ? 'ready' : 'waiting';
    },
    // The segments stage stores the shots: before it is done, stored shots are a previous index's.
    shotKeyframeTimes: async () => (run.done.has('segments') ? (await run.deps.store.catalog.getShots(run.videoId)).map((s) => s.keyframeTime) : null),
    declarations: async () => {
      const video = (await run.deps.store.catalog.getVideo(run.videoId)) as VideoRecord;
      return run.stages.flatMap((s) => (s.media && !run.done.has(s.name) ? [{ stage: s.name, needs: s.media(video, run.deps.config) }] : []));
    },
  });
}
