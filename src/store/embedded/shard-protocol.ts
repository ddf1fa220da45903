// Messages between a sharded matrix (sharded-codes.ts) and its scan threads (scan-worker.ts).
import type { CodeCandidates, CodeMetric } from './code-scan.js';

/**
 * Write ops come as triples: [write, slot, byte offset of its codes] or [remove, slot, 0] (the last
 * slot moves into it); an apply message's arrays may be longer than the ops and codes they hold.
 */
export const SHARD_OP = { write: 1, remove: 2 } as const;

export type ShardRequest =
  | { type: 'init'; dim: number }
  | { type: 'apply'; ops: Int32Array<ArrayBuffer>; opCount: number; bytes: Int8Array<ArrayBuffer> }
  | { type: 'nearest'; id: number; query: Int8Array; k: number; metric: CodeMetric }
  | { type: 'among'; id: number; slots: Int32Array; query: Int8Array; k: number };

export type ShardReply = ({ id: number; ok: true } & CodeCandidates) | { id: number; ok: false; error: string };
