// A large matrix's int8 codes split across scan threads: each thread owns a disjoint part of the
// rows (its shard) in its own ArrayBuffer, so the codes are held once, and one search scans every
// shard at the same time (both cores on a 2-core machine) while this thread stays free for the
// next query's JavaScript. Each shard numbers its rows 0..size-1 (slots); this side maps the
// matrix's rows to (shard, slot) and back, and queues writes per shard, sent before the next scan
// (a first load goes over as one transferred buffer per shard, adopted without a copy).
// A thread that dies loses its shard: every waiting and later call fails with a typed error and
// `lost` tells the owner to load the matrix again (with new threads).
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError } from '../../errors.js';
import type { CodeCandidates, CodeMetric } from './code-scan.js';
import { grownCopy, type RowCodes } from './row-codes.js';
import { SHARD_OP, type ShardReply, type ShardRequest } from './shard-protocol.js';

/** Scan threads per sharded matrix: VIDSEARCH_SCAN_THREADS, else one per core. */
export function scanThreadCount(env: NodeJS.ProcessEnv = process.env): number {
  const configured = Number.parseInt(env.VIDSEARCH_SCAN_THREADS ?? '', 10);
  return Number.isInteger(configured) && configured >= 0 ? configured : availableParallelism();
}

/** The compiled scan-thread script, or null where there is none (tests on the TypeScript sources). */
export function scanWorkerScript(): URL | null {
  const script = new URL('./scan-worker.js', import.meta.url);
  return existsSync(fileURLToPath(script)) ? script : null;
}

/** One shard's writes not sent yet. */
class PendingWrites {
  ops: Int32Array<ArrayBuffer> = new Int32Array(0);
  opCount = 0;
  bytes: Int8Array<ArrayBuffer> = new Int8Array(0);
  byteCount = 0;

  constructor(private readonly dim: number) {}

  reserve(writes: number): void {
    if (this.opCount + 3 * writes > this.ops.length) this.ops = grownCopy(this.ops, this.opCount + 3 * writes);
    if (this.byteCount + writes * this.dim > this.bytes.length) this.bytes = grownCopy(this.bytes, this.byteCount + writes * this.dim);
  }

  push(op: number, slot: number, codes: Int8Array | null): void {
    this.reserve(1);
    this.ops.set([op, slot, codes ? this.byteCount : 0], this.opCount);
    this.opCount += 3;
    if (!codes) return;
    this.bytes.set(codes, this.byteCount);
    this.byteCount += this.dim;
  }

  /**
   * The queued writes as a message, and empty again. The arrays go whole (transferred, never
   * copied: a first load's are the shard's size) with the count of ops used.
   */
  take(): { ops: Int32Array<ArrayBuffer>; opCount: number; bytes: Int8Array<ArrayBuffer> } {
    const taken = { ops: this.ops, opCount: this.opCount, bytes: this.bytes };
    this.ops = new Int32Array(0);
    this.bytes = new Int8Array(0);
    this.opCount = this.byteCount = 0;
    return taken;
  }
}

interface Shard {
  worker: Worker;
  size: number;
  /** The matrix row held in each slot. */
  rowOf: Int32Array<ArrayBuffer>;
  pending: PendingWrites;
}

export class ShardedRowCodes implements RowCodes {
  private readonly shards: Shard[];
  /** Each matrix row's shard and slot. */
  private shardOf: Uint8Array<ArrayBuffer>;
  private slotOf: Int32Array<ArrayBuffer>;
  private count = 0;
  private readonly waiting = new Map<number, { resolve(reply: CodeCandidates): void; reject(error: Error): void }>();
  private nextId = 0;
  lost = false;
  /** Set by close: the threads end once the scans under way have answered. */
  private closing = false;

  constructor(
    private readonly dim: number,
    capacity: number,
    threads: number,
    script: URL,
  ) {
    this.shardOf = new Uint8Array(capacity);
    this.slotOf = new Int32Array(capacity);
    this.shards = Array.from({ length: threads }, () => this.startShard(script, Math.ceil(capacity / threads)));
  }

