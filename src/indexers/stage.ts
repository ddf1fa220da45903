// The contract every pipeline stage follows: `(ctx, input) => output` with typed data.
// pipeline.ts runs stages in order and checkpoints each output as a catalog artifact, so a
// job resumed after a crash skips finished stages and later stages reuse earlier results.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { VideoRecord } from '../domain.js';
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
  /** Progress inside the current stage, 0..1. */
  reportProgress(fraction: number): void;
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
  run(ctx: StageContext, input: I): Promise<O>;
}
