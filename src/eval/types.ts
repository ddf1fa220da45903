// The shape of one `vidsearch eval` task (see ../shared/EVAL.md). A task gets a fresh
// temporary app (embedded store, real pipeline, real services) and returns its metrics object,
// which the CLI prints as the last line of stdout.
import type { App } from '../app.js';

export interface EvalContext {
  app: App;
  /** Resolves a manifest-relative path; throws EvalInputError when the file is missing. */
  resolve(relativePath: string): string;
  /** Extra CLI flags, e.g. `--baseline colorlayout` → { baseline: 'colorlayout' }. */
  options: Record<string, string | boolean>;
  /** Progress lines go to stderr. */
  progress(message: string): void;
  /** Indexes the manifest's videos through the real pipeline; manifest id → stored video id. */
  indexVideos(videos: readonly { id: string; path: string }[]): Promise<Map<string, string>>;
}

export interface EvalTask {
  readonly task: string;
  run(manifest: Record<string, unknown>, ctx: EvalContext): Promise<Record<string, unknown>>;
}

/** A bad manifest or missing file: the CLI prints the message and exits with code 2. */
export class EvalInputError extends Error {
  override name = 'EvalInputError';
}