  private startShard(script: URL, capacity: number): Shard {
    const worker = new Worker(script);
    worker.on('message', (reply: ShardReply) => this.settle(reply));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`exited with code ${code}`)));
    worker.unref();
    worker.postMessage({ type: 'init', dim: this.dim } satisfies ShardRequest);
    const pending = new PendingWrites(this.dim);
    pending.reserve(capacity);
    return { worker, size: 0, rowOf: new Int32Array(capacity), pending };
  }

  private settle(reply: ShardReply): void {
    const waiter = this.waiting.get(reply.id);
    if (!waiter) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.idle();
    if (reply.ok) waiter.resolve(reply);
    else waiter.reject(new AppError('INTERNAL_SERVER_ERROR', `vector scan failed: ${reply.error}`));
  }

  /** No scan under way: the threads do not hold the process up, and end if closed. */
  private idle(): void {
    for (const shard of this.shards) shard.worker.unref();
    if (this.closing) void this.terminate();
  }

  private fail(cause: Error): void {
    if (this.lost) return;
    this.lost = true;
    const error = new AppError('INTERNAL_SERVER_ERROR', `a vector scan thread died (${cause.message}); the matrix is loaded again on the next search`);
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
    void this.terminate();
  }

  reserve(rows: number): void {
    if (rows <= this.shardOf.length) return;
    this.shardOf = grownCopy(this.shardOf, rows);
    this.slotOf = grownCopy(this.slotOf, rows);
  }

  write(row: number, codes: Int8Array): void {
    if (row === this.count) this.append(row);
    const shard = this.shards[this.shardOf[row]!]!;
    shard.pending.push(SHARD_OP.write, this.slotOf[row]!, codes);
  }

  /** Places a new row in the smallest shard. */
  private append(row: number): void {
    this.reserve(row + 1);
    let index = 0;
    for (let i = 1; i < this.shards.length; i += 1) if (this.shards[i]!.size < this.shards[index]!.size) index = i;
    const shard = this.shards[index]!;
    if (shard.size === shard.rowOf.length) shard.rowOf = grownCopy(shard.rowOf, shard.size + 1);
    this.place(row, index, shard.size);
    shard.size += 1;
    this.count += 1;
  }

  private place(row: number, shardIndex: number, slot: number): void {
    this.shardOf[row] = shardIndex;
    this.slotOf[row] = slot;
    this.shards[shardIndex]!.rowOf[slot] = row;
  }

  remove(row: number): void {
    const freedShard = this.shardOf[row]!;
    const freedSlot = this.slotOf[row]!;
    const last = this.count - 1;
    // The matrix's last row takes `row`'s number; then the freed slot takes its shard's last slot.
    if (row !== last) this.place(row, this.shardOf[last]!, this.slotOf[last]!);
    const shard = this.shards[freedShard]!;
    shard.size -= 1;
    if (freedSlot !== shard.size) this.place(shard.rowOf[shard.size]!, freedShard, freedSlot);
    shard.pending.push(SHARD_OP.remove, freedSlot, null);
    this.count = last;
  }

  async nearest(query: Int8Array, k: number, metric: CodeMetric): Promise<CodeCandidates> {
    return this.askEveryShard(() => ({ query, k, metric, type: 'nearest' }));
  }

  async nearestAmong(rows: readonly number[], query: Int8Array, k: number): Promise<CodeCandidates> {
    const slots = this.shards.map(() => [] as number[]);
    for (const row of rows) slots[this.shardOf[row]!]!.push(this.slotOf[row]!);
    return this.askEveryShard((index) => (slots[index]!.length > 0 ? { type: 'among', slots: Int32Array.from(slots[index]!), query, k } : null));
  }

  /** Sends each shard its queued writes and then its scan (none: skipped), and merges the answers in matrix rows. */
  private async askEveryShard(scanOf: (index: number) => DistributiveOmit<Extract<ShardRequest, { id: number }>, 'id'> | null): Promise<CodeCandidates> {
    if (this.lost || this.closing) throw new AppError('INTERNAL_SERVER_ERROR', 'the vector scan threads are gone; the matrix is loaded again on the next search');
    const answers = await Promise.all(
      this.shards.map(async (shard, index) => {
        this.flush(shard);
        const scan = shard.size > 0 ? scanOf(index) : null;
        if (!scan) return { rows: [], distances: [] };
        const reply = await this.ask(shard, scan);
        return { rows: reply.rows.map((slot) => shard.rowOf[slot]!), distances: reply.distances };
      }),
    );
    return { rows: answers.flatMap((a) => a.rows), distances: answers.flatMap((a) => a.distances) };
  }

  private flush(shard: Shard): void {
    if (shard.pending.opCount === 0) return;
    const { ops, opCount, bytes } = shard.pending.take();
    shard.worker.postMessage({ type: 'apply', ops, opCount, bytes } satisfies ShardRequest, [ops.buffer, bytes.buffer]);
  }

  private ask(shard: Shard, scan: DistributiveOmit<Extract<ShardRequest, { id: number }>, 'id'>): Promise<CodeCandidates> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) for (const each of this.shards) each.worker.ref();
      this.waiting.set(id, { resolve, reject });
      shard.worker.postMessage({ ...scan, id } as ShardRequest);
    });
  }

  /** Ends the threads once the scans under way have answered. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.waiting.size === 0) await this.terminate();
  }

  private async terminate(): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.worker.terminate()));
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
