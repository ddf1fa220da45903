// The contract every pipeline stage follows: `(ctx, input) => output` with typed data.
// pipeline.ts runs stages side by side as soon as what they need is done, and checkpoints each
// output as a catalog artifact, so a job resumed after a crash skips finished stages and later
// stages reuse earlier results. Stages that read the video declare it (`media`), so one decode
// serves them all through `ctx.source`.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { VideoRecord } from '../domain.js';
import type { MediaNeeds, StageSource } from '../media/source.js';
import type { MediaTools } from '../media/tools.js';
import type { Store } from '../store/interfaces.js';

export interface StageContext {
  video: VideoRecord;
  store: Store;
  media: MediaTools;
  config: Config;
  log: Logger;
  /** Aborted when the job is cancelled or the process shuts down; stages pass it to ffmpeg. */
  signal: AbortSignal;
  /** The job's shared decodes; absent (a stage run on its own) → the stage decodes by itself. */
  source?: StageSource;
  /** Progress inside the current stage, 0..1. */
  reportProgress(fraction: number): void;
  /**
   * Resolves once the stage's `awaits` (and the chosen ones of its `awaitsAfter`) are done (rejects when the job stops). Absent when the stage
   * runs on its own (tests): what it awaits is taken as stored already.
   */
  awaitPrerequisites?(): Promise<void>;
}

/** Waits, inside a stage's run, for the stages it `awaits` (nothing to wait for outside a job). */
export async function awaitPrerequisites(ctx: StageContext): Promise<void> {
  await ctx.awaitPrerequisites?.();
}

export interface Stage<I, O> {
  /** Stable name: checkpoint key and the job's `stage` field. */
  readonly name: string;
  /** Relative cost, to turn stage progress into job progress. */
  readonly weight: number;
  /**
   * Earlier stages whose outputs this one reads from its input (or whose stored results it
   * reads); the pipeline refuses an order that runs a stage before what it needs.
   */
  readonly needs?: readonly string[];
  /**
   * Stages whose stored results this one reads when they run, without needing them: when both
   * are chosen this one waits for them; choosing this one does not bring them in.
   */
  readonly after?: readonly string[];
  /**
   * Stages this one needs but waits for inside `run` (awaitPrerequisites), so it starts once its
   * `needs` are done and reads the video from the start beside them: its per-frame work runs during
   * the job's one decode, and what needs these stages' results runs once they are done. Such a
   * stage does not take one of the job's stage slots (the shared decode paces it).
   */
  readonly awaits?: readonly string[];
  /**
   * Like `after` (this one reads their stored results when they run; choosing this one does not
   * bring them in), but waited for inside `run` like `awaits`: the stage starts once its `needs`
   * are done, does the work that needs none of these (voices: speech and speaker vectors during
   * the decode) and then waits at awaitPrerequisites. Takes no stage slot either.
   */
  readonly awaitsAfter?: readonly string[];
  /** What the stage will read from the video (called once the probe filled in the record). */
  media?(video: VideoRecord, config: Config): MediaNeeds;
  run(ctx: StageContext, input: I): Promise<O>;
}
