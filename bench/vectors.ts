// Vector search: the embedded store's exact scan (through VectorIndex, SQLite included) against an
// HNSW graph (usearch), on CLUSTERED synthetic vectors (real embeddings bunch around identities
// and scenes, which is where approximate search loses recall). Prints one JSON line per run:
// {n, dim, method, buildSec, p50Ms, p99Ms, recallAt10, ...}.
//   node dist/bench/vectors.js [n:dim ...]       default: 100000:512 1000000:64
//   VECTOR_BENCH_QUERIES=200 (default 100); VECTOR_BENCH_METHODS=exact,exact-js,hnsw (default all)
// exact: the store path (SQLite + in-memory matrix, native SIMD scan when usearch loads);
// exact-js: the same matrix forced onto the JS loop; hnsw: a usearch HNSW graph, index only.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openEmbeddedStore } from '../src/store/embedded/index.js';
import { nativeScanAvailable, VectorMatrix } from '../src/store/embedded/vector-matrix.js';
import type { VectorPoint } from '../src/store/interfaces.js';
import { seededRandom } from '../src/seeded-random.js';

const K = 10;
const QUERIES = Number(process.env.VECTOR_BENCH_QUERIES ?? 100);
const UPSERT_BATCH = 10_000;
const METHODS = new Set((process.env.VECTOR_BENCH_METHODS ?? 'exact,exact-js,hnsw').split(','));
const configs = (process.argv.slice(2).length ? process.argv.slice(2) : ['100000:512', '1000000:64']).map((arg) => {
  const [n, dim] = arg.split(':').map(Number);
  if (!n || !dim) throw new Error(`bad config "${arg}": expected n:dim`);
  return { n, dim };
});

const random = seededRandom(7);

/** Standard normal draw (Box-Muller). */
function gaussian(): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** n vectors around n/250 (at least 100) random centroids; spread 0.35 of a centroid's norm. */
function clustered(n: number, dim: number): { data: Float32Array; centroids: Float32Array[] } {
  const centroids = Array.from({ length: Math.max(100, Math.round(n / 250)) }, () => Float32Array.from({ length: dim }, gaussian));
  const spread = 0.35;
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i += 1) {
    const c = centroids[Math.floor(random() * centroids.length)]!;
    for (let j = 0; j < dim; j += 1) data[i * dim + j] = c[j]! + spread * gaussian();
  }
  return { data, centroids };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function timings(samples: number[]): { p50Ms: number; p99Ms: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return { p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)) };
}

function recall(found: readonly string[][], truth: readonly string[][]): number {
  let hits = 0;
  found.forEach((ids, q) => {
    const expected = new Set(truth[q]);
    hits += ids.filter((id) => expected.has(id)).length;
  });
  return Math.round((hits / (truth.length * K)) * 1000) / 1000;
}

interface UsearchModule {
  Index: new (config: { dimensions: number; metric: string; connectivity: number; expansion_add: number; expansion_search: number }) => {
    add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
    search(vector: Float32Array, k: number, threads?: number): { keys: BigUint64Array };
  };
}

function loadUsearch(): UsearchModule | string {
  try {
    return createRequire(import.meta.url)('usearch') as UsearchModule;
  } catch (err) {
    return `usearch unavailable: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
}

/** The embedded VectorIndex as the application uses it: SQLite-durable points, in-memory exact scan. */
async function benchStore(n: number, dim: number, row: (i: number) => Float32Array, queries: Float32Array[], truth: string[][]): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vidsearch-vector-bench-'));
  try {
    const store = await openEmbeddedStore(dir);
    const buildStart = performance.now();
    await store.vectors.ensureCollection({ name: 'bench', dim, metric: 'cosine', modelId: 'synthetic' });
    for (let start = 0; start < n; start += UPSERT_BATCH) {
      const points: VectorPoint[] = [];
      for (let i = start; i < Math.min(n, start + UPSERT_BATCH); i += 1) points.push({ id: String(i), vector: row(i), payload: { videoId: `v${i % 500}` } });
      await store.vectors.upsert('bench', points);
    }
    const writeSec = (performance.now() - buildStart) / 1000;
    await store.vectors.search('bench', queries[0]!, K); // loads the matrix from SQLite
    const buildSec = (performance.now() - buildStart) / 1000;
    const samples: number[] = [];
    const found: string[][] = [];
    for (const q of queries) {
      const t0 = performance.now();
      const hits = await store.vectors.search('bench', q, K);
      samples.push(performance.now() - t0);
      found.push(hits.map((h) => h.id));
    }
    const filtered: number[] = [];
    for (const q of queries.slice(0, 20)) {
      const t0 = performance.now();
      await store.vectors.search('bench', q, K, { videoIds: ['v1', 'v2', 'v3'] });
      filtered.push(performance.now() - t0);
    }
    await store.close();
    console.log(
      JSON.stringify({
        n,
        dim,
        method: 'exact',
        nativeScan: nativeScanAvailable(),
        buildSec: Math.round(buildSec * 10) / 10,
        sqliteWriteSec: Math.round(writeSec * 10) / 10,
        ...timings(samples),
        recallAt10: recall(found, truth),
        filteredP50Ms: timings(filtered).p50Ms,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const { n, dim } of configs) {
  const { data, centroids } = clustered(n, dim);
  const queries = Array.from({ length: QUERIES }, () => {
    const c = centroids[Math.floor(random() * centroids.length)]!;
    return Float32Array.from(c, (x) => x + 0.35 * gaussian());
  });
  const row = (i: number) => data.subarray(i * dim, (i + 1) * dim);

  // Ground truth: the JS exact scan of the same vectors.
  const reference = new VectorMatrix(dim, 'cosine', n, false);
  for (let i = 0; i < n; i += 1) reference.set(String(i), row(i), {});
  const jsSamples: number[] = [];
  const truth: string[][] = [];
  for (const q of queries) {
    const t0 = performance.now();
    truth.push((await reference.search(q, K)).map((h) => h.id));
    jsSamples.push(performance.now() - t0);
  }
  if (METHODS.has('exact-js')) console.log(JSON.stringify({ n, dim, method: 'exact-js', buildSec: 0, ...timings(jsSamples), recallAt10: 1 }));

  if (METHODS.has('exact')) await benchStore(n, dim, row, queries, truth);
  if (!METHODS.has('hnsw')) continue;

  // hnsw: usearch over the same vectors (index only; no durability, no payload filters).
  const usearch = loadUsearch();
  if (typeof usearch === 'string') {
    console.log(JSON.stringify({ n, dim, method: 'hnsw-usearch', error: usearch }));
    continue;
  }
  for (const expansionSearch of [64, 128]) {
    const buildStart = performance.now();
    const index = new usearch.Index({ dimensions: dim, metric: 'cos', connectivity: 16, expansion_add: 128, expansion_search: expansionSearch });
    index.add(BigUint64Array.from({ length: n }, (_, i) => BigInt(i)), data, 0);
    const buildSec = (performance.now() - buildStart) / 1000;
    const samples: number[] = [];
    const found: string[][] = [];
    for (const q of queries) {
      const t0 = performance.now();
      const { keys } = index.search(q, K, 1);
      samples.push(performance.now() - t0);
      found.push(Array.from(keys, (key) => String(key)));
    }
    console.log(
      JSON.stringify({
        n,
        dim,
        method: 'hnsw-usearch',
        params: { connectivity: 16, expansionAdd: 128, expansionSearch },
        buildSec: Math.round(buildSec * 10) / 10,
        ...timings(samples),
        recallAt10: recall(found, truth),
        threadsBuild: 'all cores',
      }),
    );
  }
}
