// Indexing in a child process that exits when done. The models the pipeline loads (faces, OCR,
// voice, objects, MobileNet: ~600 MB, much of it WASM heaps that never shrink) go with it, so a
// process that indexes once and then serves (the demo) idles at the serving footprint.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import type { IndexVideoRequest, JobRecord, VideoRecord } from '../domain.js';
import { AppError, SetupError, type ErrorCode } from '../errors.js';

/** The parent's one message: what to index, with the config as the parent resolved it. */
export interface IndexChildTask {
  config: Config;
  request: IndexVideoRequest;
}

export type IndexChildMessage =
  | { kind: 'progress'; job: JobRecord }
  | { kind: 'done'; video: VideoRecord }
  /** `code` of an AppError; `setup` for a SetupError: both stay one-line errors in the parent. */
  | { kind: 'failed'; code: ErrorCode | null; setup: boolean; message: string };

export function isIndexChildMessage(value: unknown): value is IndexChildMessage {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return kind === 'progress' || kind === 'done' || kind === 'failed';
}

function rebuildError(failure: Extract<IndexChildMessage, { kind: 'failed' }>): Error {
  if (failure.code) return new AppError(failure.code, failure.message);
  return failure.setup ? new SetupError(failure.message) : new Error(failure.message);
}

/**
 * Indexes `request` in a forked Node process (index-child-main.js) and resolves with the video.
 * A failure in the child rejects with its message (an AppError keeps its code); a child that dies
 * without answering rejects with its exit code or signal.
 */
export function indexInChildProcess(
  task: IndexChildTask,
  onProgress: (job: JobRecord) => void = () => undefined,
  /** The compiled child entry (tests under vitest run TypeScript sources and name dist's). */
  script = fileURLToPath(new URL('./index-child-main.js', import.meta.url)),
): Promise<VideoRecord> {
  if (!existsSync(script)) return Promise.reject(new Error(`${script} is missing: build with \`npm run build\``));
  // 'advanced' serialisation: the config holds a Map (API keys), which JSON would drop.
  const child = fork(script, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise<VideoRecord>((resolve, reject) => {
    let answer: IndexChildMessage | null = null;
    child.on('message', (message: unknown) => {
      if (!isIndexChildMessage(message)) return;
      if (message.kind === 'progress') onProgress(message.job);
      else answer = message;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (answer?.kind === 'done') return resolve(answer.video);
      if (answer?.kind === 'failed') return reject(rebuildError(answer));
      reject(new Error(`the indexing process ended (${signal ?? `exit code ${code}`}) before it finished`));
    });
    child.send(task satisfies IndexChildTask);
  });
}
