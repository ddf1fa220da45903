// Body of a scan thread (sharded-codes.ts): owns one shard's int8 codes in its own ArrayBuffer
// (usearch reads no SharedArrayBuffer), applies the writes the matrix sends in order, and
// answers scans of its rows in its own slot numbers. The shard is a LocalRowCodes: the same
// writes, removals and scans as a matrix whose codes stay in process.
import { parentPort } from 'node:worker_threads';
import { LocalRowCodes } from './row-codes.js';
import { SHARD_OP, type ShardReply, type ShardRequest } from './shard-protocol.js';

const port = parentPort!;
let dim = 0;
let shard = new LocalRowCodes(0, 0);

/**
 * Whether the first `opCount` of `ops` only append slots 0, 1, … with their bytes in order (a
 * first load): the bytes can be adopted as they are, spare room included.
 */
function isFirstLoad(ops: Int32Array, opCount: number, bytes: Int8Array): boolean {
  if (shard.size !== 0 || bytes.byteOffset !== 0) return false;
  for (let i = 0; i < opCount; i += 3) if (ops[i] !== SHARD_OP.write || ops[i + 1] !== i / 3 || ops[i + 2] !== (i / 3) * dim) return false;
  return true;
}

function apply(ops: Int32Array, opCount: number, bytes: Int8Array<ArrayBuffer>): void {
  if (isFirstLoad(ops, opCount, bytes)) {
    shard = LocalRowCodes.adopting(dim, bytes, opCount / 3);
    return;
  }
  for (let i = 0; i < opCount; i += 3) {
    const [op, slot, offset] = [ops[i]!, ops[i + 1]!, ops[i + 2]!];
    if (op === SHARD_OP.write) shard.write(slot, bytes.subarray(offset, offset + dim));
    else shard.remove(slot);
  }
}

/** The reply to `request` (null: none expected). Scans run synchronously inside the call, so they see exactly the writes applied before them. */
async function answer(request: ShardRequest): Promise<ShardReply | null> {
  switch (request.type) {
    case 'init':
      dim = request.dim;
      shard = new LocalRowCodes(dim, 0);
      return null;
    case 'apply':
      apply(request.ops, request.opCount, request.bytes);
      return null;
    case 'nearest':
      return { id: request.id, ok: true, ...(await shard.nearest(request.query, request.k, request.metric)) };
    case 'among':
      return { id: request.id, ok: true, ...(await shard.nearestAmong(request.slots, request.query, request.k)) };
  }
}

port.on('message', (request: ShardRequest) => {
  answer(request).then(
    (reply) => reply && port.postMessage(reply),
    (error: unknown) => {
      if (!('id' in request)) throw error;
      port.postMessage({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies ShardReply);
    },
  );
});
