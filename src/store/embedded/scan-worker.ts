// Body of a scan thread (sharded-codes.ts): owns one shard's int8 codes in its own ArrayBuffer
// (usearch reads no SharedArrayBuffer), applies the writes the matrix sends in order, and
// answers scans of its rows in its own slot numbers.
import { parentPort } from 'node:worker_threads';
import { nearestAmong, nearestCodes, simdModule } from './code-scan.js';
import { SHARD_OP, type ShardReply, type ShardRequest } from './shard-protocol.js';

const port = parentPort!;
const native = simdModule();
let dim = 0;
let codes: Int8Array = new Int8Array(0);
let size = 0;

function reserve(rows: number): void {
  if (rows * dim <= codes.length) return;
  const grown = new Int8Array(Math.max(codes.length * 2, rows * dim));
  grown.set(codes);
  codes = grown;
}

/**
 * Whether the first `opCount` of `ops` only append slots 0, 1, … with their bytes in order (a
 * first load): the bytes can be adopted as they are, spare room included.
 */
function isFirstLoad(ops: Int32Array, opCount: number, bytes: Int8Array): boolean {
  if (size !== 0 || bytes.byteOffset !== 0) return false;
  for (let i = 0; i < opCount; i += 3) if (ops[i] !== SHARD_OP.write || ops[i + 1] !== i / 3 || ops[i + 2] !== (i / 3) * dim) return false;
  return true;
}

function apply(ops: Int32Array, opCount: number, bytes: Int8Array): void {
  if (isFirstLoad(ops, opCount, bytes)) {
    codes = bytes;
    size = opCount / 3;
    return;
  }
  for (let i = 0; i < opCount; i += 3) {
    const [op, a, b] = [ops[i]!, ops[i + 1]!, ops[i + 2]!];
    if (op === SHARD_OP.write) {
      reserve(a + 1);
      codes.set(bytes.subarray(b, b + dim), a * dim);
      size = Math.max(size, a + 1);
    } else {
      size -= 1;
      codes.copyWithin(a * dim, size * dim, (size + 1) * dim);
    }
  }
}

function answer(request: ShardRequest): ShardReply | null {
  switch (request.type) {
    case 'init':
      dim = request.dim;
      return null;
    case 'apply':
      apply(request.ops, request.opCount, request.bytes);
      return null;
    case 'nearest':
      return { id: request.id, ok: true, ...nearestCodes(native!, codes.subarray(0, size * dim), dim, request.query, request.k, request.metric) };
    case 'among':
      return { id: request.id, ok: true, ...nearestAmong(codes, dim, request.slots, request.query, request.k) };
  }
}

port.on('message', (request: ShardRequest) => {
  try {
    const reply = answer(request);
    if (reply) port.postMessage(reply);
  } catch (error) {
    if ('id' in request) port.postMessage({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies ShardReply);
    else throw error;
  }
});
